// The file system's types: see dsys/fs/types.hpp, dsys/fs/directory.hpp and
// dsys/fs/file_system.hpp.
#include <cerrno>
#include <cstring>

#include "dsys/fs/directory.hpp"
#include "dsys/fs/file_system.hpp"
#include "dsys/fs/types.hpp"

namespace dsys::fs {

std::string_view to_string(Error e) {
  switch (e) {
    case Error::not_found:
      return "not found";
    case Error::exists:
      return "exists";
    case Error::not_directory:
      return "not a directory";
    case Error::is_directory:
      return "is a directory";
    case Error::name_too_long:
      return "name too long";
    case Error::invalid_name:
      return "invalid name";
    case Error::file_too_big:
      return "file too big";
    case Error::not_empty:
      return "directory not empty";
    case Error::not_supported:
      return "not supported";
    case Error::io:
      return "I/O error";
  }
  return "unknown error";
}

int to_errno(Error e) {
  switch (e) {
    case Error::not_found:
      return ENOENT;
    case Error::exists:
      return EEXIST;
    case Error::not_directory:
      return ENOTDIR;
    case Error::is_directory:
      return EISDIR;
    case Error::name_too_long:
      return ENAMETOOLONG;
    case Error::invalid_name:
      return EINVAL;
    case Error::file_too_big:
      return EFBIG;
    case Error::not_empty:
      return ENOTEMPTY;
    case Error::not_supported:
      return ENOSYS;
    case Error::io:
      return EIO;
  }
  return EIO;
}

Result<void> check_new_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return Error::invalid_name;
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return Error::invalid_name;
  }
  if (name.size() > kMaxNameLength) return Error::name_too_long;
  return {};
}

Error from_store(extent::Error e) {
  switch (e) {
    case extent::Error::not_found:
      return Error::not_found;
    case extent::Error::too_big:
      return Error::file_too_big;
    case extent::Error::unavailable:
      return Error::io;
  }
  return Error::io;
}

// ---- Directory

namespace {
void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= std::uint64_t{static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)])} << (8 * i);
  }
  return v;
}

// The name length at `at` (the u16 that starts each entry).
std::size_t name_length(std::string_view bytes, std::size_t at) {
  return static_cast<unsigned char>(bytes[at]) |
         (std::size_t{static_cast<unsigned char>(bytes[at + 1])} << 8);
}

// Names of at most 8 bytes (most of them) are checked and compared as one 64-bit word: the 8
// bytes from a name's start are always there, since its entry's inum follows it.
constexpr std::uint64_t kOnes = 0x0101010101010101u;
std::uint64_t word_at(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}
std::uint64_t low_bytes(std::size_t n) {  // the mask of a word's first n bytes (n <= 8)
  return n == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * n)) - 1;
}
bool has_zero_byte(std::uint64_t v) {
  return ((v - kOnes) & ~v & (kOnes << 7)) != 0;
}
// Whether the name of `length` bytes at `p` holds a '/' or a '\0'.
bool bad_name(const char* p, std::size_t length) {
  if (length <= 8) {
    const std::uint64_t mask = low_bytes(length);
    const std::uint64_t w = (word_at(p) & mask) | (kOnes & ~mask);  // the rest: 0x01, harmless
    return has_zero_byte(w) || has_zero_byte(w ^ (kOnes * '/'));
  }
  for (const char* c = p; c != p + length; ++c) {
    if (*c == '/' || *c == '\0') return true;
  }
  return false;
}
}  // namespace

std::optional<Directory> Directory::decode(std::string_view bytes) {
  Directory d;
  std::size_t at = 0;
  const char* data = bytes.data();
  while (at < bytes.size()) {
    if (bytes.size() - at < 2) return std::nullopt;
    const std::size_t length = name_length(bytes, at);
    at += 2;
    if (length == 0 || length > kMaxNameLength || bytes.size() - at < length + 8) {
      return std::nullopt;
    }
    if (bad_name(data + at, length)) return std::nullopt;
    at += length + 8;
    ++d.count_;
  }
  d.bytes_ = bytes;
  return d;
}

std::string Directory::encode() const {
  return bytes_;
}

std::optional<std::size_t> Directory::offset_of(std::string_view name) const {
  const std::string_view bytes = bytes_;
  if (name.size() <= 8) {  // one word compare per entry
    const std::uint64_t mask = low_bytes(name.size());
    std::uint64_t wanted = 0;
    std::memcpy(&wanted, name.data(), name.size());
    for (std::size_t at = 0; at < bytes.size();) {
      const std::size_t length = name_length(bytes, at);
      if (length == name.size() && (word_at(bytes.data() + at + 2) & mask) == wanted) return at;
      at += 2 + length + 8;
    }
    return std::nullopt;
  }
  for (std::size_t at = 0; at < bytes.size();) {
    const std::size_t length = name_length(bytes, at);
    if (length == name.size() && std::memcmp(bytes.data() + at + 2, name.data(), length) == 0)
      return at;
    at += 2 + length + 8;
  }
  return std::nullopt;
}

std::optional<Inum> Directory::find(std::string_view name) const {
  const auto at = offset_of(name);
  if (!at) {
    missed_ = std::string(name);
    return std::nullopt;
  }
  return get_le(bytes_, *at + 2 + name.size(), 8);
}

bool Directory::add(std::string_view name, Inum inum) {
  // (find(name) just missed, unchanged since: as a create does, to answer `exists` first)
  const bool known_absent = missed_ && *missed_ == name;
  if (!known_absent && offset_of(name)) return false;
  put_le(bytes_, name.size(), 2);
  bytes_ += name;
  put_le(bytes_, inum, 8);
  ++count_;
  entries_.reset();
  missed_.reset();
  return true;
}

bool Directory::remove(std::string_view name) {
  const auto at = offset_of(name);
  if (!at) return false;
  bytes_.erase(*at, 2 + name.size() + 8);
  --count_;
  entries_.reset();
  missed_.reset();
  return true;
}

const std::vector<DirEntry>& Directory::entries() const {
  if (!entries_) {
    std::vector<DirEntry> all;
    all.reserve(count_);
    const std::string_view bytes = bytes_;
    for (std::size_t at = 0; at < bytes.size();) {
      const auto length = static_cast<std::size_t>(get_le(bytes, at, 2));
      all.push_back({std::string(bytes.substr(at + 2, length)), get_le(bytes, at + 2 + length, 8)});
      at += 2 + length + 8;
    }
    entries_ = std::move(all);
  }
  return *entries_;
}

// ---- FileSystem: the operations of later labs, until a lab has them

core::Task<Result<Attributes>> FileSystem::setattr(Inum, std::uint64_t) {
  co_return Error::not_supported;
}
core::Task<Result<std::string>> FileSystem::read(Inum, std::uint64_t, std::size_t) {
  co_return Error::not_supported;
}
core::Task<Result<std::size_t>> FileSystem::write(Inum, std::uint64_t, std::string) {
  co_return Error::not_supported;
}
core::Task<Result<Inum>> FileSystem::mkdir(Inum, std::string) {
  co_return Error::not_supported;
}
core::Task<Result<void>> FileSystem::unlink(Inum, std::string) {
  co_return Error::not_supported;
}

}  // namespace dsys::fs
