// Fuzz target "frame": a byte stream through net::FrameDecoder, read in pieces of sizes chosen
// by the input, checked against a plain reference parser and the decoder's memory bounds.
//
// Input: byte 0 picks the read sizes, byte 1 picks the limits (a small frame limit and read
// chunk, so that growth, compaction and refusal are all reached by short inputs); the rest is
// the stream.
#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsys/net/frame.hpp"
#include "fuzz.hpp"

using dsys::fuzz::check;
using dsys::net::FrameDecoder;
using dsys::net::kFrameHeader;

namespace {

// What a correct decoder makes of the whole stream: its messages, then either an oversized
// header or the bytes of an incomplete frame.
struct Expected {
  std::vector<std::string> messages;
  bool oversized = false;
  std::size_t leftover = 0;
};

Expected reference(std::string_view s, std::size_t max_frame) {
  Expected e;
  while (s.size() >= kFrameHeader) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < 4; ++i)
      n |= std::size_t{static_cast<unsigned char>(s[i])} << (8 * i);
    if (n > max_frame) {
      e.oversized = true;
      return e;
    }
    if (s.size() - kFrameHeader < n) break;
    e.messages.emplace_back(s.substr(kFrameHeader, n));
    s.remove_prefix(kFrameHeader + n);
  }
  e.leftover = s.size();
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const unsigned pieces = data[0];
  const unsigned limits = data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::size_t max_frame = (limits & 1) ? dsys::net::kMaxFrame : 1 + (limits >> 1) * 40;
  const std::size_t chunk = (limits & 2) ? FrameDecoder::kReadChunk : 1 + (limits >> 2) % 64;
  const Expected expected = reference(stream, max_frame);

  FrameDecoder decoder(max_frame, chunk);
  std::vector<std::string> got;
  std::size_t offset = 0;
  unsigned state = pieces * 2654435761u + 1;
  while (offset < stream.size() && !decoder.failed()) {
    const std::size_t before = decoder.capacity();
    std::span<char> room = decoder.prepare();
    check(!room.empty(), "prepare() offers room until the decoder fails");
    check(decoder.capacity() <= max_frame + kFrameHeader + chunk, "memory within its hard bound");
    if (decoder.capacity() > before) {
      const std::size_t held = decoder.buffered();
      check(decoder.capacity() <= std::max(held + chunk, held * 3 / 2),
            "memory grows with the bytes received, not with the lengths announced");
    }
    state = state * 1103515245u + 12345u;
    const std::size_t want = (pieces & 1) ? 1 + (state >> 16) % 97 : room.size();
    const std::size_t n = std::min({room.size(), stream.size() - offset, want});
    std::memcpy(room.data(), stream.data() + offset, n);
    decoder.commit(n);
    offset += n;
    while (auto m = decoder.next()) got.push_back(std::move(*m));
    if (pieces & 2) decoder.shrink();
  }
  check(got == expected.messages, "the decoder's messages are the reference parser's");
  check(decoder.failed() == expected.oversized, "refused exactly when a header is oversized");
  if (decoder.failed()) {
    check(decoder.error().rfind("oversized frame: ", 0) == 0, "the error says why");
    check(!decoder.next() && decoder.prepare().empty(), "a failed decoder stays failed");
  } else {
    check(decoder.buffered() == expected.leftover, "the incomplete frame is what is buffered");
  }
  return 0;
}

std::vector<std::pair<std::string, std::string>> dsys::fuzz::seeds() {
  std::vector<std::pair<std::string, std::string>> out;
  auto stream = [](std::initializer_list<std::string_view> messages) {
    std::string s;
    for (std::string_view m : messages) dsys::net::append_frame(s, m);
    return s;
  };
  out.emplace_back("empty-frames", std::string("\x00\x00", 2) + stream({"", "", ""}));
  out.emplace_back("small-frames", std::string("\x01\x02", 2) + stream({"a", "hello", "dRPC"}));
  out.emplace_back("one-byte-reads", std::string("\x01\x00", 2) + stream({std::string(300, 'x')}));
  out.emplace_back("shrinking", std::string("\x02\x08", 2) + stream({"one", "two", "three"}));
  out.emplace_back("big-frame", std::string("\x03\x03", 2) + stream({std::string(5000, 'b'), "c"}));
  std::string oversized = std::string("\x00\x04", 2) + stream({"ok"});
  oversized += std::string("\xff\xff\xff\x00", 4) + "rest";
  out.emplace_back("oversized", oversized);
  out.emplace_back("truncated", std::string("\x00\x02", 2) + stream({"whole"}) + "\x10\x00\x00");
  return out;
}
