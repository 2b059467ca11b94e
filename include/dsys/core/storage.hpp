// dsys/core/storage.hpp: a node's durable storage, the only state that survives a crash.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsys::core {

// A small key-value disk. Keys are names made of [A-Za-z0-9._-] (at most 200 characters).
// Contract: write() and remove() take effect at once for read(), but survive a crash only after
// a later sync() has returned; a crash may lose any unsynced suffix of them (the fault plan of the
// simulated world decides how much). All calls are from the node's own executor.
class Storage {
 public:
  virtual ~Storage() = default;
  virtual void write(std::string_view key, std::string_view value) = 0;
  virtual void remove(std::string_view key) = 0;
  virtual void sync() = 0;
  virtual std::optional<std::string> read(std::string_view key) const = 0;
  virtual std::vector<std::string> keys() const = 0;  // in lexicographic order

  // True when `key` is a legal key; write/remove/read throw UsageError otherwise.
  static bool valid_key(std::string_view key);
};

}  // namespace dsys::core
