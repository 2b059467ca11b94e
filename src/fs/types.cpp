// The file system's types: see dsys/fs/types.hpp, dsys/fs/directory.hpp and
// dsys/fs/file_system.hpp.
#include <cerrno>

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
}  // namespace

std::optional<Directory> Directory::decode(std::string_view bytes) {
  Directory d;
  std::size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 2) return std::nullopt;
    const auto length = static_cast<std::size_t>(get_le(bytes, at, 2));
    at += 2;
    if (length == 0 || length > kMaxNameLength || bytes.size() - at < length + 8) {
      return std::nullopt;
    }
    std::string name(bytes.substr(at, length));
    if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
      return std::nullopt;
    }
    at += length;
    d.entries_.push_back({std::move(name), get_le(bytes, at, 8)});
    at += 8;
  }
  return d;
}

std::string Directory::encode() const {
  std::string out;
  for (const auto& e : entries_) {
    put_le(out, e.name.size(), 2);
    out += e.name;
    put_le(out, e.inum, 8);
  }
  return out;
}

std::optional<Inum> Directory::find(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return e.inum;
  }
  return std::nullopt;
}

bool Directory::add(std::string name, Inum inum) {
  if (find(name)) return false;
  entries_.push_back({std::move(name), inum});
  return true;
}

bool Directory::remove(std::string_view name) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->name == name) {
      entries_.erase(it);
      return true;
    }
  }
  return false;
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
