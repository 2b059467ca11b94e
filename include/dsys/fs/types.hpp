// dsys/fs/types.hpp: what yfs's file-system operations take and give, in every lab.
//
// Inode numbers are extent ids: the inode `inum` keeps its contents in extent `inum`. A file's
// inum has bit 0x80000000 set; a directory's does not. The root directory is inum 1 (FUSE's
// root, too). Errors are fs::Error values, which the FUSE adapter turns into errno values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dsys/core/result.hpp"
#include "dsys/extent/store.hpp"

namespace dsys::fs {

using Inum = extent::ExtentId;

inline constexpr Inum kRootInum = 1;
inline constexpr Inum kFileBit = 0x80000000;

constexpr bool is_file(Inum inum) {
  return (inum & kFileBit) != 0;
}
constexpr bool is_directory(Inum inum) {
  return (inum & kFileBit) == 0;
}

// The limits of yfs, which the operations enforce.
inline constexpr std::size_t kMaxNameLength = 255;                     // bytes of one name
inline constexpr std::uint64_t kMaxFileSize = extent::kMaxExtentSize;  // 8 MiB

// write()'s offset for "at the end of the file, as it is now" (a file opened with O_APPEND).
inline constexpr std::uint64_t kAtEnd = ~std::uint64_t{0};

// Why an operation failed, and the errno the kernel gets for it.
enum class Error : std::uint8_t {
  not_found = 1,  // ENOENT: no such name, or no such inode
  exists,         // EEXIST: the name is taken
  not_directory,  // ENOTDIR: a directory operation on a file
  is_directory,   // EISDIR: a file operation on a directory
  name_too_long,  // ENAMETOOLONG: more than kMaxNameLength bytes
  invalid_name,   // EINVAL: an empty name, ".", "..", or one holding '/' or '\0'
  file_too_big,   // EFBIG: a file would grow past kMaxFileSize (or the offset overflows)
  not_empty,      // ENOTEMPTY: removing a directory that has entries. No lab returns it: yfs
                  // has no rmdir (lab 4's unlink of a directory is is_directory)
  not_supported,  // ENOSYS: an operation this lab does not have (rename; setattr, read and
                  // write before lab 3; mkdir and unlink before lab 4)
  io,             // EIO: the extent (or lock) server did not answer in time, or a directory's
                  // extent does not decode
};

std::string_view to_string(Error e);
int to_errno(Error e);

template <class T>
using Result = dsys::Result<T, Error>;

// Attributes of an inode, as stat(2) shows them.
struct Attributes {
  Inum inum = 0;
  std::uint64_t size = 0;  // bytes: a file's length; a directory's extent size
  std::int64_t atime = 0;  // nanoseconds since the Unix epoch
  std::int64_t mtime = 0;
  std::int64_t ctime = 0;
  bool directory() const { return is_directory(inum); }
  bool operator==(const Attributes&) const = default;
};

// One name in a directory.
struct DirEntry {
  std::string name;
  Inum inum = 0;
  bool operator==(const DirEntry&) const = default;
};

// Whether `name` may be given to a new file or directory: not empty, not "." or "..", no '/' or
// '\0' (Error::invalid_name), at most kMaxNameLength bytes (Error::name_too_long).
Result<void> check_new_name(std::string_view name);

// Converts an extent::Store error into the file system's: not_found stays not_found, too_big
// becomes file_too_big, unavailable becomes io.
Error from_store(extent::Error e);

}  // namespace dsys::fs
