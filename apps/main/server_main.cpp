// The main() of a one-port server program: see server_main.hpp.
#include "main/server_main.hpp"

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dsys/net/runtime.hpp"
#include "main/node_address.hpp"

namespace dsys::apps {

int server_main(int argc, char** argv, std::string_view name, std::string_view serves,
                const core::NodeFactory& factory) {
  auto usage = [&](std::string_view why) {
    std::cerr << fmt::format(
        "{}: {}\nusage: {} [--announce ADDR] PORT|HOST:PORT   (or --listen ADDR for PORT)\n"
        "  serves {} on HOST:PORT (default host 127.0.0.1; port 0: any free port)\n{}",
        name, why, name, serves, kNodeAddressUsage);
    return 2;
  };
  std::vector<std::string> args(argv + 1, argv + argc);
  NodeAddress own;
  if (auto why = take_node_address(args, own); !why.empty()) return usage(why);
  if (args.size() > 1) return usage("expected one address to listen on");
  if (args.empty() && !own.listen) return usage("expected the port (or address) to listen on");
  if (!args.empty() && own.listen) return usage("give the address to listen on once");
  if (!args.empty()) {
    auto parsed = net::parse_host_port(args[0], net::PortZero::any_free_port);
    if (!parsed) return usage(parsed.error());
    own.listen = *parsed;
  }
  try {
    auto options = net::Options::from_environment();
    options.name = std::string(name);
    apply(options, *own.listen, own.announce);
    options.stop_on_signals = true;
    net::Runtime runtime(options, factory);
    fmt::print("{}\n", listening_line(name, runtime));
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
