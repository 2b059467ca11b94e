// dsys/paxos/protocol.hpp: Paxos's procedures (lab 7) and the heartbeats of a view's members,
// shared by proposers, acceptors and the view layer.
//
// Paxos here decides a sequence of **instances** (1, 2, 3, ...), each independently, each on one
// value (opaque bytes: lab 7's view layer puts a view's member list in it). The acceptors of an
// instance are given by the caller of the proposer (for views: the members of the previous view).
// A proposal is numbered by a ProposalNumber, unique per proposer and ordered.
//
//   prepare(instance, n)     phase 1a. The acceptor promises to accept nothing numbered below n
//                            (if n is above every promise it made for that instance) and answers
//                            promised with what it accepted so far (n_a, v_a); otherwise
//                            rejected, with its promise n_h (so the proposer can go higher). An
//                            instance it knows to be decided is answered decided, with the value
//                            (the classic "oldinstance" reply: how a node that missed instances
//                            catches up).
//   accept(instance, n, v)   phase 2a. Accepted if n is at least its promise n_h (n_h = n_a = n,
//                            v_a = v); otherwise rejected, with n_h; decided if it knows the
//                            instance's value.
//   decide(instance, v)      the proposer saw a majority accept v: it is decided; the acceptor
//                            remembers it (durably) and reports it to its node.
//
// Replies repeat the instance and the proposal number they answer, so that a tap on the network
// (the tests' invariants) can tell what each acceptor promised and accepted.
//
// Every change of an acceptor's state is on its disk (synced) before the reply that reveals it
// leaves: a restarted acceptor keeps every promise and acceptance it ever made.
//
// Paxos trusts its peers (crashes, losses and duplicates are its faults, not lies): a decide is
// believed as it comes, so a node that sent a value no one proposed would be believed too.
// Malformed or oversized messages are refused by the RPC layer and valid() below.
//
// The view layer's heartbeat (service kViewService): a member pings another with the latest view
// it knows (its number and value), and the reply carries the responder's latest view: so each of
// the two learns a view change the other knows of and it missed.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "dsys/rpc/procedure.hpp"

namespace dsys::paxos {

using Instance = std::uint64_t;

// Ordered by round, then by proposer (an Address's raw number): two proposers never make the
// same number, and a proposer that saw round r goes to r + 1. {0, 0} is below every real proposal
// ("nothing promised" / "nothing accepted").
struct ProposalNumber {
  std::uint64_t round = 0;
  std::uint64_t proposer = 0;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 sees a literal 0 in a defaulted <=>
  friend constexpr auto operator<=>(const ProposalNumber&, const ProposalNumber&) = default;
  constexpr bool none() const { return round == 0 && proposer == 0; }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& round& proposer;
  }
};

// The largest value Paxos carries (a view of a few members is far below it).
inline constexpr std::size_t kMaxValueSize = 64u << 10;

// The acceptor's answer to prepare and accept.
enum class Outcome : std::uint8_t {
  ok = 0,        // prepare: promised; accept: accepted
  rejected = 1,  // a higher proposal was promised (n_h in the reply)
  decided = 2,   // the instance is decided already: its value is in the reply
};

constexpr std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::ok:
      return "ok";
    case Outcome::rejected:
      return "rejected";
    case Outcome::decided:
      return "decided";
  }
  return "unknown outcome";
}

// (They have constructors: see docs/architecture.md on g++ 12.)
struct PrepareRequest {
  PrepareRequest() = default;
  PrepareRequest(Instance i, ProposalNumber number) : instance(i), n(number) {}
  Instance instance = 0;
  ProposalNumber n;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& instance& n;
  }
};

struct PrepareReply {
  PrepareReply() = default;
  Outcome outcome = Outcome::rejected;
  Instance instance = 0;  // the request's
  ProposalNumber n;       // the request's
  ProposalNumber n_h;     // rejected: the acceptor's promise, not below n (a prepare resent
                          // after a lost reply is rejected too: n is not above n_h)
  ProposalNumber n_a;     // ok: the highest proposal accepted for the instance (none: {0, 0})
  std::string v_a;        // ok: its value (when n_a is not none)
  std::string decided;    // decided: the instance's value
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& outcome& instance& n& n_h& n_a& v_a& decided;
  }
};

struct AcceptRequest {
  AcceptRequest() = default;
  AcceptRequest(Instance i, ProposalNumber number, std::string v)
      : instance(i), n(number), value(std::move(v)) {}
  Instance instance = 0;
  ProposalNumber n;
  std::string value;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& instance& n& value;
  }
};

struct AcceptReply {
  AcceptReply() = default;
  Outcome outcome = Outcome::rejected;
  Instance instance = 0;  // the request's
  ProposalNumber n;       // the request's
  ProposalNumber n_h;     // rejected: the promise that outranks n
  std::string decided;    // decided: the instance's value
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& outcome& instance& n& n_h& decided;
  }
};

struct DecideRequest {
  DecideRequest() = default;
  DecideRequest(Instance i, std::string v) : instance(i), value(std::move(v)) {}
  Instance instance = 0;
  std::string value;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& instance& value;
  }
};

inline constexpr rpc::ServiceId kService = 4;  // see rpc/procedure.hpp

// Procedure ids of the Paxos service: dense, never reused.
struct Prepare {
  static constexpr rpc::ServiceId kService = paxos::kService;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "paxos.prepare";
  using Request = PrepareRequest;
  using Reply = PrepareReply;
  static bool valid(const Request& r) { return r.instance > 0 && !r.n.none(); }
};
struct Accept {
  static constexpr rpc::ServiceId kService = paxos::kService;
  static constexpr rpc::ProcedureId kId = 2;
  static constexpr std::string_view kName = "paxos.accept";
  using Request = AcceptRequest;
  using Reply = AcceptReply;
  static bool valid(const Request& r) {
    return r.instance > 0 && !r.n.none() && r.value.size() <= kMaxValueSize;
  }
};
struct Decide {
  static constexpr rpc::ServiceId kService = paxos::kService;
  static constexpr rpc::ProcedureId kId = 3;
  static constexpr std::string_view kName = "paxos.decide";
  using Request = DecideRequest;
  using Reply = rpc::Empty;
  static bool valid(const Request& r) { return r.instance > 0 && r.value.size() <= kMaxValueSize; }
};

// ---- the view layer's heartbeats (lab 7's views.cpp)

inline constexpr rpc::ServiceId kViewService = 7;  // see rpc/procedure.hpp

struct HeartbeatMessage {
  HeartbeatMessage() = default;
  HeartbeatMessage(Instance v, std::string m) : view(v), members(std::move(m)) {}
  Instance view = 0;    // the latest view the sender knows (its number: the Paxos instance)
  std::string members;  // that view's value (the encoded member list)
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& view& members;
  }
};

struct Heartbeat {
  static constexpr rpc::ServiceId kService = paxos::kViewService;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "views.heartbeat";
  using Request = HeartbeatMessage;
  using Reply = HeartbeatMessage;
  static bool valid(const Request& r) { return r.members.size() <= kMaxValueSize; }
};

}  // namespace dsys::paxos
