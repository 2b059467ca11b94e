// Fuzz target "message": an RPC message through rpc::read_header, and a body through decode()
// of representative message types. A value decoded from a body must survive a round trip.
//
// Input: byte 0 picks the message type; the rest is a message (header, then body) when it has
// a valid header, or else a body on its own.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/optional.hpp>

#include "dsys/lock/protocol.hpp"
#include "dsys/rpc/marshal.hpp"
#include "dsys/rpc/wire.hpp"
#include "fuzz.hpp"

using dsys::fuzz::check;

namespace {

struct Entry {
  Entry() = default;
  Entry(std::uint64_t term, std::string command, bool committed)
      : term(term), command(std::move(command)), committed(committed) {}
  std::uint64_t term = 0;
  std::string command;
  bool committed = false;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& term& command& committed;
  }
  bool operator==(const Entry&) const = default;
};

// A message of the shapes later labs send.
struct Mixed {
  bool flag = false;
  std::optional<std::string> maybe;
  boost::optional<std::int64_t> boost_maybe;
  std::vector<bool> bits;
  std::vector<std::string> names;
  std::vector<std::uint32_t> numbers;
  std::map<std::string, std::vector<std::int32_t>> table;
  std::vector<Entry> log;
  dsys::lock::Status status = dsys::lock::Status::ok;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& flag& maybe& boost_maybe& bits& names& numbers& table& log& status;
  }
  bool operator==(const Mixed&) const = default;
};

// Decodes `body` as a T; what decodes encodes to bytes that decode to the same value. (Not
// always to `body` itself: a class's version, or an enum's int, may be written otherwise.)
template <class T>
void round_trip(std::string_view body) {
  T value{};
  if (!dsys::rpc::decode(body, value)) return;
  const std::string once = dsys::rpc::encode(value);
  T again{};
  check(dsys::rpc::decode(once, again), "an encoded value decodes");
  check(dsys::rpc::encode(again) == once, "and decodes to the same value");
}

constexpr int kTypes = 10;

void decode_as(int type, std::string_view body) {
  switch (type) {
    case 0:
      return round_trip<std::string>(body);
    case 1:
      return round_trip<std::vector<std::string>>(body);
    case 2:
      return round_trip<std::map<std::string, std::vector<std::int32_t>>>(body);
    case 3:
      return round_trip<std::optional<std::string>>(body);
    case 4:
      return round_trip<bool>(body);
    case 5:
      return round_trip<std::vector<bool>>(body);
    case 6:
      return round_trip<dsys::lock::LockRequest>(body);
    case 7:
      return round_trip<dsys::lock::Status>(body);
    case 8:
      return round_trip<Mixed>(body);
    default:
      return round_trip<std::vector<Entry>>(body);
  }
}

// A request to the lock service, as a client sends it.
std::string message_of(std::string_view body) {
  dsys::rpc::Header h;
  h.procedure = dsys::lock::Acquire::kId;
  h.client_nonce = 0x5f3a0c1e;
  h.xid = 3;
  h.xid_rep = 2;
  std::string out;
  dsys::rpc::write_header(out, h);
  out.append(body);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int type = data[0] % kTypes;
  std::string_view message(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string why;
  if (auto header = dsys::rpc::read_header(message, &why)) {
    check(message.size() >= dsys::rpc::kHeaderSize, "a valid header is all there");
    std::string again;
    dsys::rpc::write_header(again, *header);
    check(again == message.substr(0, dsys::rpc::kHeaderSize), "a header writes back the same");
    (void)dsys::rpc::describe(message);
    message.remove_prefix(dsys::rpc::kHeaderSize);
  } else {
    check(!why.empty(), "a refused header says why");
  }
  decode_as(type, message);
  return 0;
}

std::vector<std::pair<std::string, std::string>> dsys::fuzz::seeds() {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&out](const std::string& name, int type, const std::string& body, bool as_message) {
    out.emplace_back(
        name, std::string(1, static_cast<char>(type)) + (as_message ? message_of(body) : body));
  };
  using dsys::rpc::encode;
  add("string", 0, encode(std::string("hello")), false);
  add("strings", 1, encode(std::vector<std::string>{"a", "", "ccc"}), false);
  add("map", 2, encode(std::map<std::string, std::vector<std::int32_t>>{{"x", {1, -2}}, {"y", {}}}),
      false);
  add("optional-none", 3, encode(std::optional<std::string>()), false);
  add("optional-some", 3, encode(std::optional<std::string>("text")), false);
  add("bool", 4, encode(true), false);
  add("bits", 5, encode(std::vector<bool>{true, false, true}), false);
  add("lock-request", 6, encode(dsys::lock::LockRequest(7, 99)), true);
  add("lock-reply", 7, encode(dsys::lock::Status::not_held), true);
  Mixed m;
  m.flag = true;
  m.maybe = "m";
  m.boost_maybe = -1;
  m.bits = {false, true};
  m.names = {"n1", "n2"};
  m.numbers = {1, 2, 3};
  m.table = {{"k", {4}}};
  m.log = {Entry(1, "put a", true), Entry(2, "del b", false)};
  m.status = dsys::lock::Status::not_held;
  add("mixed", 8, encode(m), true);
  add("log", 9, encode(std::vector<Entry>{Entry(5, "x", true)}), false);
  return out;
}
