// dsys/net/file_storage.hpp: the real world's disk, a directory with one file per key.
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include "dsys/core/storage.hpp"

namespace dsys::net {

// Files in a directory. A write goes to KEY.tmp and is renamed over KEY; sync() fsyncs every
// file written since the last sync, then the directory.
class FileStorage final : public core::Storage {
 public:
  explicit FileStorage(std::filesystem::path dir);
  void write(std::string_view key, std::string_view value) override;
  void remove(std::string_view key) override;
  void sync() override;
  std::optional<std::string> read(std::string_view key) const override;
  std::vector<std::string> keys() const override;

  const std::filesystem::path& directory() const { return dir_; }

 private:
  static void check(std::string_view key);
  std::filesystem::path dir_;
  std::set<std::string> dirty_;
  bool dirty_dir_ = false;
};

}  // namespace dsys::net
