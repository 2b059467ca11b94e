// Decoding hostile bodies: rpc::decode() answers false, never aborts, never trusts a count.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/optional.hpp>

#include "dsys/lock/protocol.hpp"
#include "dsys/rpc/marshal.hpp"

using dsys::rpc::decode;
using dsys::rpc::encode;

namespace {

struct Flags {
  Flags() = default;
  Flags(bool a, std::uint32_t n, bool b) : a(a), n(n), b(b) {}
  bool a = false;
  std::uint32_t n = 0;
  bool b = false;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& a& n& b;
  }
  bool operator==(const Flags&) const = default;
};

// A message of every shape later labs send.
struct Rich {
  bool flag = false;
  std::optional<std::uint64_t> maybe;
  std::optional<std::string> maybe_text;
  boost::optional<std::int32_t> boost_maybe;
  std::vector<bool> bits;
  std::vector<std::string> names;
  std::vector<std::uint64_t> numbers;
  std::map<std::string, std::vector<std::int32_t>> table;
  std::deque<std::string> queue;
  std::list<std::int16_t> chain;
  std::vector<Flags> flags;
  std::vector<std::optional<std::string>> holes;
  bool array[3] = {false, false, false};
  dsys::lock::Status status = dsys::lock::Status::ok;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& flag& maybe& maybe_text& boost_maybe& bits& names& numbers& table& queue& chain& flags&
        holes& array& status;
  }
  bool operator==(const Rich&) const = default;
};

Rich sample() {
  Rich r;
  r.flag = true;
  r.maybe = 42;
  r.boost_maybe = -7;
  r.bits = {true, false, true, true, false};
  r.names = {"alpha", "", "gamma"};
  r.numbers = {1, 2, 0xffffffffffffffffull};
  r.table = {{"a", {1, 2}}, {"b", {}}};
  r.queue = {"x", "y"};
  r.chain = {3, -4};
  r.flags = {Flags(true, 9, false), Flags(false, 0, true)};
  r.holes = {std::nullopt, std::string("here")};
  r.array[1] = true;
  r.status = dsys::lock::Status::not_held;
  return r;
}

// The offsets at which the encodings of `x` and `y` differ.
template <class T>
std::vector<std::size_t> differences(const T& x, const T& y) {
  const std::string a = encode(x), b = encode(y);
  REQUIRE(a.size() == b.size());
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) at.push_back(i);
  }
  return at;
}

template <class T>
std::string with_byte(const T& value, std::size_t at, char byte) {
  std::string bytes = encode(value);
  REQUIRE(at < bytes.size());
  bytes[at] = byte;
  return bytes;
}

std::string le64(std::uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>(n >> (8 * i));
  return s;
}

}  // namespace

TEST_CASE("the archives write and read the bytes of Boost's binary archives without a header",
          "[decode]") {
  // (rpc/marshal.hpp's archives have primitives of their own: their bytes must stay Boost's.)
  const Rich value = sample();
  std::ostringstream boost_bytes;
  {
    boost::archive::binary_oarchive out(boost_bytes, boost::archive::no_header);
    out << value;
  }
  const std::string ours = encode(value);
  CHECK(ours.size() > 100);
  CHECK(ours == boost_bytes.str());

  std::istringstream in_bytes(ours);
  boost::archive::binary_iarchive in(in_bytes, boost::archive::no_header);
  Rich read;
  in >> read;
  CHECK(read == value);
  Rich decoded;
  REQUIRE(decode(boost_bytes.str(), decoded));
  CHECK(decoded == value);
}

TEST_CASE("a bool byte other than 0 or 1 is malformed", "[decode]") {
  bool b = false;
  CHECK(decode(std::string("\x01", 1), b));
  CHECK(b);
  CHECK(decode(std::string("\x00", 1), b));
  CHECK_FALSE(b);
  for (int byte : {2, 0x7f, 0x80, 0xff}) {
    CHECK_FALSE(decode(std::string(1, static_cast<char>(byte)), b));
  }
}

TEST_CASE("a bool member holding 2 makes its message malformed", "[decode]") {
  auto at = differences(Flags(false, 5, false), Flags(true, 5, false));
  REQUIRE(at.size() == 1);
  Flags f;
  CHECK_FALSE(decode(with_byte(Flags(), at[0], 2), f));
  at = differences(Flags(false, 5, false), Flags(false, 5, true));
  REQUIRE(at.size() == 1);
  CHECK_FALSE(decode(with_byte(Flags(), at[0], '\xff'), f));
}

TEST_CASE("an optional whose flag is not 0 or 1 is malformed", "[decode]") {
  std::optional<std::uint32_t> o;
  CHECK_FALSE(decode(std::string("\x02\x07\0\0\0", 5), o));
  boost::optional<std::uint32_t> bo;
  std::string bytes = encode(boost::optional<std::uint32_t>());  // its preamble, then the flag
  REQUIRE(decode(bytes, bo));
  bytes.back() = 3;
  CHECK_FALSE(decode(bytes, bo));
}

TEST_CASE("a vector<bool> item other than 0 or 1 is malformed", "[decode]") {
  const std::vector<bool> bits = {true, false, true};
  std::string bytes = encode(bits);
  std::vector<bool> got;
  REQUIRE(decode(bytes, got));
  CHECK(got == bits);
  bytes.back() = 2;
  CHECK_FALSE(decode(bytes, got));
}

TEST_CASE("an array of bools with a byte other than 0 or 1 is malformed", "[decode]") {
  Rich r = sample();
  Rich other = r;
  other.array[2] = true;
  const auto at = differences(r, other);
  REQUIRE(at.size() == 1);
  Rich got;
  CHECK_FALSE(decode(with_byte(r, at[0], 5), got));
}

TEST_CASE("a class preamble's tracking flag other than 0 or 1 is malformed", "[decode]") {
  // A class's first appearance carries a tracking flag (a bool) and a version: Flags(...) is
  // "tracking, version, a, n, b".
  const std::string bytes = encode(Flags(true, 1, true));
  REQUIRE(bytes.size() == 1 + 4 + 1 + 4 + 1);
  Flags f;
  REQUIRE(decode(bytes, f));
  std::string bad = bytes;
  bad[0] = 2;
  CHECK_FALSE(decode(bad, f));
}

TEST_CASE("a collection's count is checked against the fewest bytes its items take", "[decode]") {
  // A vector<string> is a class preamble (tracking flag, version), a count, an item version,
  // then the items.
  const std::string preamble(5, '\0'), item_version(4, '\0');
  std::string body = preamble + le64(3) + item_version + std::string(24, '\0');
  REQUIRE(encode(std::vector<std::string>(3)) == body);
  std::vector<std::string> names;
  REQUIRE(decode(body, names));
  CHECK(names == std::vector<std::string>(3));
  // 1000 strings need at least 8000 bytes (a length each): 7999 bytes declare too many.
  body = preamble + le64(1000) + item_version + std::string(7999, '\0');
  CHECK_FALSE(decode(body, names));
  // A vector<uint64_t> is a count, then the numbers: 1000 of them need 8000 bytes.
  std::vector<std::uint64_t> numbers;
  REQUIRE(encode(std::vector<std::uint64_t>(500)) == le64(500) + std::string(4000, '\0'));
  body = le64(1000) + std::string(7999, '\0');
  CHECK_FALSE(decode(body, numbers));
  // And exactly enough bytes decode.
  body = le64(500) + std::string(4000, '\0');
  REQUIRE(decode(body, numbers));
  CHECK(numbers.size() == 500);
}

TEST_CASE("well-formed messages of every shape round-trip", "[decode]") {
  const Rich r = sample();
  Rich got;
  REQUIRE(decode(encode(r), got));
  CHECK(got == r);
  Rich empty;
  REQUIRE(decode(encode(Rich{}), got));
  CHECK(got == empty);

  std::optional<std::string> o = "x";
  REQUIRE(decode(encode(std::optional<std::string>()), o));
  CHECK_FALSE(o.has_value());
  REQUIRE(decode(encode(std::optional<std::string>("text")), o));
  CHECK(o == "text");

  const dsys::lock::LockRequest request(7, 99);
  dsys::lock::LockRequest back;
  REQUIRE(decode(encode(request), back));
  CHECK(back.client == 7);
  CHECK(back.lock == 99);

  std::vector<bool> bits(1000);
  for (std::size_t i = 0; i < bits.size(); i += 3) bits[i] = true;
  std::vector<bool> bits_back;
  REQUIRE(decode(encode(bits), bits_back));
  CHECK(bits_back == bits);
}

TEST_CASE("every truncation and every byte flip of a message is decoded or refused, safely",
          "[decode]") {
  const std::string bytes = encode(sample());
  Rich got;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CHECK_FALSE(decode(std::string_view(bytes).substr(0, n), got));
  }
  CHECK_FALSE(decode(bytes + "x", got));
  // No flip may crash or allocate wildly (ASan and UBSan watch); most are refused.
  std::size_t refused = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int byte : {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(byte);
      if (!decode(bad, got)) ++refused;
    }
  }
  CHECK(refused > 0);
}
