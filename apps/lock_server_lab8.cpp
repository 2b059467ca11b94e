// lock_server MASTER_PORT MY_PORT [--dir DIR]: one replica of lab 8's replicated lock service, as a
// real process: lab 7's Paxos and views, your RSM and your lock state machine, on
// 127.0.0.1:MY_PORT, with 127.0.0.1:MASTER_PORT as the first node (view 1). The classic command
// line of the replicated lock service. Clients (lock_tester, yfs_client) are given any replica's
// port; the master's will do.
//
//   MASTER_PORT = MY_PORT   this is the first node; "0 0" is the first node on any free port
//   MY_PORT 0               any free port (printed); needs --dir, and restarts use that port
//                           and that --dir
//   --dir DIR               its disk (Paxos's log; the lock service's state is in memory, and
//                           a restarted replica gets it from the others): default
//                           ./lock_server-MY_PORT
//
// Prints "lock_server: listening on 127.0.0.1:PORT" once it listens, then "view N: MEMBERS" on
// stdout for the latest view at start and for every view it learns. Runs until SIGINT or SIGTERM
// (exit status 0); DSYS_BREAKPOINT=rsm:ordered or rsm:executed (NAME@N: its N-th time), or lab 7's
// paxos:prepared and paxos:accepted, end it at that crash point (status 86), as the classic
// tester's breakpoints did. Bad arguments: a usage message and status 2.
#include "lab8_node.hpp"
#include "main/replica_main.hpp"

int main(int argc, char** argv) {
  return dsys::apps::replica_main<dsys::lab8::Replica>(
      argc, argv, "the replicated lock service",
      [](dsys::core::Address first, dsys::lab7::Views::OnView print) {
        return dsys::core::make_node<dsys::lab8::Replica>(first, dsys::lab8::Rsm::OnExecute(),
                                                          std::move(print));
      });
}
