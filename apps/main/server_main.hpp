// apps/main/server_main.hpp: the main() of a classic one-port server program.
//
//   NAME PORT
//
// Serves the node that `factory` builds on 127.0.0.1:PORT (0: any free port), prints
// "NAME: listening on 127.0.0.1:PORT" on stdout once it listens, and runs until SIGINT or SIGTERM
// (exit status 0) or a failure of the node (1). A bad argument is a usage message and status 2.
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
