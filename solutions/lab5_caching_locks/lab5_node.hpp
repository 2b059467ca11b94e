// lab 5: a yfs client node: the extent client, your caching lock client, and your lab 4 DirClient
// inside your lab 4 LockingFs, which now locks through the caching client. The lab's yfs_client
// program and its simulated tests build it. (Given.)
#pragma once

#include "caching_lock_client.hpp"
#include "dir_client.hpp"
#include "dsys/fs/node.hpp"
#include "locking_fs.hpp"

namespace dsys::lab5 {

class Node {
 public:
  Node(core::Context& ctx, fs::Servers servers)
      : extents_(rpc::Endpoint::of(ctx), servers.extent),
        locks_(ctx, servers.lock, ctx.rng().next()),
        files_(ctx, extents_),
        fs_(files_, locks_) {}

  fs::FileSystem& fs() { return fs_; }
  CachingLockClient& locks() { return locks_; }
  extent::Client& extents() { return extents_; }

 private:
  extent::Client extents_;
  CachingLockClient locks_;
  lab4::DirClient files_;
  lab4::LockingFs fs_;
};

}  // namespace dsys::lab5
