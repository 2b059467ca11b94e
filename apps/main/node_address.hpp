// apps/main/node_address.hpp: a program's own address on its command line. Every program of the
// kit takes these two options (dsys/net/host.hpp says how an address is written):
//
//   --listen ADDR     where its node listens: HOST:PORT (0.0.0.0:PORT: every interface; port 0:
//                     any free port), or PORT on 127.0.0.1
//   --announce ADDR   the address it names itself by in its hello (a replica: its name in the
//                     views): where the others reach it, when that is not where it listens (it
//                     listens on 0.0.0.0, or behind a forwarder). Port 0: the port it listens on.
//
//   apps::NodeAddress own;
//   if (auto why = apps::take_node_address(args, own); !why.empty()) return usage(why);
//   ...
//   options.listen_host = own.listen->host(); ...     (or apply(options, listen, announce))
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsys/net/host.hpp"
#include "dsys/net/runtime.hpp"

namespace dsys::apps {

struct NodeAddress {
  std::optional<net::HostPort> listen;
  std::optional<net::HostPort> announce;
};

// Takes "--listen ADDR" and "--announce ADDR" (or "--listen=ADDR", "--announce=ADDR") out of
// `args`. Returns why they are wrong (missing, malformed, given twice), or "" when they are fine.
std::string take_node_address(std::vector<std::string>& args, NodeAddress& out);

// Makes `options` listen at `listen` and announce `announce` (nullopt: where it listens).
void apply(net::Options& options, net::HostPort listen, std::optional<net::HostPort> announce);

// A client that its server calls back (lab 5's revoke and retry): listens at --listen, else on any
// free port of the address that faces `server` (net::local_ip_toward), so that a server on another
// host or namespace reaches it and a loopback server keeps it on loopback; announces --announce,
// else, when it listens on every interface (0.0.0.0), that facing address: its requests carry
// its own address, and 0.0.0.0 would name the server itself.
void listen_as_client(net::Options& options, const NodeAddress& own, core::Address server);

// "NAME: listening on 127.0.0.1:5000", with ", announced as 10.77.0.2:5000" when the node
// announces another address: the line the kit's tests and tools wait for.
std::string listening_line(std::string_view name, const net::Runtime& runtime);

// The lines a usage message gives the two options.
inline constexpr std::string_view kNodeAddressUsage =
    "  --listen ADDR: where it listens (HOST:PORT; 0.0.0.0:PORT is every interface)\n"
    "  --announce ADDR: the address the others reach it at, when not where it listens\n"
    "  (ADDR, and every PORT above, may be PORT on 127.0.0.1 or HOST:PORT, HOST an IPv4\n"
    "  address or a host name)\n";

}  // namespace dsys::apps
