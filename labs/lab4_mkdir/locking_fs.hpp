// lab 4, part 2: locks around every read-modify-write.          (You edit this file and its .cpp.)
//
// Without locks, two clients that create in one directory at once both read the directory, both
// add their entry and both write it back: the second write loses the first entry. LockingFs is a
// FileSystem that wraps another (your DirClient) and takes the lock of each inode an operation
// changes, through a lock::LockService (lab 1's lock server now: lab1_locks.hpp), as Frangipani
// does: a lock is named by the inode's inum, and while a client holds it no other client (and
// no other coroutine of this client) changes that inode.
//
// Which locks (the reference's choice; any correct one passes):
//   create, mkdir,     the parent directory's
//   unlink
//   write, setattr     the file's
//   getattr, lookup, readdir, read: none (each is one extent read, which is atomic)
// One lock per operation, so no two operations ever wait for each other. (A write racing an
// unlink of its file may put the file's extent back after unlink removed it: an extent that no
// directory names, which costs space and never a wrong answer. Taking the file's lock in unlink
// too would close that gap at the price of one more lock per unlink: lab 5 counts them.)
// Release every lock taken, also when the operation failed.
// A lock that cannot be had (lock::Error::unavailable, after Lab1Locks's 10 s deadline) fails
// the operation with Error::io, having changed nothing.
//
// Threading contract: one node; across each co_await other operations of this node run, and
// they are kept off the locked inodes by the lock service itself.
#pragma once

#include "dsys/fs/file_system.hpp"
#include "dsys/lock/service.hpp"

namespace dsys::lab4 {

class LockingFs final : public fs::FileSystem {
 public:
  // (Given.) Both must outlive this object.
  LockingFs(fs::FileSystem& inner, lock::LockService& locks) : inner_(inner), locks_(locks) {}

  // Tested by: every lab 4 test; the concurrent ones fail without the right locks.
  core::Task<fs::Result<fs::Attributes>> getattr(fs::Inum inum) override;
  core::Task<fs::Result<fs::Inum>> lookup(fs::Inum parent, std::string name) override;
  core::Task<fs::Result<fs::Inum>> create(fs::Inum parent, std::string name) override;
  core::Task<fs::Result<std::vector<fs::DirEntry>>> readdir(fs::Inum dir) override;
  core::Task<fs::Result<fs::Attributes>> setattr(fs::Inum inum, std::uint64_t size) override;
  core::Task<fs::Result<std::string>> read(fs::Inum inum, std::uint64_t offset,
                                           std::size_t size) override;
  core::Task<fs::Result<std::size_t>> write(fs::Inum inum, std::uint64_t offset,
                                            std::string data) override;
  core::Task<fs::Result<fs::Inum>> mkdir(fs::Inum parent, std::string name) override;
  core::Task<fs::Result<void>> unlink(fs::Inum parent, std::string name) override;

 private:
  fs::FileSystem& inner_;
  lock::LockService& locks_;
  // Helpers of your own go here (one that runs an operation holding a lock saves repeating it).
};

}  // namespace dsys::lab4
