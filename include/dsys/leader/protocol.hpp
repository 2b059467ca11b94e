// dsys/leader/protocol.hpp: the failure detector's heartbeats (lab 9, the DAT520 track).
//
// Every node of a group has an id, a small positive number that is also its rank: the leader
// detector trusts the highest id it does not suspect. A node's failure detector asks every node
// of the group, itself included, for a heartbeat once per period:
//
//   heartbeat(from)   "are you there?", from the node with id `from`. The reply carries the id of
//                     the node that answers, so that a node at the wrong address (a mistaken
//                     --peers list) is noticed rather than believed.
//
// This is Cachin, Guerraoui and Rodrigues's HEARTBEATREQUEST and HEARTBEATREPLY (Introduction to
// Reliable and Secure Distributed Programming, 2nd ed., algorithm 2.7) as one RPC: the request
// and its reply. Nothing here is durable: a restarted node starts with a fresh detector.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dsys/rpc/procedure.hpp"

namespace dsys::leader {

// A node's id and rank (1, 2, 3, ...; 0 is no node).
using NodeId = std::uint32_t;

// Whom a leader detector trusts: a node, or no one (nullopt: every node is suspected).
using Leader = std::optional<NodeId>;

// "3", or "unknown" for no one: how the kit's programs print a leader ("leader: 3").
inline std::string to_string(Leader leader) {
  return leader ? std::to_string(*leader) : std::string("unknown");
}

// The request and the reply: who sends it.
struct HeartbeatMessage {
  HeartbeatMessage() = default;
  explicit HeartbeatMessage(NodeId id) : from(id) {}
  NodeId from = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& from;
  }
};

inline constexpr rpc::ServiceId kService = 8;  // see rpc/procedure.hpp

struct Heartbeat {
  static constexpr rpc::ServiceId kService = leader::kService;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "leader.heartbeat";
  using Request = HeartbeatMessage;
  using Reply = HeartbeatMessage;
  static bool valid(const Request& r) { return r.from != 0; }
};

}  // namespace dsys::leader
