#include "dsys/net/host.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>

#include <fmt/format.h>

namespace dsys::net {

namespace {

std::string ip_text(std::uint32_t ip) {
  return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

bool parse_number(std::string_view text, std::uint32_t max, std::uint32_t& out) {
  if (text.empty() || text.size() > 5) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out <= max;
}

// A dotted quad, strictly: four numbers 0-255.
bool parse_dotted(std::string_view host, std::uint32_t& ip) {
  ip = 0;
  for (int part = 0; part < 4; ++part) {
    const auto dot = host.find('.');
    if ((part < 3) == (dot == std::string_view::npos)) return false;
    std::uint32_t octet = 0;
    if (host.substr(0, dot).size() > 3 || !parse_number(host.substr(0, dot), 255, octet)) {
      return false;
    }
    ip = (ip << 8) | octet;
    host = part < 3 ? host.substr(dot + 1) : std::string_view{};
  }
  return true;
}

// A host name as DNS and /etc/hosts have them: letters, digits, '-' and '.'.
bool plausible_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (const char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string HostPort::host() const {
  return ip_text(ip);
}

std::string HostPort::to_string() const {
  return fmt::format("{}:{}", ip_text(ip), port);
}

Result<HostPort, std::string> parse_host_port(std::string_view text, PortZero zero) {
  HostPort out;
  std::string_view port_text = text;
  const auto colon = text.rfind(':');
  if (colon != std::string_view::npos) {
    const std::string_view host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.empty()) return fmt::format("'{}' names no host before the ':'", text);
    if (host == "localhost") {
      out.ip = 0x7f000001;
    } else if (parse_dotted(host, out.ip)) {
      // a dotted quad
    } else if (host.find_first_not_of("0123456789.") == std::string_view::npos ||
               !plausible_name(host)) {
      return fmt::format("'{}': '{}' is not an IPv4 address (A.B.C.D, each 0-255) or a host name",
                         text, host);
    } else {
      addrinfo hints{};
      hints.ai_family = AF_INET;
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* found = nullptr;
      const std::string name(host);
      const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
      if (rc != 0 || found == nullptr) {
        return fmt::format("'{}': no IPv4 address for host '{}' ({})", text, host,
                           rc != 0 ? ::gai_strerror(rc) : "none found");
      }
      const auto* in = reinterpret_cast<const sockaddr_in*>(found->ai_addr);
      out.ip = ntohl(in->sin_addr.s_addr);
      ::freeaddrinfo(found);
    }
  }
  std::uint32_t port = 0;
  const bool any_allowed = zero == PortZero::any_free_port;
  if (!parse_number(port_text, 65535, port) || (port == 0 && !any_allowed)) {
    return fmt::format("'{}' is not a port number ({}) or HOST:PORT", text,
                       any_allowed ? "1-65535, or 0 for any free port" : "1-65535");
  }
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

std::uint32_t local_ip_toward(core::Address peer) {
  constexpr std::uint32_t kLoopback = 0x7f000001;
  if (!peer.valid() || peer.is_node() || (peer.ip() >> 24) == 127) return kLoopback;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return kLoopback;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(peer.ip());
  to.sin_port = htons(peer.port() != 0 ? peer.port() : 9);
  std::uint32_t ip = kLoopback;
  sockaddr_in local{};
  socklen_t size = sizeof local;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size) == 0 &&
      local.sin_addr.s_addr != 0) {
    ip = ntohl(local.sin_addr.s_addr);
  }
  ::close(fd);
  return ip;
}

}  // namespace dsys::net
