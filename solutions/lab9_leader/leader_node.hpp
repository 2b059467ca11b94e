// lab 9 part 3: a node that detects its group's leader.       (You edit this file and its .cpp.)
//
// One node of a group: your failure detector (part 1) and leader detector (part 2) over the
// network. It answers every heartbeat request, asks every node of the group (itself included)
// once per period, and tells its owner each change of leader. The leader_node program runs one
// as a real process (apps/leader_node.cpp); the simulated tests run groups of them.
//
// What the tests check (tests/lab9_test.cpp), at every event of every simulated run, once the
// network has been stable for long enough (the handout's "partial synchrony" says how long):
//  - strong completeness: every crashed node is suspected by every correct node;
//  - eventual strong accuracy: no correct node is suspected by a correct node;
//  - eventual leadership: every correct node trusts the same correct node (the highest id
//    that is up), and it does not change.
// Before that, anything may happen (false suspicions, several leaders), but nothing may crash.
//
// Threading contract: one node; handlers and tasks interleave at their co_awaits only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "dsys/core/context.hpp"
#include "dsys/core/task_group.hpp"
#include "dsys/leader/protocol.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "failure_detector.hpp"
#include "leader_detector.hpp"

namespace dsys::lab9 {

// Every node of a group by id, this one included: where each is reached.
using Peers = std::map<NodeId, core::Address>;

// The ids of a group, in increasing order.
inline std::vector<NodeId> ids_of(const Peers& peers) {
  std::vector<NodeId> ids;
  for (const auto& [id, address] : peers) ids.push_back(id);
  return ids;
}

class LeaderNode {
 public:
  // Called with the new leader at each change (the program prints "leader: N").
  using OnLeader = std::function<void(Leader)>;
  // How long a heartbeat call waits for its reply. Long: a reply counts whenever it comes, in the
  // period it arrives in (the book's links are perfect: a reply is late, never lost); a call
  // gives up only so that the calls to a dead node do not pile up for ever.
  static constexpr core::Duration kCallTimeout = std::chrono::seconds(5);

  // Node `self` of the group `peers`, with a failure detector of that timing. It serves
  // leader::Heartbeat (the service leader::kService on the node's endpoint, requests from any
  // incarnation admitted) and starts its periods: every delay(), the failure detector's
  // timeout(), whose requests go out as Heartbeat calls.
  LeaderNode(core::Context& ctx, NodeId self, Peers peers, OnLeader on_leader = nullptr,
             core::Duration initial_delay = FailureDetector::kInitialDelay,
             core::Duration delta = FailureDetector::kDelta);

  Leader leader() const { return leader_detector_.leader(); }
  const FailureDetector& failure_detector() const { return failure_detector_; }
  const LeaderDetector& leader_detector() const { return leader_detector_; }
  NodeId self() const { return self_; }

 private:
  // Tested by: every simulated test of part 3 and the real-process tests.
  // The handler of leader::Heartbeat: a request from `request.from`; the reply names this node
  // (self_). Anyone may ask: it changes nothing here (in particular, it is no reply: only
  // replies to this node's own requests reach the failure detector).
  core::Task<leader::HeartbeatMessage> heartbeat(const leader::HeartbeatMessage& request);
  // The failure detector's SendRequest: a Heartbeat call to `to`, in the background (it must not
  // wait), whose request names this node (self_) and which waits up to kCallTimeout for its
  // reply. A reply that names `to` reaches failure_detector_.reply_received(to) when it comes,
  // in whatever period; one that names another node (a wrong address in --peers) is logged and
  // ignored; a call that fails is nothing.
  void send_request(NodeId to);
  // The periods, for as long as the node runs: wait the failure detector's delay() (the period
  // now, which grows), call its timeout(), and at once tell on_leader_ each change of leader that
  // timeout() made, in order (the changes a Subscription of the leader detector collected).
  core::Task<void> run_periods();

  core::Context& ctx_;
  NodeId self_;
  Peers peers_;
  OnLeader on_leader_;
  LeaderDetector leader_detector_;
  FailureDetector failure_detector_;
  // SOLUTION BEGIN
  rpc::Client& client(NodeId to);
  std::shared_ptr<Subscription> changes_;
  std::map<NodeId, std::unique_ptr<rpc::Client>> clients_;
  // SOLUTION STUB
  // // Your state: a Subscription of the leader detector, and an rpc::Client per peer
  // // (rpc::Client(rpc::Endpoint::of(ctx_), address, false): any incarnation will do; a call
  // // to this node's own address works like any other). A Client can be neither copied nor
  // // moved: keep them as std::map<NodeId, std::unique_ptr<rpc::Client>>.
  // SOLUTION END
  rpc::Service service_;   // after the state above: requests start only once it exists
  core::TaskGroup tasks_;  // last: the periods and the calls, destroyed first
};

}  // namespace dsys::lab9
