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
  // SOLUTION BEGIN
  changes_ = leader_detector_.subscribe();
  service_.serve<leader::Heartbeat>([this](const leader::HeartbeatMessage& request,
                                           const rpc::CallInfo&) { return heartbeat(request); });
  tasks_.spawn([this]() { return run_periods(); });
  // SOLUTION STUB
  // // TODO(lab9 part 3): subscribe to the leader detector; serve leader::Heartbeat with
  // // heartbeat() (service_.serve<leader::Heartbeat>(handler), the handler taking the request
  // // and an rpc::CallInfo and returning heartbeat(request), a core::Task<HeartbeatMessage>);
  // // start run_periods() in tasks_.
  // dsys::unimplemented("LeaderNode::LeaderNode");
  // SOLUTION END
}

core::Task<leader::HeartbeatMessage> LeaderNode::heartbeat(
    const leader::HeartbeatMessage& request) {
  // SOLUTION BEGIN
  (void)request;  // anyone may ask
  co_return leader::HeartbeatMessage(self_);
  // SOLUTION STUB
  // // TODO(lab9 part 3): answer, naming this node.
  // (void)request;
  // dsys::unimplemented("LeaderNode::heartbeat");
  // co_return leader::HeartbeatMessage();
  // SOLUTION END
}

void LeaderNode::send_request(NodeId to) {
  // SOLUTION BEGIN
  if (!peers_.contains(to)) return;
  tasks_.spawn([this, to]() -> core::Task<void> {
    auto reply =
        co_await client(to).call<leader::Heartbeat>(leader::HeartbeatMessage(self_), kCallTimeout);
    if (!reply) co_return;  // no reply within kCallTimeout, or refused: nothing heard
    if (reply->from != to) {
      ctx_.log("heartbeat: node {} at {} answered as node {}: ignored (a wrong --peers list?)", to,
               peers_.at(to).to_string(), reply->from);
      co_return;
    }
    failure_detector_.reply_received(to);
  });
  // SOLUTION STUB
  // // TODO(lab9 part 3): call leader::Heartbeat on `to` in the background (tasks_.spawn), the
  // // request naming self_, waiting up to kCallTimeout; a reply that names `to` reaches the
  // // failure detector, one that names another node is logged and ignored.
  // (void)to;
  // dsys::unimplemented("LeaderNode::send_request");
  // SOLUTION END
}

core::Task<void> LeaderNode::run_periods() {
  // SOLUTION BEGIN
  for (;;) {
    co_await ctx_.sleep_for(failure_detector_.delay());
    failure_detector_.timeout();
    while (auto change = changes_->take()) {
      ctx_.log("leader: {}", leader::to_string(*change));
      if (on_leader_) on_leader_(*change);
    }
  }
  // SOLUTION STUB
  // // TODO(lab9 part 3): forever: wait the period, call the failure detector's timeout(), and
  // // tell on_leader_ (when set) each change of leader it made, oldest first.
  // dsys::unimplemented("LeaderNode::run_periods");
  // co_return;
  // SOLUTION END
}

// SOLUTION BEGIN
rpc::Client& LeaderNode::client(NodeId to) {
  auto& c = clients_[to];
  if (!c) c = std::make_unique<rpc::Client>(rpc::Endpoint::of(ctx_), peers_.at(to), false);
  return *c;
}
// SOLUTION END

}  // namespace dsys::lab9
