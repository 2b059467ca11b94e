// extent_server PORT: the lab 2 extent server, as one real process (127.0.0.1:PORT; 0: any port).
// Built from labs/ or solutions/ (./dsys build --impl ...). Its extents live in memory only. See
// dsys/net/server_main.hpp for the rest (signals, exit status, DSYS_RPC_LOSSY).
#include "extent_server.hpp"
#include "main/server_main.hpp"

int main(int argc, char** argv) {
  return dsys::apps::server_main(argc, argv, "extent_server", "the lab 2 extent service",
                                 dsys::core::make_node<dsys::lab2::ExtentServer>());
}
