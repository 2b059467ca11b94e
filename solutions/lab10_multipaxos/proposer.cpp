// lab 10 part 2: the proposer (proposer.hpp says what each function must do).
#include "proposer.hpp"

#include <algorithm>
#include <utility>

#include "dsys/core/error.hpp"

namespace dsys::lab10 {

Proposer::Proposer(NodeId self, std::vector<NodeId> nodes, std::size_t alpha, std::size_t batch)
    : self_(self), nodes_(std::move(nodes)), alpha_(alpha), batch_(batch) {
  if (alpha_ == 0 || batch_ == 0 || batch_ > multipaxos::kMaxBatch)
    throw UsageError("a proposer's alpha is at least 1, and its batch 1 to kMaxBatch");
}

std::optional<PrepareRequest> Proposer::leader_changed(Leader leader) {
  // SOLUTION BEGIN
  trusted_ = leader;
  if (leader == self_) {
    if (state_ == State::idle) return start_phase1();
    return std::nullopt;
  }
  if (state_ != State::idle) step_down();
  return std::nullopt;
  // SOLUTION STUB
  // // TODO(lab10 part 2): start phase 1 when this node becomes leader; stop when another does.
  // (void)leader;
  // dsys::unimplemented("Proposer::leader_changed");
  // return std::nullopt;
  // SOLUTION END
}

std::vector<AcceptRequest> Proposer::promise(const PromiseReply& reply) {
  // SOLUTION BEGIN
  if (!reply.ok) {
    round_seen(reply.promised);
    return {};
  }
  if (state_ != State::preparing || reply.round != round_) return {};
  if (std::find(nodes_.begin(), nodes_.end(), reply.from) == nodes_.end()) return {};
  if (!promised_by_.insert(reply.from).second) return {};
  compacted_ = std::max(compacted_, reply.compacted);
  for (const auto& accepted : reply.accepted) {
    if (accepted.slot < phase1_from_) continue;  // delivered here: not proposed again
    auto [it, fresh] = reported_.try_emplace(accepted.slot, accepted);
    if (!fresh && accepted.round > it->second.round) it->second = accepted;
  }
  if (!majority(promised_by_.size())) return {};

  state_ = State::leading;
  const Slot first = std::max({phase1_from_, delivered_ + 1, compacted_ + 1});
  const Slot last = reported_.empty() ? 0 : reported_.rbegin()->first;
  std::vector<AcceptRequest> out;
  for (Slot s = first; s <= last; ++s) {
    auto it = reported_.find(s);
    Value value = it == reported_.end() ? Value() : it->second.value;  // a gap: a no-op
    proposals_[s] = value;
    out.emplace_back(self_, round_, s, std::move(value));
  }
  next_slot_ = std::max(first, last + 1);
  reported_.clear();
  for (auto& accept : propose_queued()) out.push_back(std::move(accept));
  return out;
  // SOLUTION STUB
  // // TODO(lab10 part 2): count the promise; at a majority, lead: the accepts of the reported
  // // slots and the gaps, then of the queued commands.
  // (void)reply;
  // dsys::unimplemented("Proposer::promise");
  // return {};
  // SOLUTION END
}

void Proposer::accepted(const AcceptedReply& reply) {
  // SOLUTION BEGIN
  if (!reply.ok) round_seen(reply.promised);
  // SOLUTION STUB
  // // TODO(lab10 part 2): a refusal names a round that may be above this one.
  // (void)reply;
  // dsys::unimplemented("Proposer::accepted");
  // SOLUTION END
}

void Proposer::round_seen(Round round) {
  // SOLUTION BEGIN
  highest_seen_ = std::max(highest_seen_, round);
  if (round > round_ && state_ != State::idle) step_down();
  // SOLUTION STUB
  // // TODO(lab10 part 2): remember the highest round; step down below a higher one.
  // (void)round;
  // dsys::unimplemented("Proposer::round_seen");
  // SOLUTION END
}

std::vector<AcceptRequest> Proposer::submit(Command command) {
  // SOLUTION BEGIN
  if (state_ == State::idle) return {};
  queue_.push_back(std::move(command));
  return propose_queued();
  // SOLUTION STUB
  // // TODO(lab10 part 2): queue the command; propose what the window allows.
  // (void)command;
  // dsys::unimplemented("Proposer::submit");
  // return {};
  // SOLUTION END
}

std::vector<AcceptRequest> Proposer::delivered(Slot slot) {
  // SOLUTION BEGIN
  if (slot <= delivered_) return {};
  delivered_ = slot;
  proposals_.erase(proposals_.begin(), proposals_.upper_bound(slot));
  next_slot_ = std::max(next_slot_, delivered_ + 1);
  return propose_queued();
  // SOLUTION STUB
  // // TODO(lab10 part 2): the window moves; propose what it allows now.
  // (void)slot;
  // dsys::unimplemented("Proposer::delivered");
  // return {};
  // SOLUTION END
}

Proposer::Resend Proposer::retry() {
  // SOLUTION BEGIN
  Resend resend;
  switch (state_) {
    case State::preparing:
      resend.prepare = PrepareRequest(self_, round_, phase1_from_);
      break;
    case State::leading:
      for (const auto& [slot, value] : proposals_)
        resend.accepts.emplace_back(self_, round_, slot, value);
      break;
    case State::idle:
      if (trusted_ == self_) resend.prepare = start_phase1();
      break;
  }
  return resend;
  // SOLUTION STUB
  // // TODO(lab10 part 2): what to send again.
  // dsys::unimplemented("Proposer::retry");
  // return {};
  // SOLUTION END
}

Proposer::State Proposer::state() const {
  // SOLUTION BEGIN
  return state_;
  // SOLUTION STUB
  // dsys::unimplemented("Proposer::state");
  // return State::idle;
  // SOLUTION END
}

Round Proposer::round() const {
  // SOLUTION BEGIN
  return round_;
  // SOLUTION STUB
  // dsys::unimplemented("Proposer::round");
  // return {};
  // SOLUTION END
}

Slot Proposer::delivered() const {
  // SOLUTION BEGIN
  return delivered_;
  // SOLUTION STUB
  // dsys::unimplemented("Proposer::delivered");
  // return 0;
  // SOLUTION END
}

Slot Proposer::next_slot() const {
  // SOLUTION BEGIN
  return next_slot_;
  // SOLUTION STUB
  // dsys::unimplemented("Proposer::next_slot");
  // return 0;
  // SOLUTION END
}

std::size_t Proposer::queued() const {
  // SOLUTION BEGIN
  return queue_.size();
  // SOLUTION STUB
  // dsys::unimplemented("Proposer::queued");
  // return 0;
  // SOLUTION END
}

// SOLUTION BEGIN
PrepareRequest Proposer::start_phase1() {
  round_ = Round{std::max(highest_seen_.number, round_.number) + 1, self_};
  highest_seen_ = std::max(highest_seen_, round_);
  state_ = State::preparing;
  promised_by_.clear();
  reported_.clear();
  compacted_ = 0;
  phase1_from_ = delivered_ + 1;
  return PrepareRequest(self_, round_, phase1_from_);
}

void Proposer::step_down() {
  state_ = State::idle;
  queue_.clear();
  proposals_.clear();
  promised_by_.clear();
  reported_.clear();
}

std::vector<AcceptRequest> Proposer::propose_queued() {
  std::vector<AcceptRequest> out;
  while (state_ == State::leading && !queue_.empty() && next_slot_ <= delivered_ + alpha_) {
    std::vector<Command> batch;
    while (!queue_.empty() && batch.size() < batch_) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    Value value(std::move(batch));
    proposals_[next_slot_] = value;
    out.emplace_back(self_, round_, next_slot_, std::move(value));
    ++next_slot_;
  }
  return out;
}
// SOLUTION END

}  // namespace dsys::lab10
