#include "dsys/net/file_storage.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "dsys/core/error.hpp"

namespace dsys::net {

namespace {
void fsync_path(const std::filesystem::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}
}  // namespace

FileStorage::FileStorage(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
}

void FileStorage::write(std::string_view key, std::string_view value) {
  check(key);
  const auto path = dir_ / std::string(key);
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(value.data(), static_cast<std::streamsize>(value.size()));
    if (!out) throw std::runtime_error(fmt::format("cannot write {}", tmp.string()));
  }
  std::filesystem::rename(tmp, path);
  dirty_.insert(std::string(key));
}

void FileStorage::remove(std::string_view key) {
  check(key);
  std::error_code ec;
  std::filesystem::remove(dir_ / std::string(key), ec);
  dirty_dir_ = true;
}

void FileStorage::sync() {
  for (const auto& key : dirty_) fsync_path(dir_ / key);
  if (!dirty_.empty() || dirty_dir_) fsync_path(dir_);
  dirty_.clear();
  dirty_dir_ = false;
}

std::optional<std::string> FileStorage::read(std::string_view key) const {
  check(key);
  std::ifstream in(dir_ / std::string(key), std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
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
