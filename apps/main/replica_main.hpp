// The main() of a replica program, `lock_server MASTER_PORT MY_PORT [--dir DIR]` (labs 7 and 8):
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

#include "dsys/net/runtime.hpp"
#include "views.hpp"

namespace dsys::apps {

inline int replica_usage(std::string_view what, std::string_view why) {
  std::cerr << fmt::format(
      "lock_server: {}\nusage: lock_server MASTER_PORT MY_PORT [--dir DIR]\n"
      "  one replica ({}) on 127.0.0.1:MY_PORT; the first node is "
      "127.0.0.1:MASTER_PORT\n  (equal ports: this is the first node; 0 0: the first node, any "
      "port;\n  MY_PORT 0: any free port, with --dir)\n  --dir DIR: its disk, kept across "
      "restarts (default ./lock_server-MY_PORT)\n",
      why, what);
  return 2;
}

inline std::optional<std::uint16_t> replica_port_of(const std::string& text) {
  if (text == "0") return 0;
  if (text.find(':') != std::string::npos) return std::nullopt;  // a port, not an address
  auto a = dsys::core::Address::parse(text);
  if (!a) return std::nullopt;
  return a->port();
}

// `make(first, print)`: the replica's node, for the first node `first` (invalid: this is the
// first), calling `print` with each view it learns; `Node` has views() (lab7::Views).
template <class Node>
int replica_main(int argc, char** argv, std::string_view what,
                 const std::function<core::NodeFactory(core::Address, lab7::Views::OnView)>& make) {
  auto usage = [&](std::string_view why) { return replica_usage(what, why); };
  auto port_of = [](const std::string& text) { return replica_port_of(text); };
  std::vector<std::string> args(argv + 1, argv + argc);
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
  if (args.size() != 2) return usage("expected two ports");
  const auto master = port_of(args[0]);
  const auto mine = port_of(args[1]);
  if (!master) return usage(fmt::format("'{}' is not a port number (1-65535)", args[0]));
  if (!mine) return usage(fmt::format("'{}' is not a port number (1-65535)", args[1]));
  if (*master == 0 && *mine != 0) return usage("MASTER_PORT 0 needs MY_PORT 0 (\"0 0\")");
  if (*mine == 0 && dir.empty()) {
    return usage("MY_PORT 0 needs --dir DIR: the disk it must be restarted with, on its port");
  }
  try {
    auto options = dsys::net::Options::from_environment();
    options.name = "lock_server";
    options.listen_port = *mine;
    options.stop_on_signals = true;
    options.storage_dir = !dir.empty() ? dir : fmt::format("lock_server-{}", *mine);
    const dsys::core::Address first =
        *master == *mine ? dsys::core::Address() : dsys::core::Address::ipv4(0x7f000001, *master);
    auto print = [](const dsys::lab7::View& v) {
      fmt::print("{}\n", v.to_string());
      std::fflush(stdout);
    };
    dsys::net::Runtime runtime(options, make(first, print));
    fmt::print("lock_server: listening on {}\n", runtime.address().to_string());
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
