// The main() of a replica program, `lock_server MASTER_PORT MY_PORT [--dir DIR]` (labs 7 and 8;
// either port may be HOST:PORT, and node_address.hpp's --listen and --announce apply):
// the arguments, the runtime, "view N: MEMBERS" on stdout for the latest view at start and for
// every view it learns, signals and exit statuses. What each lab's replica is: its NodeFactory.
// See lock_server_lab7.cpp and lock_server_lab8.cpp for the command line.
#pragma once

#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dsys/net/host.hpp"
#include "dsys/net/runtime.hpp"
#include "main/node_address.hpp"
#include "views.hpp"

namespace dsys::apps {

inline int replica_usage(std::string_view what, std::string_view why) {
  std::cerr << fmt::format(
      "lock_server: {}\nusage: lock_server MASTER_PORT MY_PORT [--dir DIR] [--listen ADDR] "
      "[--announce ADDR]\n"
      "  one replica ({}) on 127.0.0.1:MY_PORT; the first node is 127.0.0.1:MASTER_PORT\n"
      "  (either may be HOST:PORT; equal: this is the first node; 0 0: the first node, any "
      "port;\n  MY_PORT 0: any free port, with --dir)\n  --dir DIR: its disk, kept across "
      "restarts (default ./lock_server-MY_PORT)\n"
      "  MY_PORT is the replica's name in the views: where it listens, unless --listen says\n"
      "  otherwise (e.g. 0.0.0.0:PORT), and the address it announces, unless --announce does\n{}",
      why, what, kNodeAddressUsage);
  return 2;
}

// `make(first, print)`: the replica's node, for the first node `first` (invalid: this is the
// first), calling `print` with each view it learns; `Node` has views() (lab7::Views).
template <class Node>
int replica_main(int argc, char** argv, std::string_view what,
                 const std::function<core::NodeFactory(core::Address, lab7::Views::OnView)>& make) {
  auto usage = [&](std::string_view why) { return replica_usage(what, why); };
  std::vector<std::string> args(argv + 1, argv + argc);
  NodeAddress own;
  if (auto why = take_node_address(args, own); !why.empty()) return usage(why);
  std::string dir;
  for (std::size_t i = 0; i < args.size();) {
    if (args[i] == "--dir") {
      if (i + 1 >= args.size()) return usage("--dir needs a directory");
      dir = args[i + 1];
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
    } else {
      ++i;
    }
  }
  if (args.size() != 2) return usage("expected two ports (or HOST:PORT addresses)");
  const auto master = net::parse_host_port(args[0], net::PortZero::any_free_port);
  if (!master) return usage(master.error());
  const auto mine_parsed = net::parse_host_port(args[1], net::PortZero::any_free_port);
  if (!mine_parsed) return usage(mine_parsed.error());
  // Its name: MY_PORT, or --announce. Where it listens: MY_PORT, or --listen.
  const net::HostPort named = own.announce.value_or(*mine_parsed);
  const net::HostPort listen = own.listen.value_or(*mine_parsed);
  if (named.ip == 0) {
    return usage(
        "a replica is named by its address, and 0.0.0.0 names no one: give MY_PORT as "
        "HOST:PORT, or --announce ADDR");
  }
  if (named.port == 0 && dir.empty()) {
    return usage(
        "port 0 (any free port) needs --dir DIR: the disk it must be restarted with, on "
        "the port it gets");
  }
  if (!own.announce && named.port != listen.port) {
    return usage(
        fmt::format("MY_PORT {} and --listen {} have different ports: say which the "
                    "others reach (--announce ADDR)",
                    named.to_string(), listen.to_string()));
  }
  const bool first_node = *master == named;
  if (master->port == 0 && !first_node) return usage("MASTER_PORT 0 needs MY_PORT 0 (\"0 0\")");
  try {
    auto options = dsys::net::Options::from_environment();
    options.name = "lock_server";
    // Known as `named` (its port, when 0: the one it gets, as it listens there).
    apply(
        options, listen,
        own.announce || named.ip != listen.ip ? std::optional<net::HostPort>(named) : std::nullopt);
    options.stop_on_signals = true;
    options.storage_dir = !dir.empty() ? dir
                          : named.is_loopback()
                              ? fmt::format("lock_server-{}", named.port)
                              : fmt::format("lock_server-{}-{}", named.host(), named.port);
    const dsys::core::Address first = first_node ? dsys::core::Address() : master->address();
    auto print = [](const dsys::lab7::View& v) {
      fmt::print("{}\n", v.to_string());
      std::fflush(stdout);
    };
    dsys::net::Runtime runtime(options, make(first, print));
    fmt::print("{}\n", listening_line("lock_server", runtime));
    print(runtime.service<Node>().views().current());
    if (!runtime.run()) {
      std::cerr << fmt::format("lock_server: stopped: {}\n", runtime.failure());
      return 1;
    }
    std::cerr << "lock_server: stopped\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("lock_server: {}\n", e.what());
    return 1;
  }
}

}  // namespace dsys::apps
