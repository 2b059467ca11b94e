// extent_server PORT: the lab 2 extent server, as one real process (127.0.0.1:PORT; 0: any port).
// Built from labs/ or solutions/ (./dsys build --impl ...). DSYS_RPC_LOSSY and DSYS_RPC_COUNT
// apply. SIGINT and SIGTERM stop it cleanly (exit status 0). Its extents live in memory only.
#include <iostream>

#include <fmt/format.h>

#include "dsys/net/runtime.hpp"
#include "extent_server.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: extent_server PORT\n  serves the lab 2 extent service on 127.0.0.1:PORT "
                 "(0: any free port)\n";
    return 2;
  }
  const std::string port_text = argv[1];
  const auto address = dsys::core::Address::parse(port_text);
  if (!address && port_text != "0") {
    std::cerr << fmt::format("extent_server: '{}' is not a port number (1-65535, or 0 for any)\n",
                             port_text);
    return 2;
  }
  try {
    auto options = dsys::net::Options::from_environment();
    options.name = "extent_server";
    options.listen_port = address ? address->port() : 0;
    options.stop_on_signals = true;
    dsys::net::Runtime runtime(options, dsys::core::make_node<dsys::lab2::ExtentServer>());
    fmt::print("extent_server: listening on {}\n", runtime.address().to_string());
    std::fflush(stdout);
    if (!runtime.run()) {
      std::cerr << "extent_server: stopped: " << runtime.failure() << "\n";
      return 1;
    }
    std::cerr << "extent_server: stopped\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "extent_server: " << e.what() << "\n";
    return 1;
  }
}
