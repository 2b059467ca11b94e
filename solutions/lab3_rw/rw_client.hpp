// lab 3: reading and writing files.                            (You edit this file and its .cpp.)
//
// An RwClient is lab 2's YfsClient (your create, lookup, readdir and getattr, unchanged) with the
// operations on a file's bytes. A file's bytes are its whole extent: read it with store_.get,
// change it in memory, write it back with store_.put (the extent server sets mtime and ctime on
// every put, and atime on every get). Files are at most fs::kMaxFileSize (8 MiB) bytes.
//
// Threading contract: as YfsClient's (yfs_client.hpp). Across each co_await, another operation
// (of this client or another) may have changed the extent: lab 4 adds the locks that stop two
// read-modify-writes of one file from losing one of them.
#pragma once

#include "yfs_client.hpp"

namespace dsys::lab3 {

using fs::Attributes;
using fs::Error;
using fs::Inum;
using fs::Result;

class RwClient : public lab2::YfsClient {
 public:
  using lab2::YfsClient::YfsClient;  // RwClient(ctx, store), as YfsClient

  // Sets file `inum`'s size: a smaller size drops the bytes past it; a larger one appends zero
  // bytes. Returns the file's attributes afterwards. Error::is_directory for a directory,
  // Error::file_too_big when `size` > fs::kMaxFileSize, Error::not_found for no such file.
  // Tested by: "lab 3: truncate and rewrite ...", "lab 3: truncate extends with zeros ...".
  core::Task<Result<Attributes>> setattr(Inum inum, std::uint64_t size) override;

  // Up to `size` bytes of file `inum` starting at `offset`: fewer when the file ends sooner, none
  // when `offset` is at or past its end (not an error). Error::is_directory for a directory's
  // inum (without asking the store), Error::not_found for no such file.
  // Tested by: "lab 3: writes of 600 and 4111 bytes ...", "lab 3: reads at and past the end ...".
  core::Task<Result<std::string>> read(Inum inum, std::uint64_t offset, std::size_t size) override;

  // Writes `data` at `offset` (fs::kAtEnd: at the file's end as it is now, for O_APPEND),
  // overwriting what is there and extending the file as needed; a gap between the old end and
  // `offset` reads as zero bytes. Returns data.size(). Writing no bytes changes nothing.
  // Error::file_too_big when offset + data.size() would pass fs::kMaxFileSize (mind overflow:
  // offset may be near 2^64), and nothing changes; an offset past the limit is file_too_big
  // even for no bytes. With kAtEnd the limit can only be checked once the extent is read.
  // Error::is_directory for a directory's inum (without asking the store), Error::not_found for
  // no such file.
  // Tested by: "lab 3: writes of 600 and 4111 bytes ...", "lab 3: an append ...", "lab 3: a write
  // at offset 190 ...", "lab 3: a write past the end leaves zeros ...", "lab 3: too big ...".
  core::Task<Result<std::size_t>> write(Inum inum, std::uint64_t offset, std::string data) override;

  // SOLUTION BEGIN
 private:
  // File `inum`'s bytes: is_directory, not_found, io as the contracts say.
  core::Task<Result<std::string>> read_file(Inum inum);
  // SOLUTION STUB
  // // Helpers of your own go here.
  // SOLUTION END
};

}  // namespace dsys::lab3
