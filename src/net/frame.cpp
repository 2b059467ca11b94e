#include "dsys/net/frame.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace dsys::net {

namespace {

std::size_t read_length(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return std::size_t{b[0]} | (std::size_t{b[1]} << 8) | (std::size_t{b[2]} << 16) |
         (std::size_t{b[3]} << 24);
}

}  // namespace

void append_frame(std::string& out, std::string_view message) {
  if (message.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error(fmt::format("a frame of {} bytes", message.size()));
  }
  const auto n = static_cast<std::uint32_t>(message.size());
  const char header[kFrameHeader] = {
      static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
      static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 24) & 0xff)};
  out.reserve(out.size() + kFrameHeader + message.size());
  out.append(header, kFrameHeader);
  out.append(message);
}

FrameDecoder::FrameDecoder(std::size_t max_frame, std::size_t read_chunk)
    : max_frame_(max_frame), read_chunk_(std::max<std::size_t>(read_chunk, 1)) {}

std::span<char> FrameDecoder::prepare() {
  if (failed()) return {};
  const std::size_t used = buffered();
  if (used == 0) begin_ = end_ = 0;
  // Room enough: half a chunk. (Waiting for less would let a peer sending one byte at a time
  // make every read copy the buffer.)
  const std::size_t enough = std::max<std::size_t>(1, read_chunk_ / 2);
  if (capacity_ - end_ >= enough) return {buffer_.get() + end_, capacity_ - end_};
  // Slide the unread bytes to the front when that moves no more than has been consumed since
  // the last slide (so each byte moves O(1) times), and when it makes room enough.
  if (begin_ != 0 && begin_ >= used && capacity_ - used >= enough) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, used);
    begin_ = 0;
    end_ = used;
    return {buffer_.get() + end_, capacity_ - end_};
  }
  // Grow, geometrically (so a big frame arriving in small pieces is copied O(1) times), but
  // never far beyond what has arrived, nor beyond the frame in progress plus one read.
  std::size_t want = std::max(used + read_chunk_, used + used / 2);
  std::size_t frame = max_frame_ + kFrameHeader;  // header not yet complete: any frame
  if (used >= kFrameHeader) frame = kFrameHeader + read_length(buffer_.get() + begin_);
  want = std::min(want, std::max(frame, used) + read_chunk_);
  reallocate(want);
  return {buffer_.get() + end_, capacity_ - end_};
}

void FrameDecoder::commit(std::size_t n) {
  if (n > capacity_ - end_) throw std::out_of_range("FrameDecoder::commit: more than prepared");
  end_ += n;
  check_header();
}

std::optional<std::string> FrameDecoder::next() {
  if (failed() || buffered() < kFrameHeader) return std::nullopt;
  const std::size_t length = read_length(buffer_.get() + begin_);
  if (buffered() - kFrameHeader < length) return std::nullopt;
  std::optional<std::string> message(std::in_place, buffer_.get() + begin_ + kFrameHeader, length);
  begin_ += kFrameHeader + length;
  if (begin_ == end_) begin_ = end_ = 0;
  check_header();
  return message;
}

void FrameDecoder::shrink() {
  if (capacity_ == buffered()) return;
  reallocate(buffered());
}

// Refuses an oversized frame as soon as its header is complete, before any room is made for it.
std::optional<std::size_t> FrameDecoder::announced() const {
  if (buffered() < kFrameHeader) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.get() + begin_);
  return std::size_t{p[0]} | (std::size_t{p[1]} << 8) | (std::size_t{p[2]} << 16) |
         (std::size_t{p[3]} << 24);
}

void FrameDecoder::check_header() {
  if (failed() || buffered() < kFrameHeader) return;
  const std::size_t length = read_length(buffer_.get() + begin_);
  if (length > max_frame_) {
    error_ = fmt::format("oversized frame: {} bytes announced, at most {}", length, max_frame_);
  }
}

// Moves the unread bytes to the front of a new buffer of `new_capacity` bytes (≥ buffered()).
void FrameDecoder::reallocate(std::size_t new_capacity) {
  const std::size_t used = buffered();
  std::unique_ptr<char[]> fresh;
  if (new_capacity != 0) {
    fresh = std::make_unique_for_overwrite<char[]>(new_capacity);
    if (used != 0) std::memcpy(fresh.get(), buffer_.get() + begin_, used);
  }
  buffer_ = std::move(fresh);
  capacity_ = new_capacity;
  begin_ = 0;
  end_ = used;
}

}  // namespace dsys::net
