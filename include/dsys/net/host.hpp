// dsys/net/host.hpp: the addresses people type, for programs' command lines and the kit's tools.
//
//   PORT          127.0.0.1:PORT (loopback is the default host)
//   HOST:PORT     HOST is an IPv4 address ("0.0.0.0": every interface, where a program listens),
//                 "localhost", or a host name, looked up once, here, to its first IPv4 address
//
// Port 0 means "any free port" where a program listens; callers that dial say whether it is
// allowed. What fails is said in words fit for a usage message: a text that is no address, a name
// that has no IPv4 address, a port out of range.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dsys/core/address.hpp"
#include "dsys/core/result.hpp"

namespace dsys::net {

// An IPv4 address and a port, either of which may be 0 (every interface; any free port).
struct HostPort {
  std::uint32_t ip = 0x7f000001;  // host byte order; 127.0.0.1
  std::uint16_t port = 0;

  // The address a peer dials (precondition: a port is given).
  core::Address address() const { return core::Address::ipv4(ip, port); }
  std::string host() const;       // "10.77.0.2"
  std::string to_string() const;  // "10.77.0.2:5000"
  bool is_loopback() const { return (ip >> 24) == 127; }
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

enum class PortZero { refused, any_free_port };

// Parses "PORT" or "HOST:PORT" (see the top of this file). The error says what is wrong with
// `text`, e.g. "'x' is not a port number (1-65535)" or "'nowhere:80': no IPv4 address for host
// 'nowhere' (Name or service not known)".
Result<HostPort, std::string> parse_host_port(std::string_view text, PortZero zero);

// The address of this machine that the kernel would send from to reach `peer` (found by
// connecting a UDP socket there, which sends nothing): where a client that must be called back
// listens by default, so that a client of a server on another host or namespace is reachable
// from it, and a client of a loopback server stays on loopback. 127.0.0.1 when there is no route.
std::uint32_t local_ip_toward(core::Address peer);

}  // namespace dsys::net
