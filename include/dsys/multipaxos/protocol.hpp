// dsys/multipaxos/protocol.hpp: Multi-Paxos's messages (lab 10, the DAT520 track): a replicated
// log of client commands, decided slot by slot.
//
// A group of nodes, each an acceptor, a learner and a proposer; the proposer of the node that lab
// 9's leader detector names leads. Paxos's phases, as in Lamport's "Paxos Made Simple":
//
//   prepare(round, from)     phase 1a, once for every slot at or after `from` (the first slot
//                            the leader has not delivered). The acceptor promises to take
//                            nothing below `round` (if `round` is at least its promise) and answers
//                            with every slot at or after `from` it has accepted (phase 1b, the
//                            promise); otherwise it refuses, naming its promise.
//   accept(round, slot, v)   phase 2a, per slot. The acceptor takes it unless it has promised a
//                            higher round, and answers (phase 2b: accepted, or refused with its
//                            promise).
//   learn(round, slot, v)    an acceptor tells every learner each value it accepted; a learner
//                            decides a slot's value on a majority of learns of one round (a
//                            round proposes one value a slot: rounds are never reused).
//   fetch(from)              state transfer: the values a node has delivered from slot `from`
//                            on (a node that missed slots another has forgotten catches up).
//
// Rounds are unique per node (a node's id is in its round) and ordered. Every change of an
// acceptor's state is on its disk before the reply (or learn) that reveals it leaves.
//
// Clients (service kClientService) append commands at any node: a node that does not lead says
// which node it believes leads. A command is named by its client and a sequence number, so that
// one sent twice (a retry after a lost reply or a leader change) is delivered once.
//
// Multi-Paxos trusts its peers (crashes, losses, duplicates and reordering are its faults, not
// lies). Malformed or oversized messages are refused by the RPC layer and valid() below.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "dsys/leader/protocol.hpp"
#include "dsys/rpc/procedure.hpp"

namespace dsys::multipaxos {

using leader::NodeId;

// A position in the log: 1, 2, 3, ... (0: no slot, "nothing decided yet").
using Slot = std::uint64_t;

// Ordered by number, then by node: two nodes never make the same round, and a node that saw round
// r goes to {r.number + 1, self}. {0, 0} is below every real round ("nothing promised").
struct Round {
  std::uint64_t number = 0;
  NodeId node = 0;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 sees a literal 0 in a defaulted <=>
  friend constexpr auto operator<=>(const Round&, const Round&) = default;
  constexpr bool none() const { return number == 0 && node == 0; }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& number& node;
  }
};

inline std::string to_string(const Round& r) {
  return fmt::format("{}.{}", r.number, r.node);
}

// One client command: who sent it, its number among that client's commands, and its bytes.
struct Command {
  Command() = default;
  Command(std::uint64_t c, std::uint64_t s, std::string p)
      : client(c), sequence(s), payload(std::move(p)) {}
  std::uint64_t client = 0;
  std::uint64_t sequence = 0;
  std::string payload;
  friend bool operator==(const Command&, const Command&) = default;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& client& sequence& payload;
  }
};

// What one slot decides: a batch of commands, in order (several commands may share a slot), or a
// no-op (no command: how a new leader fills a gap).
struct Value {
  Value() = default;
  explicit Value(std::vector<Command> c) : commands(std::move(c)) {}
  std::vector<Command> commands;
  bool noop() const { return commands.empty(); }
  friend bool operator==(const Value&, const Value&) = default;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& commands;
  }
};

// "noop", or "[1:1 1:2]" (client:sequence of each command).
inline std::string to_string(const Value& v) {
  if (v.noop()) return "noop";
  std::string out = "[";
  for (const auto& c : v.commands)
    out += fmt::format("{}{}:{}", out.size() > 1 ? " " : "", c.client, c.sequence);
  return out + "]";
}

// The largest command a client may append, and the most commands in one value.
inline constexpr std::size_t kMaxPayload = 64u << 10;
inline constexpr std::size_t kMaxBatch = 64;

// A slot an acceptor has accepted: in which round, and what.
struct AcceptedSlot {
  AcceptedSlot() = default;
  AcceptedSlot(Slot s, Round r, Value v) : slot(s), round(r), value(std::move(v)) {}
  Slot slot = 0;
  Round round;
  Value value;
  friend bool operator==(const AcceptedSlot&, const AcceptedSlot&) = default;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& slot& round& value;
  }
};

// (They have constructors: see docs/architecture.md on g++ 12.)
struct PrepareRequest {
  PrepareRequest() = default;
  PrepareRequest(NodeId f, Round r, Slot s) : from(f), round(r), from_slot(s) {}
  NodeId from = 0;  // the proposer's node
  Round round;
  Slot from_slot = 1;  // phase 1 for every slot at or after this one
  friend bool operator==(const PrepareRequest&, const PrepareRequest&) = default;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& from& round& from_slot;
  }
};

struct PromiseReply {
  PromiseReply() = default;
  NodeId from = 0;  // the acceptor's node
  bool ok = false;  // promised; false: refused, `promised` outranks the request's round
  Round round;      // the request's
  Round promised;   // the acceptor's promise after the request (its round when ok)
  // ok: every slot at or after max(from_slot, compacted + 1) the acceptor has accepted, in slot
  // order, each with the round it accepted it in and the value.
  std::vector<AcceptedSlot> accepted;
  // Slots 1..compacted were decided, and this acceptor has forgotten them (compaction): the
  // proposer does not propose them again; its node fetches their values from another node.
  Slot compacted = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& from& ok& round& promised& accepted& compacted;
  }
};

struct AcceptRequest {
  AcceptRequest() = default;
  AcceptRequest(NodeId f, Round r, Slot s, Value v)
      : from(f), round(r), slot(s), value(std::move(v)) {}
  NodeId from = 0;  // the proposer's node
  Round round;
  Slot slot = 0;
  Value value;
  friend bool operator==(const AcceptRequest&, const AcceptRequest&) = default;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& from& round& slot& value;
  }
};

struct AcceptedReply {
  AcceptedReply() = default;
  NodeId from = 0;  // the acceptor's node
  bool ok = false;  // accepted; false: refused, `promised` outranks the request's round
  Round round;      // the request's
  Slot slot = 0;    // the request's
  Round promised;   // the acceptor's promise after the request
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& from& ok& round& slot& promised;
  }
};

// An acceptor's news to every learner: it accepted `value` for `slot` in `round`.
struct LearnRequest {
  LearnRequest() = default;
  LearnRequest(NodeId f, Round r, Slot s, Value v)
      : from(f), round(r), slot(s), value(std::move(v)) {}
  NodeId from = 0;  // the acceptor's node
  Round round;
  Slot slot = 0;
  Value value;
  friend bool operator==(const LearnRequest&, const LearnRequest&) = default;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& from& round& slot& value;
  }
};

struct Nothing {
  template <class Archive>
  void serialize(Archive&, unsigned) {}
};

struct FetchRequest {
  FetchRequest() = default;
  explicit FetchRequest(Slot s) : from_slot(s) {}
  Slot from_slot = 1;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& from_slot;
  }
};

// The values of slots from_slot, from_slot + 1, ... that the node has delivered (perhaps none;
// at most kMaxFetch of them: fetch again from the next).
struct FetchReply {
  FetchReply() = default;
  Slot from_slot = 1;
  std::vector<Value> values;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& from_slot& values;
  }
};
inline constexpr std::size_t kMaxFetch = 256;

namespace detail {
inline bool valid_value(const Value& v) {
  if (v.commands.size() > kMaxBatch) return false;
  for (const auto& c : v.commands)
    if (c.payload.size() > kMaxPayload) return false;
  return true;
}
}  // namespace detail

inline constexpr rpc::ServiceId kService = 9;  // see rpc/procedure.hpp

struct Prepare {
  static constexpr rpc::ServiceId kService = multipaxos::kService;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "multipaxos.prepare";
  using Request = PrepareRequest;
  using Reply = PromiseReply;
  static bool valid(const Request& r) { return r.from != 0 && !r.round.none() && r.from_slot >= 1; }
};

struct Accept {
  static constexpr rpc::ServiceId kService = multipaxos::kService;
  static constexpr rpc::ProcedureId kId = 2;
  static constexpr std::string_view kName = "multipaxos.accept";
  using Request = AcceptRequest;
  using Reply = AcceptedReply;
  static bool valid(const Request& r) {
    return r.from != 0 && !r.round.none() && r.slot >= 1 && detail::valid_value(r.value);
  }
};

struct Learn {
  static constexpr rpc::ServiceId kService = multipaxos::kService;
  static constexpr rpc::ProcedureId kId = 3;
  static constexpr std::string_view kName = "multipaxos.learn";
  using Request = LearnRequest;
  using Reply = Nothing;
  static bool valid(const Request& r) {
    return r.from != 0 && !r.round.none() && r.slot >= 1 && detail::valid_value(r.value);
  }
};

struct Fetch {
  static constexpr rpc::ServiceId kService = multipaxos::kService;
  static constexpr rpc::ProcedureId kId = 4;
  static constexpr std::string_view kName = "multipaxos.fetch";
  using Request = FetchRequest;
  using Reply = FetchReply;
  static bool valid(const Request& r) { return r.from_slot >= 1; }
};

// ------------------------------------------------------------------ clients

inline constexpr rpc::ServiceId kClientService = 10;  // see rpc/procedure.hpp

enum class AppendStatus : std::uint8_t {
  delivered = 0,   // the command is decided, at `slot` (it will be in every node's log there)
  not_leader = 1,  // this node does not lead: try `leader` (0: it knows no leader)
  busy = 2,        // not delivered in time here (no majority yet, a leader change): try again
};

struct AppendRequest {
  AppendRequest() = default;
  explicit AppendRequest(Command c) : command(std::move(c)) {}
  Command command;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& command;
  }
};

struct AppendReply {
  AppendReply() = default;
  AppendStatus status = AppendStatus::busy;
  Slot slot = 0;      // delivered: the command's slot
  NodeId leader = 0;  // not_leader: whom this node trusts (0: no one)
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& status& slot& leader;
  }
};

struct Append {
  static constexpr rpc::ServiceId kService = kClientService;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "multipaxos.append";
  using Request = AppendRequest;
  using Reply = AppendReply;
  static bool valid(const Request& r) {
    return r.command.client != 0 && r.command.sequence != 0 &&
           r.command.payload.size() <= kMaxPayload;
  }
};

// The log a node has applied: the commands of the slots it delivered, in slot order, each command
// once (a command delivered again, in a later slot, is left out).
struct ReadRequest {
  ReadRequest() = default;
  explicit ReadRequest(std::uint64_t i) : from_index(i) {}
  std::uint64_t from_index = 1;  // the first command wanted: 1 for the log's first
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& from_index;
  }
};

// Commands from_index, from_index + 1, ... (at most kMaxRead of them: read again from the next).
struct ReadReply {
  ReadReply() = default;
  std::uint64_t from_index = 1;
  std::vector<Command> commands;
  Slot delivered = 0;  // every slot up to this one is applied (synced) at the node that answers
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& from_index& commands& delivered;
  }
};
inline constexpr std::size_t kMaxRead = 1024;

struct Read {
  static constexpr rpc::ServiceId kService = kClientService;
  static constexpr rpc::ProcedureId kId = 2;
  static constexpr std::string_view kName = "multipaxos.read";
  using Request = ReadRequest;
  using Reply = ReadReply;
  static bool valid(const Request& r) { return r.from_index >= 1; }
};

}  // namespace dsys::multipaxos
