// lab 2, part 2: the yfs client's file-system logic.           (You edit this file and its .cpp.)
//
// A YfsClient is the file system as one client machine sees it. It keeps nothing of its own: every
// inode is an extent on the extent server, reached through `store_` (an extent::Store: lab 2's
// RPC client now, lab 6's cache later), and several YfsClients on other machines share them.
//
// Inodes (dsys/fs/types.hpp): an inode number (inum) is an extent id. A file's inum has bit
// 0x80000000 set (fs::is_file), a directory's does not; the root directory is fs::kRootInum (1).
// A file's extent holds its bytes. A directory's extent holds its entries (name -> inum) in the
// encoding of fs::Directory (dsys/fs/directory.hpp): decode the extent, change the Directory,
// encode it and put it back. A directory extent that does not decode is corrupt: Error::io.
//
// Errors: fs::Error (the FUSE adapter turns them into errno values). A failed extent operation
// becomes fs::from_store(its error): not_found, or io when the server did not answer.
//
// Threading contract: one node, one executor, no mutexes. The FUSE adapter runs each kernel
// request as its own coroutine, so across every co_await another operation of this client (or of
// another client) may have changed any extent. Lab 4 makes read-modify-write safe with locks;
// in labs 2 and 3, tests run one operation at a time per directory.
#pragma once

#include "dsys/core/context.hpp"
#include "dsys/extent/store.hpp"
#include "dsys/fs/directory.hpp"
#include "dsys/fs/file_system.hpp"

namespace dsys::lab2 {

using fs::Attributes;
using fs::DirEntry;
using fs::Error;
using fs::Inum;
using fs::Result;

class YfsClient : public fs::FileSystem {
 public:
  // (Given.) `store` must outlive this client.
  YfsClient(core::Context& ctx, extent::Store& store) : ctx_(ctx), store_(store) {}

  // The inode's attributes: its extent's size and times (extent::Store::getattr), and `inum`.
  // Error::not_found when its extent does not exist.
  // Tested by: "lab 2: getattr of the root, of a new file, ...", and through every other test.
  core::Task<Result<Attributes>> getattr(Inum inum) override;

  // Looks `name` up in directory `parent`. Error::not_found when it is not there (or `parent`
  // does not exist), Error::not_directory when `parent` is a file's inum (whether or not that
  // file exists: say so without asking the store).
  // Tested by: "lab 2: a file created through one client is found ...", "lab 2: 200 files ...".
  core::Task<Result<Inum>> lookup(Inum parent, std::string name) override;

  // Creates an empty file `name` in directory `parent`:
  //   - fs::check_new_name(name) first (Error::invalid_name, Error::name_too_long);
  //   - Error::not_directory when `parent` is a file, Error::exists when `name` is taken;
  //   - a new inum: all 64 bits of ctx_.rng().next(), with fs::kFileBit set. Do not ask the
  //     store whether it is taken: with 63 random bits two draws meet with odds below one in
  //     10^10 even after a million files, and from lab 6 on the store could not tell anyway
  //     (another client's new file may be in its cache only);
  //   - put the new file's extent (empty) first, then the directory with the new entry, so that
  //     the directory never names an inode that does not exist.
  // Returns the new inum.
  // Tested by: "lab 2: a file created ...", "lab 2: 200 files ...", "lab 2: bad names ...".
  core::Task<Result<Inum>> create(Inum parent, std::string name) override;

  // The entries of directory `dir`, in the order fs::Directory keeps them. Error::not_directory
  // when `dir` is a file's inum (as lookup), Error::not_found when it does not exist.
  // Tested by: "lab 2: a file created ...", "lab 2: 200 files ...".
  core::Task<Result<std::vector<DirEntry>>> readdir(Inum dir) override;

 protected:
  // For the labs that build on this one (lab 3's RwClient reads and writes files through them).
  core::Context& ctx_;
  extent::Store& store_;

  // Helpers of your own go here (reading and decoding a directory is one you will want).
};

}  // namespace dsys::lab2
