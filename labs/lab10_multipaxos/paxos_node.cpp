// lab 10 part 4: a Multi-Paxos node (paxos_node.hpp says what each function must do).
#include "paxos_node.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "dsys/core/error.hpp"
#include "dsys/rpc/marshal.hpp"

namespace dsys::lab10 {

PaxosNode::PaxosNode(core::Context& ctx, NodeId self, Peers peers, Options options,
                     OnDeliver on_deliver)
    : ctx_(ctx),
      self_(self),
      peers_(std::move(peers)),
      options_(options),
      on_deliver_(std::move(on_deliver)),
      ids_(lab9::ids_of(peers_)),
      acceptor_(self_, ctx.storage()),
      proposer_(self_, ids_, options_.alpha, options_.batch),
      learner_(ids_),
      service_(ctx, multipaxos::kService, "multipaxos", {.refuse_other_incarnations = false}),
      client_service_(ctx, multipaxos::kClientService, "multipaxos_client",
                      {.refuse_other_incarnations = false}),
      leader_node_(ctx, self_, peers_, [this](Leader leader) { leader_changed(leader); }),
      tasks_(ctx) {
  // TODO(lab10 part 4), in this order:
  //  - read back the delivered log: rebuild values_, log_ and the per-client table from its
  //    records, without calling on_deliver_ (those slots were told before the crash);
  //  - make the learner start after them (learner_ = Learner(ids_, slots read back)) and tell
  //    the proposer (proposer_.delivered(slots read back));
  //  - proposer_.round_seen(acceptor_.promised()): without it, a restarted node that leads
  //    again picks a round its acceptor promised before the crash, and may reuse it;
  //  - serve both services' procedures: service_.serve<multipaxos::Prepare>(...) takes a
  //    handler of (request, const rpc::CallInfo&): wrap on_prepare and the others in a
  //    lambda (lab 7's paxos.cpp does the same);
  //  - start run_retries() in tasks_;
  //  - tell the proposer whom the leader detector trusts now (leader_changed: it tells only
  //    changes).
  // Members that need the context (the DurableLog, the Notifier) go in the initializer list
  // above, in the order they are declared.
  dsys::unimplemented("PaxosNode::PaxosNode");
}

core::Task<multipaxos::PromiseReply> PaxosNode::on_prepare(
    const multipaxos::PrepareRequest& request) {
  // TODO(lab10 part 4): on_prepare, as paxos_node.hpp says.
  (void)request;
  dsys::unimplemented("PaxosNode::on_prepare");
  co_return multipaxos::PromiseReply();
}

core::Task<multipaxos::AcceptedReply> PaxosNode::on_accept(
    const multipaxos::AcceptRequest& request) {
  // TODO(lab10 part 4): on_accept, as paxos_node.hpp says.
  (void)request;
  dsys::unimplemented("PaxosNode::on_accept");
  co_return multipaxos::AcceptedReply();
}

core::Task<multipaxos::Nothing> PaxosNode::on_learn(const multipaxos::LearnRequest& request) {
  // TODO(lab10 part 4): on_learn, as paxos_node.hpp says.
  (void)request;
  dsys::unimplemented("PaxosNode::on_learn");
  co_return multipaxos::Nothing();
}

core::Task<multipaxos::FetchReply> PaxosNode::on_fetch(const multipaxos::FetchRequest& request) {
  // TODO(lab10 part 4): on_fetch, as paxos_node.hpp says.
  (void)request;
  dsys::unimplemented("PaxosNode::on_fetch");
  co_return multipaxos::FetchReply();
}

core::Task<multipaxos::AppendReply> PaxosNode::on_append(const multipaxos::AppendRequest& request) {
  // TODO(lab10 part 4): on_append, as paxos_node.hpp says.
  (void)request;
  dsys::unimplemented("PaxosNode::on_append");
  co_return multipaxos::AppendReply();
}

core::Task<multipaxos::ReadReply> PaxosNode::on_read(const multipaxos::ReadRequest& request) {
  // TODO(lab10 part 4): on_read, as paxos_node.hpp says.
  (void)request;
  dsys::unimplemented("PaxosNode::on_read");
  co_return multipaxos::ReadReply();
}

void PaxosNode::send_prepare(const multipaxos::PrepareRequest& prepare) {
  // TODO(lab10 part 4): send_prepare, as paxos_node.hpp says.
  (void)prepare;
  dsys::unimplemented("PaxosNode::send_prepare");
}

void PaxosNode::send_accepts(const std::vector<multipaxos::AcceptRequest>& accepts) {
  // TODO(lab10 part 4): send_accepts, as paxos_node.hpp says.
  (void)accepts;
  dsys::unimplemented("PaxosNode::send_accepts");
}

void PaxosNode::fetch_from(NodeId from) {
  // TODO(lab10 part 4): fetch_from, as paxos_node.hpp says.
  (void)from;
  dsys::unimplemented("PaxosNode::fetch_from");
}

void PaxosNode::deliver() {
  // TODO(lab10 part 4): deliver, as paxos_node.hpp says.
  dsys::unimplemented("PaxosNode::deliver");
}

core::Task<void> PaxosNode::run_retries() {
  // TODO(lab10 part 4): run_retries, as paxos_node.hpp says.
  dsys::unimplemented("PaxosNode::run_retries");
  co_return;
}

void PaxosNode::leader_changed(Leader leader) {
  // TODO(lab10 part 4): leader_changed, as paxos_node.hpp says.
  (void)leader;
  dsys::unimplemented("PaxosNode::leader_changed");
}

}  // namespace dsys::lab10
