// lab 6, part 2: locks around every operation, and write-back before a lock leaves.
//                                                              (You edit this file and its .cpp.)
//
// Lab 4's LockingFs took a lock only around changes: a read was one extent read, which the server
// does atomically, so it needed none. With a cache that is no longer true: another client's
// latest write may sit in that client's cache, and only moving the lock brings it to the server.
// CoherentFs is the FileSystem of lab 6, in place of LockingFs around your DirClient (which reads
// and writes through the ExtentCache): it holds a lock around every operation, reads included,
// so that each sees the latest write of every client (the lock comes here, and on its way the
// other client's cache writes back). And it wires the two caches together: the constructor sets
// lab 5's release callback to ExtentCache::flush, so that a lock goes back to the server only
// after what it protects is there.
//
// Which locks (the reference's choice):
//   getattr, read        the inode's. But a getattr of an inode that is new here (created here,
//                        not yet written back: ExtentCache::new_extent) is answered at once,
//                        without its lock: no other client can know the inode yet, since a
//                        client learns an inum only from a directory, whose lock must first
//                        leave this client (and so a create, which the kernel follows with a
//                        getattr, costs no RPC at all)
//   lookup, readdir      the directory's
//   create, mkdir        the parent's (as lab 4)
//   write, setattr       the file's (as lab 4)
//   unlink               the parent's, and then the file's (unless the file is new here): the
//                        file's extent goes, so a client that caches it must give it up first.
//                        Always the parent before the file, and no operation takes a file's lock
//                        and then its directory's: no two operations wait for each other.
// Release every lock taken, also when the operation failed. A lock that cannot be had (after
// the caching lock client's deadline: lab6_node.hpp's kLockDeadline) is Error::io, having
// changed nothing, as in lab 4.
//
// Threading contract: one node; across each co_await other operations of this node run, and the
// locks keep them (and other clients) off the inodes an operation uses.
#pragma once

#include "caching_lock_client.hpp"
#include "dsys/fs/file_system.hpp"
#include "extent_cache.hpp"

namespace dsys::lab6 {

class CoherentFs final : public fs::FileSystem {
 public:
  // `files` is your lab 4 DirClient, reading and writing through `cache`. All must outlive this
  // object. Sets locks' release callback (see above).
  // Tested by: every lab 6 test (without the callback nothing reaches the server).
  CoherentFs(fs::FileSystem& files, lab5::CachingLockClient& locks, ExtentCache& cache);

  // Tested by: "lab 6: a write by one client is seen by the other ...", "lab 6: sizes are exact
  // and times move forward ...", "lab 6: a create costs no RPC at all ...".
  core::Task<fs::Result<fs::Attributes>> getattr(fs::Inum inum) override;
  // Tested by: "lab 6: an unlink in one client ...", and the tests of labs 2-4.
  core::Task<fs::Result<fs::Inum>> lookup(fs::Inum parent, std::string name) override;
  core::Task<fs::Result<std::vector<fs::DirEntry>>> readdir(fs::Inum dir) override;
  // Tested by: "lab 6: a write by one client is seen by the other ...".
  core::Task<fs::Result<std::string>> read(fs::Inum inum, std::uint64_t offset,
                                           std::size_t size) override;
  // Tested by: the tests of labs 2-4, run again, and every lab 6 test.
  core::Task<fs::Result<fs::Inum>> create(fs::Inum parent, std::string name) override;
  core::Task<fs::Result<fs::Attributes>> setattr(fs::Inum inum, std::uint64_t size) override;
  core::Task<fs::Result<std::size_t>> write(fs::Inum inum, std::uint64_t offset,
                                            std::string data) override;
  core::Task<fs::Result<fs::Inum>> mkdir(fs::Inum parent, std::string name) override;
  // Tested by: "lab 6: an unlink in one client ...", "lab 4: a deleted file can be neither read
  // nor removed again" (run again).
  core::Task<fs::Result<void>> unlink(fs::Inum parent, std::string name) override;

 private:
  fs::FileSystem& files_;
  lab5::CachingLockClient& locks_;
  ExtentCache& cache_;
  // Helpers of your own go here (your lab 4 LockingFs had one that runs an operation holding
  // a lock).
};

}  // namespace dsys::lab6
