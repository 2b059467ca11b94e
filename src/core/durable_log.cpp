#include "dsys/core/durable_log.hpp"

#include <array>

#include <fmt/format.h>

#include "dsys/core/error.hpp"

namespace dsys::core {

// On the disk: a header, then the records.
//   header: "DLOG", the base (8 bytes, little endian), CRC-32C of those 12 bytes (4 bytes)
//   record: its length (4 bytes), CRC-32C of the length bytes and the record (4 bytes), the record
namespace {

constexpr std::string_view kMagic = "DLOG";
constexpr std::size_t kHeader = 16;
constexpr std::size_t kFrame = 8;

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0x82f63b78u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrcTable = make_crc_table();

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

std::string header(std::uint64_t base) {
  std::string out(kMagic);
  put_le(out, base, 8);
  put_le(out, crc32c(out), 4);
  return out;
}

void frame(std::string& out, std::string_view record) {
  std::string length;
  put_le(length, record.size(), 4);
  out += length;
  put_le(out, crc32c(record, crc32c(length)), 4);
  out += record;
}

}  // namespace

std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc) {
  crc = ~crc;
  for (char ch : bytes) crc = kCrcTable[(crc ^ static_cast<unsigned char>(ch)) & 0xff] ^ (crc >> 8);
  return ~crc;
}

DurableLog::Decoded DurableLog::decode(std::string_view bytes) {
  Decoded d;
  if (bytes.empty()) return d;
  auto drop = [&](std::string problem) {
    d.dropped_bytes = bytes.size() - d.good_bytes;
    d.problem = std::move(problem);
    return d;
  };
  if (bytes.size() < kHeader) return drop("torn header");
  if (bytes.substr(0, 4) != kMagic || get_le(bytes, 12, 4) != crc32c(bytes.substr(0, 12)))
    return drop("corrupt header");
  d.base = get_le(bytes, 4, 8);
  d.good_bytes = kHeader;
  while (d.good_bytes < bytes.size()) {
    const std::size_t at = d.good_bytes;
    const std::size_t left = bytes.size() - at;
    if (left < kFrame) return drop(fmt::format("torn frame of record {}", d.records.size()));
    const std::size_t length = get_le(bytes, at, 4);
    const auto crc = static_cast<std::uint32_t>(get_le(bytes, at + 4, 4));
    if (length > kMaxRecord) {
      return drop(fmt::format("corrupt length of record {}", d.records.size()));
    }
    if (length > left - kFrame) return drop(fmt::format("torn record {}", d.records.size()));
    const std::string_view record = bytes.substr(at + kFrame, length);
    if (crc32c(record, crc32c(bytes.substr(at, 4))) != crc) {
      return drop(fmt::format("bad checksum of record {}", d.records.size()));
    }
    d.records.emplace_back(record);
    d.good_bytes = at + kFrame + length;
  }
  return d;
}

DurableLog::DurableLog(Storage& storage, std::string key, const Logger& log)
    : storage_(storage), key_(std::move(key)) {
  const std::optional<std::string> bytes = storage_.read(key_);
  if (!bytes) return;
  Decoded d = decode(*bytes);
  base_ = d.base;
  records_ = std::move(d.records);
  dropped_bytes_ = d.dropped_bytes;
  stored_ = d.good_bytes >= kHeader;
  if (d.dropped_bytes == 0) return;
  if (log) {
    log(fmt::format("log {}: dropped {} bytes after record {} ({}); {} records kept", key_,
                    d.dropped_bytes, base_ + records_.size(), d.problem, records_.size()));
  }
  // Cut the bad tail off, so that the next append follows the last good record.
  if (stored_) {
    storage_.write(key_, std::string_view(*bytes).substr(0, d.good_bytes));
  } else {
    storage_.remove(key_);
  }
}

DurableLog::DurableLog(Context& ctx, std::string key)
    : DurableLog(ctx.storage(), std::move(key),
                 [&ctx](std::string_view line) { ctx.log("{}", line); }) {}

void DurableLog::append(std::string_view record) {
  if (record.size() > kMaxRecord) {
    throw UsageError(fmt::format("log {}: a record of {} bytes is over the limit of {}", key_,
                                 record.size(), kMaxRecord));
  }
  std::string bytes;
  if (!stored_) bytes = header(base_);
  frame(bytes, record);
  if (stored_) {
    storage_.append(key_, bytes);
  } else {
    storage_.write(key_, bytes);  // the header and the first record, atomically
    stored_ = true;
  }
  records_.emplace_back(record);
}

void DurableLog::sync() {
  storage_.sync();
}

void DurableLog::truncate_prefix(std::size_t n) {
  if (n > records_.size()) {
    throw UsageError(fmt::format("log {}: cannot drop {} of {} records", key_, n, records_.size()));
  }
  if (n == 0) return;
  records_.erase(records_.begin(), records_.begin() + static_cast<std::ptrdiff_t>(n));
  base_ += n;
  rewrite();
}

void DurableLog::truncate_suffix(std::size_t from) {
  if (from > records_.size()) {
    throw UsageError(
        fmt::format("log {}: cannot keep {} of {} records", key_, from, records_.size()));
  }
  if (from == records_.size()) return;
  records_.resize(from);
  rewrite();
}

void DurableLog::rewrite() {
  std::string bytes = header(base_);
  for (const auto& record : records_) frame(bytes, record);
  storage_.write(key_, bytes);
  stored_ = true;
}

}  // namespace dsys::core
