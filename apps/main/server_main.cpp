// The main() of a one-port server program: see server_main.hpp.
#include "main/server_main.hpp"

#include <cstdio>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "dsys/net/runtime.hpp"

namespace dsys::apps {

int server_main(int argc, char** argv, std::string_view name, std::string_view serves,
                const core::NodeFactory& factory) {
  if (argc != 2) {
    std::cerr << fmt::format("usage: {} PORT\n  serves {} on 127.0.0.1:PORT (0: any free port)\n",
                             name, serves);
    return 2;
  }
  const std::string port_text = argv[1];
  const auto address = core::Address::parse(port_text);
  if (!address && port_text != "0") {
    std::cerr << fmt::format("{}: '{}' is not a port number (1-65535, or 0 for any)\n", name,
                             port_text);
    return 2;
  }
  try {
    auto options = net::Options::from_environment();
    options.name = std::string(name);
    options.listen_port = address ? address->port() : 0;
    options.stop_on_signals = true;
    net::Runtime runtime(options, factory);
    fmt::print("{}: listening on {}\n", name, runtime.address().to_string());
    std::fflush(stdout);
    if (!runtime.run()) {
      std::cerr << fmt::format("{}: stopped: {}\n", name, runtime.failure());
      return 1;
    }
    std::cerr << fmt::format("{}: stopped\n", name);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("{}: {}\n", name, e.what());
    return 1;
  }
}

}  // namespace dsys::apps
