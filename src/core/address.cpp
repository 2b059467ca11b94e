#include "dsys/core/address.hpp"

#include <charconv>

#include <fmt/format.h>

namespace dsys::core {

namespace {
bool parse_number(std::string_view text, std::uint32_t max, std::uint32_t& out) {
  if (text.empty() || text.size() > 5) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out <= max;
}
}  // namespace

std::optional<Address> Address::parse(std::string_view text) {
  std::uint32_t ip = 0x7f000001;  // 127.0.0.1
  std::string_view port_text = text;
  if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    std::string_view host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host != "localhost") {
      ip = 0;
      for (int part = 0; part < 4; ++part) {
        auto dot = host.find('.');
        if ((part < 3) == (dot == std::string_view::npos)) return std::nullopt;
        std::uint32_t octet = 0;
        if (!parse_number(host.substr(0, dot), 255, octet)) return std::nullopt;
        ip = (ip << 8) | octet;
        host = part < 3 ? host.substr(dot + 1) : std::string_view{};
      }
    }
  }
  std::uint32_t port = 0;
  if (!parse_number(port_text, 65535, port) || port == 0) return std::nullopt;
  return Address::ipv4(ip, static_cast<std::uint16_t>(port));
}

std::string Address::to_string() const {
  if (!valid()) return "-";
  if (is_node()) return fmt::format("n{}", node_index());
  const std::uint32_t a = ip();
  return fmt::format("{}{}.{}.{}.{}:{}", is_unlisted() ? "client " : "", a >> 24, (a >> 16) & 255,
                     (a >> 8) & 255, a & 255, port());
}

}  // namespace dsys::core
