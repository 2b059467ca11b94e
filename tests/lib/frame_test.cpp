// The TCP framing, without a socket: net::FrameDecoder fed byte ranges as reads would.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "dsys/net/frame.hpp"

using dsys::net::append_frame;
using dsys::net::FrameDecoder;
using dsys::net::kFrameHeader;
using dsys::net::kMaxFrame;

namespace {

// Feeds `bytes` as one or more reads of at most `piece` bytes, collecting every message.
void feed(FrameDecoder& decoder, std::string_view bytes, std::vector<std::string>& out,
          std::size_t piece = std::string::npos) {
  while (!bytes.empty() && !decoder.failed()) {
    std::span<char> room = decoder.prepare();
    REQUIRE(room.size() >= 1);
    const std::size_t n = std::min({room.size(), bytes.size(), piece});
    std::memcpy(room.data(), bytes.data(), n);
    decoder.commit(n);
    bytes.remove_prefix(n);
    while (auto message = decoder.next()) out.push_back(std::move(*message));
  }
}

std::string frames_of(const std::vector<std::string>& messages) {
  std::string stream;
  for (const std::string& m : messages) append_frame(stream, m);
  return stream;
}

std::string header_announcing(std::uint32_t n) {
  std::string h(4, '\0');
  for (int i = 0; i < 4; ++i) h[static_cast<std::size_t>(i)] = static_cast<char>(n >> (8 * i));
  return h;
}

}  // namespace

TEST_CASE("a frame is its 4-byte little-endian length, then the message", "[frame]") {
  std::string out = "x";
  append_frame(out, "abc");
  CHECK(out == std::string("x\x03\0\0\0abc", 8));
  append_frame(out, std::string(0x010203, 'y'));
  CHECK(out.substr(8, 4) == std::string("\x03\x02\x01\0", 4));
}

TEST_CASE("frames split at every byte boundary come out whole and in order", "[frame]") {
  const std::vector<std::string> messages = {
      "", "a", "hello", std::string(300, 'z'), std::string("\0\x01\xff", 3), ""};
  const std::string stream = frames_of(messages);
  // One split at every position: two reads.
  for (std::size_t k = 0; k <= stream.size(); ++k) {
    FrameDecoder decoder(kMaxFrame, 64);
    std::vector<std::string> got;
    feed(decoder, std::string_view(stream).substr(0, k), got);
    feed(decoder, std::string_view(stream).substr(k), got);
    CHECK(got == messages);
    CHECK(decoder.buffered() == 0);
    CHECK_FALSE(decoder.failed());
  }
  // And one byte per read.
  FrameDecoder decoder(kMaxFrame, 64);
  std::vector<std::string> got;
  feed(decoder, stream, got, 1);
  CHECK(got == messages);
}

TEST_CASE("many frames in one read all come out of it", "[frame]") {
  std::vector<std::string> messages;
  for (int i = 0; i < 5000; ++i) messages.push_back("message " + std::to_string(i));
  const std::string stream = frames_of(messages);
  FrameDecoder decoder(kMaxFrame, stream.size());  // one read takes everything
  std::span<char> room = decoder.prepare();
  REQUIRE(room.size() >= stream.size());
  std::memcpy(room.data(), stream.data(), stream.size());
  decoder.commit(stream.size());
  std::vector<std::string> got;
  while (auto m = decoder.next()) got.push_back(std::move(*m));
  CHECK(got == messages);
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("a header announcing 16 MiB followed by nothing holds one read chunk", "[frame]") {
  FrameDecoder decoder;
  std::vector<std::string> got;
  feed(decoder, header_announcing(kMaxFrame) + "abcd", got);
  CHECK(got.empty());
  CHECK_FALSE(decoder.failed());
  CHECK(decoder.buffered() == 8);
  // Asking for room again (as a read loop does) does not make room for the announced frame.
  for (int i = 0; i < 3; ++i) CHECK(decoder.prepare().size() >= FrameDecoder::kReadChunk / 2);
  CHECK(decoder.capacity() <= FrameDecoder::kReadChunk);
}

TEST_CASE("a frame's buffer grows only as its bytes arrive", "[frame]") {
  FrameDecoder decoder;
  std::string partial = header_announcing(kMaxFrame) + std::string(1'000'000, 'q');
  std::vector<std::string> got;
  feed(decoder, partial, got);
  CHECK(got.empty());
  CHECK(decoder.buffered() == partial.size());
  CHECK(decoder.capacity() <= partial.size() * 3 / 2 + FrameDecoder::kReadChunk);
}

TEST_CASE("an oversized length is an error that says why", "[frame]") {
  FrameDecoder decoder;
  std::vector<std::string> got;
  feed(decoder, frames_of({"ok"}) + header_announcing(20'000'000) + "rest", got);
  CHECK(got == std::vector<std::string>{"ok"});
  CHECK(decoder.failed());
  CHECK(decoder.error() == "oversized frame: 20000000 bytes announced, at most 16777216");
  CHECK_FALSE(decoder.next());
  CHECK(decoder.prepare().empty());
  CHECK(decoder.capacity() <= FrameDecoder::kReadChunk);
}

TEST_CASE("a frame of exactly the limit passes and one byte more fails", "[frame]") {
  FrameDecoder fits(100, 16);
  std::vector<std::string> got;
  feed(fits, frames_of({std::string(100, 'a')}), got);
  CHECK(got.size() == 1);
  CHECK_FALSE(fits.failed());
  FrameDecoder over(100, 16);
  feed(over, frames_of({std::string(101, 'a')}), got);
  CHECK(over.failed());
  CHECK(got.size() == 1);
}

TEST_CASE("shrink gives an idle connection's memory back and keeps a partial frame", "[frame]") {
  FrameDecoder decoder;
  std::vector<std::string> got;
  feed(decoder, frames_of({"one", "two"}), got);
  CHECK(decoder.capacity() >= FrameDecoder::kReadChunk);  // a 64 KiB buffer, now idle
  decoder.shrink();
  CHECK(decoder.capacity() == 0);
  // Half a frame stays, in exactly its own size, and the rest completes it.
  const std::string three = frames_of({"three"});
  feed(decoder, std::string_view(three).substr(0, 6), got);
  decoder.shrink();
  CHECK(decoder.buffered() == 6);
  CHECK(decoder.capacity() == 6);
  feed(decoder, std::string_view(three).substr(6), got);
  CHECK(got == std::vector<std::string>{"one", "two", "three"});
}

TEST_CASE("a 16 MiB frame arriving in pieces is delivered intact", "[frame]") {
  std::string big(kMaxFrame, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919 % 251);
  const std::string stream = frames_of({"before", big, "after"});
  FrameDecoder decoder;
  std::vector<std::string> got;
  std::size_t offset = 0, reads = 0;
  std::size_t peak = 0;
  while (offset < stream.size()) {
    std::span<char> room = decoder.prepare();
    // Reads of irregular sizes, as TCP delivers them.
    const std::size_t n =
        std::min({room.size(), stream.size() - offset, 1000 + reads * 7717 % 60000});
    std::memcpy(room.data(), stream.data() + offset, n);
    decoder.commit(n);
    offset += n;
    ++reads;
    if (got.size() < 2) {  // until the big frame is out, memory follows the bytes received
      CHECK(decoder.capacity() <= decoder.buffered() * 3 / 2 + 2 * FrameDecoder::kReadChunk);
    }
    peak = std::max(peak, decoder.capacity());
    while (auto m = decoder.next()) got.push_back(std::move(*m));
  }
  REQUIRE(got.size() == 3);
  CHECK(got[0] == "before");
  CHECK(got[1] == big);
  CHECK(got[2] == "after");
  CHECK(peak <= kMaxFrame + kFrameHeader + FrameDecoder::kReadChunk);
}

TEST_CASE("a frame sent one byte per read is not copied at every read", "[frame]") {
  const std::string stream = frames_of({std::string(300'000, 'b')});
  FrameDecoder decoder;
  std::size_t growths = 0, capacity = 0;
  std::vector<std::string> got;
  for (char c : stream) {
    std::span<char> room = decoder.prepare();
    if (decoder.capacity() != capacity) ++growths;
    capacity = decoder.capacity();
    room[0] = c;
    decoder.commit(1);
    while (auto m = decoder.next()) got.push_back(std::move(*m));
  }
  CHECK(got == std::vector<std::string>{std::string(300'000, 'b')});
  CHECK(growths <= 10);  // 64 KiB, then by half at a time: a handful of copies in all
}
