// dsys/fs/directory.hpp: a directory's contents, as kept in its extent.
//
// Every lab stores directories this way, so that one lab's code reads another's directories
// (a lab built on the reference of the labs before it, a test that looks at the extents).
// An empty extent is an empty directory. Encoding, per entry in order, little-endian:
//   u16 name length (1..255), the name's bytes, u64 inum.
// decode() rejects anything else (a truncated entry, a bad length, '/' or '\0' in a name): a
// directory extent that does not decode is corrupt, and the operation that read it fails with
// Error::io rather than losing entries.
//
// Directory knows nothing of extents or RPC: read the extent, decode, change, encode, write it.
//
// A Directory keeps its encoding itself, and find, add and remove work on it in place: decode is
// one check of the bytes and one copy, encode a copy, with no allocation per entry. (A create in a
// directory of a few hundred entries decodes and encodes it several times: this is most of what
// the yfs client itself costs once lab 6 caches the extents.) entries() decodes, on first use
// after a change.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsys/fs/types.hpp"

namespace dsys::fs {

class Directory {
 public:
  Directory() = default;  // empty

  // The directory encoded in `bytes`, or nullopt when they are not a directory's encoding.
  static std::optional<Directory> decode(std::string_view bytes);
  std::string encode() const;

  // The inum that `name` names here, if any.
  std::optional<Inum> find(std::string_view name) const;
  // Adds `name` → `inum` at the end; false (and nothing changes) when `name` is here already.
  // Precondition: check_new_name(name) holds.
  bool add(std::string_view name, Inum inum);
  // Removes `name`; false when it is not here.
  bool remove(std::string_view name);

  // Every entry, in the order they were added. The reference is valid until the next change.
  const std::vector<DirEntry>& entries() const;
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

 private:
  // Where the entry named `name` starts in bytes_, if it is there.
  std::optional<std::size_t> offset_of(std::string_view name) const;

  std::string bytes_;  // the encoding, always well formed
  std::size_t count_ = 0;
  mutable std::optional<std::vector<DirEntry>> entries_;  // decoded by entries(), until a change
  mutable std::optional<std::string> missed_;  // the name find() last missed, until a change
};

}  // namespace dsys::fs
