// apps/main/tester_main.hpp: the main() of a classic tester program, `NAME PORT`.
//
// Builds the tester's node as Tester(core::Context&, core::Address server) for the server on
// 127.0.0.1:PORT and runs it until the tester sets `done`, for at most 90 s. A Tester has
//   bool done;  std::string failure;  void fail(std::string what);
// and records the first violation with fail(). Prints "passed all tests successfully" (exit 0)
// or "NAME: FAILED: <the failure>" (exit 1); a bad argument is a usage message and status 2.
// `listen`: the tester's node listens (on any free port), for a server that calls its clients
// back (lab 5's Revoke and Retry).
#pragma once

#include <chrono>
#include <iostream>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "dsys/net/runtime.hpp"

namespace dsys::apps {

template <class Tester>
int tester_main(int argc, char** argv, std::string_view name, std::string_view tests,
                bool listen = false) {
  if (argc != 2) {
    std::cerr << fmt::format("usage: {} PORT\n  tests {} on 127.0.0.1:PORT\n", name, tests);
    return 2;
  }
  const auto server = core::Address::parse(argv[1]);
  if (!server) {
    std::cerr << fmt::format("{}: '{}' is not a port number (1-65535)\n", name, argv[1]);
    return 2;
  }
  try {
    auto options = net::Options::from_environment();
    options.name = std::string(name);
    if (listen) options.listen_port = 0;
    net::Runtime runtime(options, core::make_node<Tester>(*server));
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
