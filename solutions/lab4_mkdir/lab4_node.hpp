// lab 4: a yfs client node: the extent client, your lab 1 lock client, your DirClient and your
// LockingFs around it. The lab's yfs_client program and its simulated tests build it. (Given.)
//
// The node's lock-client identity is random (from the node's seeded rng), so that two yfs
// clients, or one client before and after a restart, never share one.
#pragma once

#include "dir_client.hpp"
#include "dsys/fs/node.hpp"
#include "lab1_locks.hpp"
#include "locking_fs.hpp"

namespace dsys::lab4 {

class Node {
 public:
  Node(core::Context& ctx, fs::Servers servers)
      : extents_(rpc::Endpoint::of(ctx), servers.extent),
        locks_(ctx, servers.lock, ctx.rng().next()),
        files_(ctx, extents_),
        fs_(files_, locks_) {}

  fs::FileSystem& fs() { return fs_; }
  DirClient& files() { return files_; }  // without locks (for tests)
  Lab1Locks& locks() { return locks_; }
  extent::Client& extents() { return extents_; }

 private:
  extent::Client extents_;
  Lab1Locks locks_;
  DirClient files_;
  LockingFs fs_;
};

}  // namespace dsys::lab4
