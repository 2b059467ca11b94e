// apps/main/yfs_client_main.hpp: the main() of every lab's yfs_client program.
//
//   yfs_client [--listen ADDR] [--announce ADDR] MOUNTPOINT EXTENT_PORT LOCK_PORT
//
// Mounts the lab's file system at MOUNTPOINT (an existing, empty directory), talking to the
// extent server at 127.0.0.1:EXTENT_PORT (and, from lab 4 on, the lock server at LOCK_PORT);
// either may be HOST:PORT. Its node listens for the lock server's calls (lab 5's revoke and
// retry) on any free port of the address that faces the lock server, unless --listen says where
// (node_address.hpp).
// prints "yfs_client: mounted MOUNTPOINT ..." once the kernel has the mount, and serves until
// SIGINT or SIGTERM (then unmounts, exit status 0) or until unmounted from outside (exit 0).
// A bad argument or mount point: a message and exit status 2 or 1. DSYS_RPC_LOSSY and
// DSYS_RPC_COUNT apply, as in every program.
//
// A Node with a `core::Task<void> finish()` (lab 6's: write the cache back, give the locks back)
// has it run once serving ends, before the mount goes, for at most kFinishLimit; a second signal
// cuts it short. It prints "yfs_client: finished" when it completed.
//
// A lab's program is one line:
//   int main(int argc, char** argv) {
//     return dsys::apps::yfs_client_main<dsys::fs::ClientNode<dsys::lab3::RwClient>>(argc, argv);
//   }
#pragma once

#include <functional>

#include "dsys/fs/file_system.hpp"
#include "dsys/fs/node.hpp"
#include "dsys/net/runtime.hpp"

namespace dsys::apps {

using MakeNode = std::function<core::NodeFactory(const fs::Servers&)>;
using FileSystemOf = std::function<fs::FileSystem&(net::Runtime&)>;
using FinishOf = std::function<core::Task<void>(net::Runtime&)>;  // null: nothing to finish

inline constexpr core::Duration kFinishLimit = std::chrono::seconds(60);

int run_yfs_client(int argc, char** argv, const MakeNode& make, const FileSystemOf& fs_of,
                   const FinishOf& finish = nullptr);

// Node: built as Node(core::Context&, fs::Servers), with `fs()` giving its FileSystem.
template <class Node>
int yfs_client_main(int argc, char** argv) {
  FinishOf finish;
  if constexpr (requires(Node & n) { n.finish(); }) {
    finish = [](net::Runtime& runtime) { return runtime.service<Node>().finish(); };
  }
  return run_yfs_client(
      argc, argv, [](const fs::Servers& s) { return core::make_node<Node>(s); },
      [](net::Runtime& runtime) -> fs::FileSystem& { return runtime.service<Node>().fs(); },
      finish);
}

}  // namespace dsys::apps
