// lab 4, part 1: directories and removing files.               (You edit this file and its .cpp.)
//
// A DirClient is lab 3's RwClient (your lab 2 and 3 operations, unchanged) with mkdir and unlink.
// Like them it takes no locks: part 2's LockingFs (locking_fs.hpp) wraps it and takes them. Use
// only what lab 2 and 3 give every lab: store_, ctx_ and the public operations (lookup, getattr,
// ...), so that your lab 4 also runs on the reference labs 2 and 3 (--base reference).
#pragma once

#include "dsys/fs/directory.hpp"
#include "rw_client.hpp"

namespace dsys::lab4 {

using fs::Error;
using fs::Inum;
using fs::Result;

class DirClient : public lab3::RwClient {
 public:
  using lab3::RwClient::RwClient;  // DirClient(ctx, store)

  // Creates an empty directory `name` in directory `parent` and returns its inum: as create()
  // (the same name checks and errors, the new extent before the parent's entry), but the new
  // inum is a directory's: 64 random bits with fs::kFileBit clear, drawn again if 0 or the root's.
  // Tested by: "lab 4: mkdir makes a directory that both clients can fill ...", "lab 4: each of
  // two clients creates 100 files and deletes 99 in its own directory ...".
  core::Task<Result<Inum>> mkdir(Inum parent, std::string name) override;

  // Removes file `name` from directory `parent` and frees the file's extent (store_.remove):
  // first the directory without the entry, then the extent, so that a directory never names an
  // inode that does not exist. Error::not_found when there is no such name, Error::is_directory
  // when it names a directory (yfs has no rmdir: see the handout), Error::not_directory when
  // `parent` is a file.
  // Tested by: "lab 4: a deleted file can be neither read nor removed again", "... creates 100
  // files and deletes 99 ...", "lab 4: one client creates while another deletes".
  core::Task<Result<void>> unlink(Inum parent, std::string name) override;

  // Helpers of your own go here.
};

}  // namespace dsys::lab4
