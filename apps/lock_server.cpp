// lock_server PORT: the lab 1 lock server, as one real process (127.0.0.1:PORT; 0: any port).
// Built from labs/ or solutions/ (./dsys build --impl ...). See dsys/net/server_main.hpp for the
// rest (signals, exit status, DSYS_RPC_LOSSY and DSYS_RPC_COUNT).
#include "lock_server.hpp"
#include "main/server_main.hpp"

int main(int argc, char** argv) {
  return dsys::apps::server_main(argc, argv, "lock_server", "the lab 1 lock service",
                                 dsys::core::make_node<dsys::lab1::LockServer>());
}
