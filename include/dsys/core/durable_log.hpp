// dsys/core/durable_log.hpp: an append-only log of records on a node's Storage (Paxos's log, an
// acceptor's promises), read back in order after a restart.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dsys/core/context.hpp"
#include "dsys/core/storage.hpp"

namespace dsys::core {

// Records kept under one storage key, each framed with its length and a CRC-32C of the length
// and the bytes. append() costs the record (Storage::append); truncations rewrite the whole log
// (they are rare).
//
// Guarantees:
//  - every record appended before a sync() that returned is read back after any later crash, in
//    order, byte for byte (until it is truncated away and that truncation is synced);
//  - after a crash, the log read back is a prefix of what was appended: the synced records, and
//    perhaps some of the unsynced ones after them, never a record that was not appended;
//  - a torn record (a crash in the middle of a sync) or a corrupt one is detected by its frame:
//    the reader drops it and everything after it, counts the bytes (dropped_bytes()), logs a line,
//    and rewrites the log without them, so that later appends follow the last good record. It
//    never crashes on a bad log and never returns a record it cannot vouch for.
//
// Positions: records()[0] is the oldest record kept; base() is its absolute index (the number
// of records ever dropped by truncate_prefix), which survives restarts, so a caller can number
// records (log slots) stably. The records are kept in memory as well as on the disk.
//
// Threading: the node's own executor, like the Storage it writes to. Not copyable: it owns its key.
class DurableLog {
 public:
  using Logger = std::function<void(std::string_view)>;

  // Opens (reading back) the log under `key`; `log` receives the line about a dropped tail.
  DurableLog(Storage& storage, std::string key, const Logger& log = nullptr);
  // The same on the node's disk, logging through ctx.log.
  DurableLog(Context& ctx, std::string key);
  DurableLog(const DurableLog&) = delete;
  DurableLog& operator=(const DurableLog&) = delete;

  // Adds a record at the end; durable after the next sync(). Throws UsageError above kMaxRecord.
  void append(std::string_view record);
  // Makes everything appended or truncated so far durable (Storage::sync: the whole disk).
  void sync();
  // Drops the first `n` records (base() grows by `n`); throws UsageError when n > size().
  void truncate_prefix(std::size_t n);
  // Drops the records at positions `from` and after; throws UsageError when from > size().
  void truncate_suffix(std::size_t from);

  const std::vector<std::string>& records() const { return records_; }
  const std::string& operator[](std::size_t i) const { return records_.at(i); }
  std::size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  std::uint64_t base() const { return base_; }
  const std::string& key() const { return key_; }
  // Bytes of a torn or corrupt tail dropped when the log was opened (0 for a clean log).
  std::size_t dropped_bytes() const { return dropped_bytes_; }

  static constexpr std::size_t kMaxRecord = 64u << 20;

  // What a log's stored bytes hold: the good records, the bytes that make them up (a prefix of
  // `bytes`), and what was dropped after them and why. Never throws.
  struct Decoded {
    std::uint64_t base = 0;
    std::vector<std::string> records;
    std::size_t good_bytes = 0;
    std::size_t dropped_bytes = 0;
    std::string problem;  // empty when nothing was dropped
  };
  static Decoded decode(std::string_view bytes);

 private:
  void rewrite();
  Storage& storage_;
  std::string key_;
  std::vector<std::string> records_;
  std::uint64_t base_ = 0;
  std::size_t dropped_bytes_ = 0;
  bool stored_ = false;  // the key holds a header
};

// CRC-32C (Castagnoli) of `bytes`, continuing from `crc` (0 to start).
std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0);

}  // namespace dsys::core
