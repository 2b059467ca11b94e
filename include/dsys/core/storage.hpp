// dsys/core/storage.hpp: a node's durable storage, the only state that survives a crash.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsys::core {

// A small key-value disk. Keys are names made of [A-Za-z0-9._-] (at most 200 characters).
// Contract: write(), append() and remove() take effect at once for read(), but survive a crash
// only after a later sync() has returned; a crash may lose any unsynced suffix of them, in the
// order they were made (the fault plan of the simulated world decides how much). A write or a
// removal is atomic: a crash leaves the old value or the new one, never a mix. An append is not:
// a crash before the next sync may keep any prefix of its bytes (a torn append), which is why a
// log over append() frames and checksums its records (core::DurableLog). sync() costs what was
// written since the last sync, not the size of the disk. A call that fails (a full disk, an I/O
// error) throws, and a sync() that throws has not made anything durable that was not before.
// All calls are from the node's own executor.
class Storage {
 public:
  virtual ~Storage() = default;
  virtual void write(std::string_view key, std::string_view value) = 0;
  // Adds `bytes` at the end of the value of `key` (an absent key is created, empty, first).
  // The default rewrites the whole value; disks override it to cost only `bytes`.
  virtual void append(std::string_view key, std::string_view bytes) {
    std::string value = read(key).value_or(std::string());
    value.append(bytes);
    write(key, value);
  }
  virtual void remove(std::string_view key) = 0;
  virtual void sync() = 0;
  virtual std::optional<std::string> read(std::string_view key) const = 0;
  virtual std::vector<std::string> keys() const = 0;  // in lexicographic order

  // True when `key` is a legal key; write/remove/read throw UsageError otherwise.
  static bool valid_key(std::string_view key);
};

}  // namespace dsys::core
