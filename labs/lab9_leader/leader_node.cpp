// lab 9 part 3: a node that detects its group's leader (leader_node.hpp says what each function
// must do).
#include "leader_node.hpp"

#include <utility>
#include <vector>

#include "dsys/core/error.hpp"

namespace dsys::lab9 {

LeaderNode::LeaderNode(core::Context& ctx, NodeId self, Peers peers, OnLeader on_leader,
                       core::Duration initial_delay, core::Duration delta)
    : ctx_(ctx),
      self_(self),
      peers_(std::move(peers)),
      on_leader_(std::move(on_leader)),
      leader_detector_(ids_of(peers_)),
      failure_detector_(
          self_, ids_of(peers_), leader_detector_, [this](NodeId to) { send_request(to); },
          initial_delay, delta),
      service_(ctx, leader::kService, "leader", {.refuse_other_incarnations = false}),
      tasks_(ctx) {
  // TODO(lab9 part 3): subscribe to the leader detector; serve leader::Heartbeat with
  // heartbeat() (service_.serve<leader::Heartbeat>(handler), the handler taking the request
  // and an rpc::CallInfo and returning heartbeat(request), a core::Task<HeartbeatMessage>);
  // start run_periods() in tasks_.
  dsys::unimplemented("LeaderNode::LeaderNode");
}

core::Task<leader::HeartbeatMessage> LeaderNode::heartbeat(
    const leader::HeartbeatMessage& request) {
  // TODO(lab9 part 3): answer, naming this node.
  (void)request;
  dsys::unimplemented("LeaderNode::heartbeat");
  co_return leader::HeartbeatMessage();
}

void LeaderNode::send_request(NodeId to) {
  // TODO(lab9 part 3): call leader::Heartbeat on `to` in the background (tasks_.spawn), the
  // request naming self_, waiting up to kCallTimeout; a reply that names `to` reaches the
  // failure detector, one that names another node is logged and ignored.
  (void)to;
  dsys::unimplemented("LeaderNode::send_request");
}

core::Task<void> LeaderNode::run_periods() {
  // TODO(lab9 part 3): forever: wait the period, call the failure detector's timeout(), and
  // tell on_leader_ (when set) each change of leader it made, oldest first.
  dsys::unimplemented("LeaderNode::run_periods");
  co_return;
}

}  // namespace dsys::lab9
