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
      // SOLUTION BEGIN
      delivered_log_(ctx, std::string(kDeliveredKey)),
      delivered_news_(ctx),
      // SOLUTION END
      learner_(ids_),
      service_(ctx, multipaxos::kService, "multipaxos", {.refuse_other_incarnations = false}),
      client_service_(ctx, multipaxos::kClientService, "multipaxos_client",
                      {.refuse_other_incarnations = false}),
      leader_node_(ctx, self_, peers_, [this](Leader leader) { leader_changed(leader); }),
      tasks_(ctx) {
  // SOLUTION BEGIN
  for (const auto& record : delivered_log_.records()) {
    Value value;
    if (!rpc::decode(record, value))
      throw UsageError(
          fmt::format("node {}: a record of {} does not decode", self_, kDeliveredKey));
    values_.push_back(std::move(value));
    for (auto& command : decide(values_.size(), values_.back())) log_.push_back(std::move(command));
  }
  learner_ = Learner(ids_, values_.size());
  proposer_.delivered(values_.size());
  proposer_.round_seen(acceptor_.promised());  // its next phase 1 goes above it
  service_.serve<multipaxos::Prepare>(
      [this](const multipaxos::PrepareRequest& r, const rpc::CallInfo&) { return on_prepare(r); });
  service_.serve<multipaxos::Accept>(
      [this](const multipaxos::AcceptRequest& r, const rpc::CallInfo&) { return on_accept(r); });
  service_.serve<multipaxos::Learn>(
      [this](const multipaxos::LearnRequest& r, const rpc::CallInfo&) { return on_learn(r); });
  service_.serve<multipaxos::Fetch>(
      [this](const multipaxos::FetchRequest& r, const rpc::CallInfo&) { return on_fetch(r); });
  client_service_.serve<multipaxos::Append>(
      [this](const multipaxos::AppendRequest& r, const rpc::CallInfo&) { return on_append(r); });
  client_service_.serve<multipaxos::Read>(
      [this](const multipaxos::ReadRequest& r, const rpc::CallInfo&) { return on_read(r); });
  tasks_.spawn([this]() { return run_retries(); });
  leader_changed(leader_node_.leader());
  // SOLUTION STUB
  // // TODO(lab10 part 4), in this order:
  // //  - read back the delivered log: rebuild values_, log_ and the per-client table from its
  // //    records, without calling on_deliver_ (those slots were told before the crash);
  // //  - make the learner start after them (learner_ = Learner(ids_, slots read back)) and tell
  // //    the proposer (proposer_.delivered(slots read back));
  // //  - proposer_.round_seen(acceptor_.promised()): without it, a restarted node that leads
  // //    again picks a round its acceptor promised before the crash, and may reuse it;
  // //  - serve both services' procedures: service_.serve<multipaxos::Prepare>(...) takes a
  // //    handler of (request, const rpc::CallInfo&): wrap on_prepare and the others in a
  // //    lambda (lab 7's paxos.cpp does the same);
  // //  - start run_retries() in tasks_;
  // //  - tell the proposer whom the leader detector trusts now (leader_changed: it tells only
  // //    changes).
  // // Members that need the context (the DurableLog, the Notifier) go in the initializer list
  // // above, in the order they are declared.
  // dsys::unimplemented("PaxosNode::PaxosNode");
  // SOLUTION END
}

core::Task<multipaxos::PromiseReply> PaxosNode::on_prepare(
    const multipaxos::PrepareRequest& request) {
  // SOLUTION BEGIN
  proposer_.round_seen(request.round);
  co_return acceptor_.prepare(request);
  // SOLUTION STUB
  // // TODO(lab10 part 4): on_prepare, as paxos_node.hpp says.
  // (void)request;
  // dsys::unimplemented("PaxosNode::on_prepare");
  // co_return multipaxos::PromiseReply();
  // SOLUTION END
}

core::Task<multipaxos::AcceptedReply> PaxosNode::on_accept(
    const multipaxos::AcceptRequest& request) {
  // SOLUTION BEGIN
  proposer_.round_seen(request.round);
  auto reply = acceptor_.accept(request);
  if (reply.ok) {
    multipaxos::LearnRequest learn(self_, request.round, request.slot, request.value);
    for (NodeId to : ids_) {
      if (to == self_) continue;
      tasks_.spawn([this, to, learn]() -> core::Task<void> {
        co_await client(to).call<multipaxos::Learn>(learn, kCallTimeout);
      });
    }
    learner_.learn(learn);
    deliver();
  }
  co_return reply;
  // SOLUTION STUB
  // // TODO(lab10 part 4): on_accept, as paxos_node.hpp says.
  // (void)request;
  // dsys::unimplemented("PaxosNode::on_accept");
  // co_return multipaxos::AcceptedReply();
  // SOLUTION END
}

core::Task<multipaxos::Nothing> PaxosNode::on_learn(const multipaxos::LearnRequest& request) {
  // SOLUTION BEGIN
  learner_.learn(request);
  deliver();
  co_return multipaxos::Nothing();
  // SOLUTION STUB
  // // TODO(lab10 part 4): on_learn, as paxos_node.hpp says.
  // (void)request;
  // dsys::unimplemented("PaxosNode::on_learn");
  // co_return multipaxos::Nothing();
  // SOLUTION END
}

core::Task<multipaxos::FetchReply> PaxosNode::on_fetch(const multipaxos::FetchRequest& request) {
  // SOLUTION BEGIN
  multipaxos::FetchReply reply;
  reply.from_slot = request.from_slot;
  for (Slot s = request.from_slot;
       s <= values_.size() && reply.values.size() < multipaxos::kMaxFetch; ++s)
    reply.values.push_back(values_[s - 1]);
  co_return reply;
  // SOLUTION STUB
  // // TODO(lab10 part 4): on_fetch, as paxos_node.hpp says.
  // (void)request;
  // dsys::unimplemented("PaxosNode::on_fetch");
  // co_return multipaxos::FetchReply();
  // SOLUTION END
}

core::Task<multipaxos::AppendReply> PaxosNode::on_append(const multipaxos::AppendRequest& request) {
  // SOLUTION BEGIN
  const Command& command = request.command;
  auto applied = [&]() -> std::optional<Slot> {
    auto it = decided_.find(command.client);
    if (it == decided_.end() || it->second.first < command.sequence) return std::nullopt;
    return it->second.second;
  };
  multipaxos::AppendReply reply;
  if (auto slot = applied()) {
    reply.status = multipaxos::AppendStatus::delivered;
    reply.slot = *slot;
    co_return reply;
  }
  if (proposer_.state() == Proposer::State::idle) {
    const Leader leader = leader_node_.leader();
    reply.status = leader && *leader != self_ ? multipaxos::AppendStatus::not_leader
                                              : multipaxos::AppendStatus::busy;
    reply.leader = leader.value_or(0);
    co_return reply;
  }
  send_accepts(proposer_.submit(command));
  const core::Time deadline = ctx_.now() + options_.append_wait;
  while (!applied() && ctx_.now() < deadline) co_await delivered_news_.wait_until(deadline);
  if (auto slot = applied()) {
    reply.status = multipaxos::AppendStatus::delivered;
    reply.slot = *slot;
  }
  co_return reply;
  // SOLUTION STUB
  // // TODO(lab10 part 4): on_append, as paxos_node.hpp says.
  // (void)request;
  // dsys::unimplemented("PaxosNode::on_append");
  // co_return multipaxos::AppendReply();
  // SOLUTION END
}

core::Task<multipaxos::ReadReply> PaxosNode::on_read(const multipaxos::ReadRequest& request) {
  // SOLUTION BEGIN
  multipaxos::ReadReply reply;
  reply.from_index = request.from_index;
  reply.delivered = values_.size();
  for (std::uint64_t i = request.from_index;
       i <= log_.size() && reply.commands.size() < multipaxos::kMaxRead; ++i)
    reply.commands.push_back(log_[i - 1]);
  co_return reply;
  // SOLUTION STUB
  // // TODO(lab10 part 4): on_read, as paxos_node.hpp says.
  // (void)request;
  // dsys::unimplemented("PaxosNode::on_read");
  // co_return multipaxos::ReadReply();
  // SOLUTION END
}

void PaxosNode::send_prepare(const multipaxos::PrepareRequest& prepare) {
  // SOLUTION BEGIN
  send_accepts(proposer_.promise(acceptor_.prepare(prepare)));
  for (NodeId to : ids_) {
    if (to == self_) continue;
    tasks_.spawn([this, to, prepare]() -> core::Task<void> {
      auto reply = co_await client(to).call<multipaxos::Prepare>(prepare, kCallTimeout);
      if (!reply) co_return;
      if (reply->ok && reply->compacted > learner_.delivered()) {
        // Slots this node has not delivered were decided and forgotten there: fetch them (again
        // each retry period, until they are here: a fetch may be lost).
        if (reply->compacted > behind_ || behind_from_ == 0) {
          behind_ = std::max(behind_, reply->compacted);
          behind_from_ = to;
        }
        fetch_from(to);
      }
      send_accepts(proposer_.promise(*reply));
    });
  }
  // SOLUTION STUB
  // // TODO(lab10 part 4): send_prepare, as paxos_node.hpp says.
  // (void)prepare;
  // dsys::unimplemented("PaxosNode::send_prepare");
  // SOLUTION END
}

void PaxosNode::send_accepts(const std::vector<multipaxos::AcceptRequest>& accepts) {
  // SOLUTION BEGIN
  for (const auto& accept : accepts) {
    for (NodeId to : ids_) {
      tasks_.spawn([this, to, accept]() -> core::Task<void> {
        auto reply = co_await client(to).call<multipaxos::Accept>(accept, kCallTimeout);
        if (reply) proposer_.accepted(*reply);
      });
    }
  }
  // SOLUTION STUB
  // // TODO(lab10 part 4): send_accepts, as paxos_node.hpp says.
  // (void)accepts;
  // dsys::unimplemented("PaxosNode::send_accepts");
  // SOLUTION END
}

void PaxosNode::fetch_from(NodeId from) {
  // SOLUTION BEGIN
  if (fetching_ || from == self_) return;
  fetching_ = true;
  tasks_.spawn([this, from]() -> core::Task<void> {
    auto reply = co_await client(from).call<multipaxos::Fetch>(
        multipaxos::FetchRequest(learner_.delivered() + 1), kCallTimeout);
    fetching_ = false;
    if (!reply) {
      if (from == behind_from_) behind_from_ = 0;  // down, or cut off: try others
      co_return;
    }
    const Slot before = learner_.delivered();
    for (std::size_t i = 0; i < reply->values.size(); ++i)
      learner_.decided(reply->from_slot + i, reply->values[i]);
    deliver();
    // It has nothing this node lacks (it restarted from an older disk?): try others.
    if (from == behind_from_ && learner_.delivered() == before) behind_from_ = 0;
    // More than one reply's worth: go on.
    if (reply->values.size() == multipaxos::kMaxFetch) fetch_from(from);
  });
  // SOLUTION STUB
  // // TODO(lab10 part 4): fetch_from, as paxos_node.hpp says.
  // (void)from;
  // dsys::unimplemented("PaxosNode::fetch_from");
  // SOLUTION END
}

void PaxosNode::deliver() {
  // SOLUTION BEGIN
  auto ready = learner_.take_deliverable();
  if (ready.empty()) return;
  // The appends waiting for these commands answer now: they are decided. The delivered log is
  // synced once for all the slots taken in the next delivered_sync (group commit); only then
  // are they applied and told.
  for (auto& [slot, value] : ready) {
    delivered_log_.append(rpc::encode(value));
    auto fresh = decide(slot, value);
    unsynced_.push_back({slot, std::move(value), std::move(fresh)});
  }
  delivered_news_.notify_all();
  send_accepts(proposer_.delivered(learner_.delivered()));
  if (!sync_pending_) {
    sync_pending_ = true;
    tasks_.spawn([this]() -> core::Task<void> {
      if (options_.delivered_sync > core::Duration::zero())
        co_await ctx_.sleep_for(options_.delivered_sync);
      sync_delivered();
    });
  }
  // SOLUTION STUB
  // // TODO(lab10 part 4): deliver, as paxos_node.hpp says.
  // dsys::unimplemented("PaxosNode::deliver");
  // SOLUTION END
}

core::Task<void> PaxosNode::run_retries() {
  // SOLUTION BEGIN
  for (;;) {
    co_await ctx_.sleep_for(options_.retry);
    auto resend = proposer_.retry();
    if (resend.prepare) send_prepare(*resend.prepare);
    send_accepts(resend.accepts);
    // Another node in turn (one that may be down is not asked for ever).
    auto another = [this] {
      NodeId id = ids_[++fetch_turn_ % ids_.size()];
      return id != self_ ? id : ids_[++fetch_turn_ % ids_.size()];
    };
    const Leader leader = leader_node_.leader();
    if (learner_.delivered() < behind_) {
      // Slots compacted elsewhere: from the node that said so, or, once it failed, any other.
      fetch_from(behind_from_ != 0 ? behind_from_ : another());
    } else if (leader && *leader != self_) {
      fetch_from(*leader);
    } else if (ids_.size() > 1) {
      // The leader itself (or a node that trusts no one) may lack slots others decided: a
      // higher round's leader decided them while this one was cut off, and their learns were
      // lost. Nothing else would tell it: ask another node in turn.
      fetch_from(another());
    }
  }
  // SOLUTION STUB
  // // TODO(lab10 part 4): run_retries, as paxos_node.hpp says.
  // dsys::unimplemented("PaxosNode::run_retries");
  // co_return;
  // SOLUTION END
}

void PaxosNode::leader_changed(Leader leader) {
  // SOLUTION BEGIN
  if (auto prepare = proposer_.leader_changed(leader)) send_prepare(*prepare);
  // SOLUTION STUB
  // // TODO(lab10 part 4): leader_changed, as paxos_node.hpp says.
  // (void)leader;
  // dsys::unimplemented("PaxosNode::leader_changed");
  // SOLUTION END
}

// SOLUTION BEGIN
rpc::Client& PaxosNode::client(NodeId to) {
  auto& c = clients_[to];
  if (!c) c = std::make_unique<rpc::Client>(rpc::Endpoint::of(ctx_), peers_.at(to), false);
  return *c;
}

std::vector<Command> PaxosNode::decide(Slot slot, const Value& value) {
  std::vector<Command> fresh;
  for (const auto& command : value.commands) {
    auto& [sequence, at] = decided_[command.client];
    if (command.sequence <= sequence) continue;  // decided already (a retried append)
    sequence = command.sequence;
    at = slot;
    fresh.push_back(command);
  }
  return fresh;
}

void PaxosNode::sync_delivered() {
  sync_pending_ = false;
  delivered_log_.sync();
  for (auto& slot : std::exchange(unsynced_, {})) {
    values_.push_back(std::move(slot.value));
    for (auto& command : slot.fresh) log_.push_back(std::move(command));
    if (on_deliver_) on_deliver_(slot.slot, values_.back());
  }
  if (options_.compact_every > 0 &&
      values_.size() >= acceptor_.compacted() + options_.compact_every)
    acceptor_.compact(values_.size());
}
// SOLUTION END

}  // namespace dsys::lab10
