// dsys/fs/file_system.hpp: the operations of a yfs client, as the FUSE adapter and the tests call
// them.
//
// Each lab's file system is a FileSystem: lab 2's YfsClient has getattr, lookup, create and
// readdir; lab 3's adds setattr, read and write; lab 4's adds mkdir and unlink and takes locks.
// An operation a lab does not have yet fails with Error::not_supported (ENOSYS).
//
// Threading contract: a FileSystem belongs to one node and runs on its executor. The adapter runs
// each kernel request as its own coroutine, so several operations of one client may be in flight
// at once, interleaved at their co_awaits (as may those of other clients, on other nodes).
// Arguments are taken by value: a caller need not keep them alive across the call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dsys/core/task.hpp"
#include "dsys/fs/types.hpp"

namespace dsys::fs {

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // --- lab 2
  // The attributes of inode `inum`. Error::not_found when it does not exist.
  virtual core::Task<Result<Attributes>> getattr(Inum inum) = 0;
  // The inum that `name` names in directory `parent`. Error::not_found when there is none,
  // Error::not_directory when `parent` is a file.
  virtual core::Task<Result<Inum>> lookup(Inum parent, std::string name) = 0;
  // Creates an empty file `name` in directory `parent` and returns its (new, random) inum.
  // Error::exists when the name is taken; check_new_name's errors for a bad name.
  virtual core::Task<Result<Inum>> create(Inum parent, std::string name) = 0;
  // The entries of directory `dir` (without "." and "..", which the adapter adds).
  virtual core::Task<Result<std::vector<DirEntry>>> readdir(Inum dir) = 0;

  // --- lab 3
  // Sets file `inum`'s size to `size`: truncates, or extends with zero bytes. Returns the new
  // attributes. Error::is_directory for a directory, Error::file_too_big past kMaxFileSize.
  virtual core::Task<Result<Attributes>> setattr(Inum inum, std::uint64_t size);
  // Up to `size` bytes of file `inum` from `offset`: fewer at the end of the file, none at or
  // past it.
  virtual core::Task<Result<std::string>> read(Inum inum, std::uint64_t offset, std::size_t size);
  // Writes `data` into file `inum` at `offset` (kAtEnd: at its current end), extending it (with
  // zero bytes between its old end and `offset`) as needed. Returns the bytes written (all of
  // them). Error::file_too_big when the end would pass kMaxFileSize or overflow.
  virtual core::Task<Result<std::size_t>> write(Inum inum, std::uint64_t offset, std::string data);

  // --- lab 4
  // Creates an empty directory `name` in `parent` and returns its inum; errors as create().
  virtual core::Task<Result<Inum>> mkdir(Inum parent, std::string name);
  // Removes the file `name` from directory `parent` and frees its extent.
  virtual core::Task<Result<void>> unlink(Inum parent, std::string name);
};

}  // namespace dsys::fs
