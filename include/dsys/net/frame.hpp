// dsys/net/frame.hpp: the framing of messages on a TCP stream, as a pure decoder that tests and
// fuzzers can drive without a socket.
//
// A frame is a 4-byte little-endian length, then that many bytes of message. A receiver owns
// one FrameDecoder per connection and loops:
//
//   std::span<char> room = decoder.prepare();        // read into this...
//   std::size_t n = socket.read_some(room);          // ...(any number of bytes, even 1)...
//   decoder.commit(n);                               // ...and say how many arrived
//   while (auto message = decoder.next()) deliver(std::move(*message));
//   if (decoder.failed()) close(decoder.error());
//
// Memory: the decoder's buffer grows as bytes arrive, never ahead of them, whatever length a
// frame announces: a peer that sends a header announcing 16 MiB and then nothing costs one read
// chunk (64 KiB), not 16 MiB. A connection never holds more than max_frame + 4 + one chunk.
//
// Threading: a FrameDecoder is a plain value with no synchronisation; one owner uses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dsys::net {

// The largest message a connection accepts. A frame announcing more closes the connection.
inline constexpr std::size_t kMaxFrame = 16u << 20;
// The size of a frame's length field.
inline constexpr std::size_t kFrameHeader = 4;

// Appends `message` to `out` as one frame (its 4-byte little-endian length, then its bytes).
// The caller keeps messages within kMaxFrame (a peer refuses longer frames); a message that
// does not fit in 32 bits throws std::length_error.
void append_frame(std::string& out, std::string_view message);

// Splits a byte stream into frames. Bytes go in through prepare()/commit(); complete messages
// come out of next(), in order, each exactly as append_frame() wrapped it.
class FrameDecoder {
 public:
  // How much room prepare() offers at least: the largest useful single read.
  static constexpr std::size_t kReadChunk = 64u << 10;

  // A decoder refusing frames longer than `max_frame`, reading `read_chunk` bytes at a time
  // (both > 0; tests use small values).
  explicit FrameDecoder(std::size_t max_frame = kMaxFrame, std::size_t read_chunk = kReadChunk);
  FrameDecoder(FrameDecoder&&) noexcept = default;
  FrameDecoder& operator=(FrameDecoder&&) noexcept = default;

  // Room for the next read: at least half of read_chunk bytes, usually more (empty once
  // failed()). It stays valid until the next call of any non-const member. The buffer grows
  // here, and only here, when less than half a chunk is free: to max(buffered + read_chunk,
  // buffered × 3/2), never beyond the frame in progress plus read_chunk, so never beyond
  // max_frame + 4 + read_chunk bytes.
  std::span<char> prepare();
  // Records that the first `n` bytes of the last prepare()'s room were filled (n ≤ its size).
  // A frame header announcing more than max_frame puts the decoder in the failed state.
  void commit(std::size_t n);

  // The next complete message, or nullopt when none is complete yet (or after a failure).
  // Costs one allocation and one copy: the returned string.
  std::optional<std::string> next();

  // True once the stream is known to be bad; the connection should be closed. Final.
  bool failed() const { return !error_.empty(); }
  // Why it failed: "oversized frame: 20000000 bytes announced, at most 16777216".
  const std::string& error() const { return error_; }

  // The length the next frame announces, once its 4-byte header has arrived (nullopt before).
  std::optional<std::size_t> announced() const;

  // Bytes received and not yet returned by next(): nonzero when a stream ends mid-frame.
  std::size_t buffered() const { return end_ - begin_; }
  // Bytes of memory the decoder holds.
  std::size_t capacity() const { return capacity_; }
  // Gives back the memory not needed for the bytes buffered (all of it when none are), for an
  // idle connection; the next prepare() allocates again.
  void shrink();

 private:
  void check_header();
  void reallocate(std::size_t new_capacity);

  std::size_t max_frame_;
  std::size_t read_chunk_;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;  // the first byte not yet returned
  std::size_t end_ = 0;    // one past the last byte received
  std::string error_;
};

}  // namespace dsys::net
