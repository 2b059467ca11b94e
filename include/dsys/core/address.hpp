// dsys/core/address.hpp: where a node can be reached. In the simulated world an address is a
// node's number; in the real world it is an IPv4 address and a TCP port.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsys::core {

class Address {
 public:
  constexpr Address() = default;

  // The simulated world's address of node `index`.
  static constexpr Address node(std::uint32_t index) { return Address(kSimTag | index); }
  // A real-world address: IPv4 (host byte order) and port.
  static constexpr Address ipv4(std::uint32_t ip, std::uint16_t port) {
    return Address((std::uint64_t{ip} << 16) | port);
  }
  // A real-world peer that does not listen (a client-only node), known by the connection it
  // opened: a reply can reach it over that connection, but it can never be dialled.
  static constexpr Address unlisted(std::uint32_t ip, std::uint16_t port) {
    return Address(kUnlistedTag | (std::uint64_t{ip} << 16) | port);
  }
  // The address whose raw() is `raw` (for worlds that carry addresses as numbers).
  static constexpr Address from_raw(std::uint64_t raw) { return Address(raw); }
  // Parses "PORT" (meaning 127.0.0.1:PORT) or "A.B.C.D:PORT"; nullopt when malformed.
  static std::optional<Address> parse(std::string_view text);

  constexpr bool is_node() const { return (raw_ & kSimTag) != 0; }
  constexpr bool is_unlisted() const { return !is_node() && (raw_ & kUnlistedTag) != 0; }
  constexpr std::uint32_t node_index() const { return static_cast<std::uint32_t>(raw_); }
  constexpr std::uint32_t ip() const { return static_cast<std::uint32_t>(raw_ >> 16); }
  constexpr std::uint16_t port() const { return static_cast<std::uint16_t>(raw_); }
  constexpr std::uint64_t raw() const { return raw_; }
  constexpr bool valid() const { return raw_ != 0; }

  // "n3" for a simulated node, "127.0.0.1:5000" for a real one, "client 127.0.0.1:41234" for an
  // unlisted one.
  std::string to_string() const;

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 sees a literal 0 in a defaulted <=>
  friend constexpr auto operator<=>(Address, Address) = default;

 private:
  static constexpr std::uint64_t kSimTag = std::uint64_t{1} << 63;
  static constexpr std::uint64_t kUnlistedTag = std::uint64_t{1} << 62;
  constexpr explicit Address(std::uint64_t raw) : raw_(raw) {}
  std::uint64_t raw_ = 0;
};

}  // namespace dsys::core

template <>
struct std::hash<dsys::core::Address> {
  std::size_t operator()(dsys::core::Address a) const noexcept {
    return std::hash<std::uint64_t>{}(a.raw());
  }
};
