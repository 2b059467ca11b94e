// lab 6: a yfs client node: the extent client behind your ExtentCache, your lab 5 caching lock
// client, your lab 4 DirClient (reading and writing through the cache), and your CoherentFs
// around it, in place of lab 4's LockingFs. The lab's yfs_client program and its simulated tests
// build it. (Given.)
//
//   FUSE -> CoherentFs -> lab4::DirClient -> ExtentCache -> extent::Client -> extent server
//              |                                 ^
//              +--> lab5::CachingLockClient -----+ (the release callback: ExtentCache::flush)
#pragma once

#include <chrono>

#include "caching_lock_client.hpp"
#include "coherent_fs.hpp"
#include "dir_client.hpp"
#include "dsys/fs/node.hpp"
#include "extent_cache.hpp"

namespace dsys::lab6 {

class Node {
 public:
  // How long an operation waits for a lock before it fails with EIO: longer than lab 5's 10 s,
  // because a lock comes back only once its holder has written back what it cached (the release
  // callback), and a flush of a full cache to a slow extent server takes a while.
  static constexpr core::Duration kLockDeadline = std::chrono::seconds(60);

  Node(core::Context& ctx, fs::Servers servers)
      : extents_(rpc::Endpoint::of(ctx), servers.extent),
        locks_(ctx, servers.lock, ctx.rng().next(), kLockDeadline),
        cache_(ctx, extents_, [this](extent::ExtentId id) { return has_lock(id); }),
        files_(ctx, cache_),
        fs_(files_, locks_, cache_) {}

  fs::FileSystem& fs() { return fs_; }
  // When the client is about to go (yfs_client on SIGTERM or unmount, the tests): every change
  // written back, then every cached lock given back, so that nothing is lost and no other client
  // waits for this one's locks.
  core::Task<void> finish() {
    co_await cache_.flush_all();
    co_await locks_.return_all();
  }

  ExtentCache& cache() { return cache_; }
  lab5::CachingLockClient& locks() { return locks_; }
  extent::Client& extents() { return extents_; }

 private:
  bool has_lock(extent::ExtentId id) const {
    const lab5::LockState s = locks_.state(id);
    return s == lab5::LockState::locked || s == lab5::LockState::free;
  }

  extent::Client extents_;
  lab5::CachingLockClient locks_;
  ExtentCache cache_;
  lab4::DirClient files_;
  CoherentFs fs_;
};

}  // namespace dsys::lab6
