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

#include "dsys/core/time.hpp"
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

// How long after the network becomes synchronous (at `gst`) a group of failure and leader
// detectors (lab 9) is right about who is up, and agrees on the leader, for detectors of timing
// (d0, delta) that started at time 0 or later, when a message sent before `gst` may take up to
// `drain` (after it, every message takes less than d0 there and back):
//  - by S = gst + drain, every message sent before gst has arrived;
//  - a period grows by delta at most once per period, and each is at least d0 long, so by S a
//    period is at most D = d0 + k delta, k the most periods d0, d0 + delta, d0 + 2 delta, ...
//    that fit one after the other before S;
//  - the period under way at S ends by S + D; the next one starts after S, is at most D + delta
//    long, and every correct node answers within it: at its end each node suspects exactly
//    the nodes that are down (or cut off). From then on, nothing changes.
// One more initial period of slack, for a node that does a little more between periods.
inline core::Duration stabilisation_bound(core::Time gst, core::Duration drain, core::Duration d0,
                                          core::Duration delta) {
  const core::Duration s = gst.time_since_epoch() + drain;
  core::Duration elapsed{}, period = d0;
  while (elapsed + period <= s) {
    elapsed += period;
    period += delta;
  }
  return drain + 2 * period + delta + d0;
}

}  // namespace dsys::leader
