// apps/main/tester_main.hpp: the main() of a classic tester program, `NAME PORT` (or
// `NAME HOST:PORT`; node_address.hpp has --listen and --announce).
//
// Builds the tester's node as Tester(core::Context&, core::Address server) for the server on
// 127.0.0.1:PORT (or HOST:PORT) and runs it until the tester sets `done` (90 s at most). It has
//   bool done;  std::string failure;  void fail(std::string what);
// and records the first violation with fail(). Prints "passed all tests successfully" (exit 0)
// or "NAME: FAILED: <the failure>" (exit 1); a bad argument is a usage message and status 2.
// `listen`: the tester's node listens (on any free port of the address that faces the server,
// unless --listen says where), for a server that calls its clients back (lab 5's Revoke and Retry).
#pragma once

#include <chrono>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "dsys/net/runtime.hpp"
#include "main/node_address.hpp"

namespace dsys::apps {

template <class Tester>
int tester_main(int argc, char** argv, std::string_view name, std::string_view tests,
                bool listen = false) {
  auto usage = [&](std::string_view why) {
    std::cerr << fmt::format(
        "{}: {}\nusage: {} [--listen ADDR] [--announce ADDR] PORT|HOST:PORT\n  tests {} on "
        "127.0.0.1:PORT, or on HOST:PORT\n{}",
        name, why, name, tests, kNodeAddressUsage);
    return 2;
  };
  std::vector<std::string> args(argv + 1, argv + argc);
  NodeAddress own;
  if (auto why = take_node_address(args, own); !why.empty()) return usage(why);
  if (args.size() != 1) return usage("expected the server's address");
  const auto parsed = net::parse_host_port(args[0], net::PortZero::refused);
  if (!parsed) return usage(parsed.error());
  const core::Address server = parsed->address();
  try {
    auto options = net::Options::from_environment();
    options.name = std::string(name);
    if (listen || own.listen) {
      listen_as_client(options, own, server);  // where the server can call it back
    } else if (own.announce) {
      return usage("--announce needs a tester that listens (--listen ADDR)");
    }
    net::Runtime runtime(options, core::make_node<Tester>(server));
    Tester& tester = runtime.service<Tester>();
    const bool finished = runtime.run_until([&] { return tester.done; }, std::chrono::seconds(90));
    if (!finished && tester.failure.empty()) {
      tester.fail(runtime.failure().empty() ? "the tests did not finish within 90 s"
                                            : runtime.failure());
    }
    runtime.context().shutdown();  // the tester's tasks go before the objects they use
    if (!tester.failure.empty()) {
      std::cout << fmt::format("{}: FAILED: {}\n", name, tester.failure);
      return 1;
    }
    std::cout << "passed all tests successfully\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("{}: {}\n", name, e.what());
    return 1;
  }
}

}  // namespace dsys::apps
