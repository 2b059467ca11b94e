// apps/main/server_main.hpp: the main() of a classic one-port server program.
//
//   NAME [--announce ADDR] PORT|HOST:PORT        (or --listen ADDR in place of PORT)
//
// Serves the node that `factory` builds on 127.0.0.1:PORT (0: any free port), or on HOST:PORT
// (0.0.0.0: every interface; node_address.hpp has --listen and --announce), prints
// "NAME: listening on 127.0.0.1:PORT" on stdout once it listens (", announced as ADDR" when it
// announces another), and runs until SIGINT or SIGTERM (exit status 0) or a failure of the node
// (1). A bad argument, or an address it cannot listen on, is a message and status 2 or 1.
// DSYS_RPC_LOSSY, DSYS_RPC_COUNT and the other knobs of net::Options::from_environment apply.
//
//   int main(int argc, char** argv) {
//     return dsys::apps::server_main(argc, argv, "extent_server", "the lab 2 extent service",
//                                   dsys::core::make_node<dsys::lab2::ExtentServer>());
//   }
#pragma once

#include <string_view>

#include "dsys/core/context.hpp"

namespace dsys::apps {

int server_main(int argc, char** argv, std::string_view name, std::string_view serves,
                const core::NodeFactory& factory);

}  // namespace dsys::apps
