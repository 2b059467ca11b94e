// lock_server PORT: the lab 5 caching lock server, as one real process (127.0.0.1:PORT; 0: any
// port). Its clients must listen (it calls them back: Revoke, Retry). See
// dsys/net/server_main.hpp for the rest (signals, exit status, DSYS_RPC_LOSSY).
#include "caching_lock_server.hpp"
#include "main/server_main.hpp"

int main(int argc, char** argv) {
  return dsys::apps::server_main(argc, argv, "lock_server", "the lab 5 caching lock service",
                                 dsys::core::make_node<dsys::lab5::CachingLockServer>());
}
