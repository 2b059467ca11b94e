// dsys/net/file_storage.hpp: the real world's disk, a directory with one file per key.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "dsys/core/storage.hpp"

namespace dsys::net {

// Files in a directory, one per key. The core::Storage contract, on a POSIX file system:
//  - write(key, v) writes KEY.tmp, fsyncs it, and renames it over KEY: once it returns, a crash
//    leaves the old value or the new one, never an empty or partial file. The rename itself is
//    made durable by the next sync(), which fsyncs the directory.
//  - append(key, b) adds b to KEY (opened with O_APPEND); the next sync() fsyncs it. A crash
//    before that may keep any prefix of the appended bytes (core::DurableLog detects that).
//  - remove(key) unlinks KEY; the next sync() makes that durable (fsync of the directory).
//  - sync() fsyncs every file appended to since the last sync, then the directory if a file was
//    created, renamed or removed. Each costs what changed, not the size of the disk.
// Every open, write, fsync, close, rename and unlink is checked: a failure (a full disk, a file
// size limit, an I/O error) throws std::system_error whose what() names the operation, the path
// and the errno text. A write that throws leaves the old value in place (its KEY.tmp is removed);
// an append that throws leaves the file as it was (its length is restored) when it can. After a
// sync() throws, what is durable is unknown (the kernel may have dropped the dirty pages): the
// node should stop, as if it had crashed.
// At start, KEY.tmp files left by a crash in the middle of a write are removed.
// With `fsync` false (a benchmark's "fsync off"), nothing is fsynced: what sync() promised then
// survives a crash of the process (the kernel has it), not one of the machine.
class FileStorage final : public core::Storage {
 public:
  explicit FileStorage(std::filesystem::path dir, bool fsync = true);
  ~FileStorage() override;
  FileStorage(const FileStorage&) = delete;
  FileStorage& operator=(const FileStorage&) = delete;

  void write(std::string_view key, std::string_view value) override;
  void append(std::string_view key, std::string_view bytes) override;
  void remove(std::string_view key) override;
  void sync() override;
  std::optional<std::string> read(std::string_view key) const override;
  std::vector<std::string> keys() const override;

  const std::filesystem::path& directory() const { return dir_; }

 private:
  static void check(std::string_view key);
  void forget(const std::string& key);  // closes the file appended to, without fsyncing it
  std::filesystem::path dir_;
  bool fsync_;
  std::map<std::string, int> appended_;  // files appended to since the last sync: key -> fd
  bool dirty_dir_ = false;
};

}  // namespace dsys::net
