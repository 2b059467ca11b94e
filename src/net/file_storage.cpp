#include "dsys/net/file_storage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "dsys/core/error.hpp"

namespace dsys::net {

namespace {

[[noreturn]] void fail(std::string_view what, const std::filesystem::path& path, int error) {
  throw std::system_error(error, std::generic_category(),
                          fmt::format("storage: {} {}", what, path.string()));
}

int open_or_throw(const std::filesystem::path& path, int flags, mode_t mode = 0644) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail("open", path, errno);
  return fd;
}

// Writes all of `bytes`; returns 0, or the errno of the write that failed.
int write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

void fsync_or_throw(int fd, const std::filesystem::path& path) {
  if (::fsync(fd) != 0) fail("fsync", path, errno);
}

void close_or_throw(int fd, const std::filesystem::path& path) {
  if (::close(fd) != 0) fail("close", path, errno);
}

void fsync_directory(const std::filesystem::path& dir) {
  const int fd = open_or_throw(dir, O_RDONLY | O_DIRECTORY);
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    fail("fsync", dir, error);
  }
  close_or_throw(fd, dir);
}

}  // namespace

FileStorage::FileStorage(std::filesystem::path dir, bool fsync)
    : dir_(std::move(dir)), fsync_(fsync) {
  std::filesystem::create_directories(dir_);
  // A KEY.tmp is a write that a crash interrupted before its rename: the old KEY still stands.
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().extension() == ".tmp" && entry.is_regular_file()) {
      std::filesystem::remove(entry.path());
      dirty_dir_ = true;
    }
  }
}

FileStorage::~FileStorage() {
  for (const auto& [key, fd] : appended_) ::close(fd);
}

void FileStorage::forget(const std::string& key) {
  if (auto it = appended_.find(key); it != appended_.end()) {
    ::close(it->second);  // its bytes are being replaced or removed: no need to fsync them
    appended_.erase(it);
  }
}

void FileStorage::write(std::string_view key, std::string_view value) {
  check(key);
  const auto path = dir_ / std::string(key);
  auto tmp = path;
  tmp += ".tmp";
  const int fd = open_or_throw(tmp, O_WRONLY | O_CREAT | O_TRUNC);
  auto give_up = [&](std::string_view what, int error, bool close_fd) {
    if (close_fd) ::close(fd);
    ::unlink(tmp.c_str());
    fail(what, tmp, error);
  };
  if (const int error = write_all(fd, value); error != 0) give_up("write", error, true);
  if (fsync_ && ::fsync(fd) != 0) give_up("fsync", errno, true);
  if (::close(fd) != 0) give_up("close", errno, false);
  if (::rename(tmp.c_str(), path.c_str()) != 0) give_up("rename to " + path.string(), errno, false);
  forget(std::string(key));
  dirty_dir_ = true;
}

void FileStorage::append(std::string_view key, std::string_view bytes) {
  check(key);
  const std::string name(key);
  const auto path = dir_ / name;
  auto it = appended_.find(name);
  if (it == appended_.end()) {
    int fd = -1;
    do {
      fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0 && errno == ENOENT) {
      fd = open_or_throw(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL);
      dirty_dir_ = true;  // a new name in the directory
    } else if (fd < 0) {
      fail("open", path, errno);
    }
    it = appended_.emplace(name, fd).first;
  }
  const int fd = it->second;
  struct stat before {};
  if (::fstat(fd, &before) != 0) fail("stat", path, errno);
  if (const int error = write_all(fd, bytes); error != 0) {
    // Take back what part of it was written, so that the file is as it was.
    if (::ftruncate(fd, before.st_size) != 0) {
      fail(fmt::format("append (and restoring its length: {})", std::strerror(errno)), path, error);
    }
    fail("append", path, error);
  }
}

void FileStorage::remove(std::string_view key) {
  check(key);
  const auto path = dir_ / std::string(key);
  forget(std::string(key));
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return;
    fail("unlink", path, errno);
  }
  dirty_dir_ = true;
}

void FileStorage::sync() {
  // Files first, then the directory that names them. An entry is forgotten only once synced.
  while (!appended_.empty()) {
    auto it = appended_.begin();
    const auto path = dir_ / it->first;
    if (fsync_) fsync_or_throw(it->second, path);
    const int fd = it->second;
    appended_.erase(it);
    close_or_throw(fd, path);
  }
  if (dirty_dir_) {
    if (fsync_) fsync_directory(dir_);
    dirty_dir_ = false;
  }
}

std::optional<std::string> FileStorage::read(std::string_view key) const {
  check(key);
  const auto path = dir_ / std::string(key);
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    fail("open", path, errno);
  }
  std::string out;
  char buffer[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      fail("read", path, error);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::vector<std::string> FileStorage::keys() const {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::string name = entry.path().filename().string();
    if (valid_key(name) && !name.ends_with(".tmp")) out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void FileStorage::check(std::string_view key) {
  if (!valid_key(key) || key.ends_with(".tmp"))
    throw UsageError(fmt::format("bad storage key '{}'", key));
}

}  // namespace dsys::net
