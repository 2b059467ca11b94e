// lock_server MASTER_PORT MY_PORT [--dir DIR]: one replica of lab 7, as a real process: your
// Paxos and the view layer on 127.0.0.1:MY_PORT, with 127.0.0.1:MASTER_PORT as the first node
// (view 1). The classic command line of the replicated lock service (lab 8 adds the lock service).
//
//   MASTER_PORT = MY_PORT   this is the first node; "0 0" is the first node on any free port
//   MY_PORT 0               any free port (printed); needs --dir, and restarts use that port
//                           and that --dir (a replica that came back without its disk could
//                           break agreement)
//   --dir DIR               its disk (the acceptor's log): kept across restarts; default
//                           ./lock_server-MY_PORT
//
// Prints "lock_server: listening on 127.0.0.1:PORT" once it listens, then "view N: MEMBERS" on
// stdout for the latest view at start and for every view it learns. Runs until SIGINT or SIGTERM
// (exit status 0); DSYS_BREAKPOINT=paxos:prepared (or paxos:accepted, NAME@N for its N-th time)
// ends it at that crash point (status 86), as the classic tester's breakpoints did. Bad arguments:
// a usage message and status 2.
#include "lab7_node.hpp"
#include "main/replica_main.hpp"

int main(int argc, char** argv) {
  return dsys::apps::replica_main<dsys::lab7::Node>(
      argc, argv, "views over Paxos",
      [](dsys::core::Address first, dsys::lab7::Views::OnView print) {
        return dsys::core::make_node<dsys::lab7::Node>(first, std::move(print),
                                                       dsys::lab7::Views::OnPropose());
      });
}
