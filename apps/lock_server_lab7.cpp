// lock_server MASTER_PORT MY_PORT [--dir DIR]: one replica of lab 7, as a real process: your
// Paxos and the view layer on 127.0.0.1:MY_PORT, with 127.0.0.1:MASTER_PORT as the first node
// (view 1). The classic command line of the replicated lock service (lab 8 adds the lock service).
//
//   MASTER_PORT = MY_PORT   this is the first node; "0 0" is the first node on any free port
//   MY_PORT 0               any free port (printed); needs --dir, and restarts use that port
//                           and that --dir (a replica that came back without its disk could
//                           break agreement)
//   --dir DIR               its disk (the acceptor's log): kept across restarts; default
//                           ./lock_server-MY_PORT
//
// Prints "lock_server: listening on 127.0.0.1:PORT" once it listens, then "view N: MEMBERS" on
// stdout for the latest view at start and for every view it learns. Runs until SIGINT or SIGTERM
// (exit status 0); DSYS_BREAKPOINT=paxos:prepared (or paxos:accepted, NAME@N for its N-th time)
// ends it at that crash point (status 86), as the classic tester's breakpoints did. Bad arguments:
// a usage message and status 2.
#include <cstdio>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "dsys/net/runtime.hpp"
#include "lab7_node.hpp"

namespace {

int usage(std::string_view why) {
  std::cerr << fmt::format(
      "lock_server: {}\nusage: lock_server MASTER_PORT MY_PORT [--dir DIR]\n"
      "  one replica (views over Paxos) on 127.0.0.1:MY_PORT; the first node is "
      "127.0.0.1:MASTER_PORT\n  (equal ports: this is the first node; 0 0: the first node, any "
      "port;\n  MY_PORT 0: any free port, with --dir)\n  --dir DIR: its disk, kept across "
      "restarts (default ./lock_server-MY_PORT)\n",
      why);
  return 2;
}

std::optional<std::uint16_t> port_of(const std::string& text) {
  if (text == "0") return 0;
  if (text.find(':') != std::string::npos) return std::nullopt;  // a port, not an address
  auto a = dsys::core::Address::parse(text);
  if (!a) return std::nullopt;
  return a->port();
}

}  // namespace

int main(int argc, char** argv) {
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
    dsys::net::Runtime runtime(
        options, dsys::core::make_node<dsys::lab7::Node>(first, dsys::lab7::Views::OnView(print),
                                                         dsys::lab7::Views::OnPropose()));
    fmt::print("lock_server: listening on {}\n", runtime.address().to_string());
    print(runtime.service<dsys::lab7::Node>().views().current());
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
