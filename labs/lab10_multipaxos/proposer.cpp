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
  // TODO(lab10 part 2): start phase 1 when this node becomes leader; stop when another does.
  (void)leader;
  dsys::unimplemented("Proposer::leader_changed");
  return std::nullopt;
}

std::vector<AcceptRequest> Proposer::promise(const PromiseReply& reply) {
  // TODO(lab10 part 2): count the promise; at a majority, lead: the accepts of the reported
  // slots and the gaps, then of the queued commands.
  (void)reply;
  dsys::unimplemented("Proposer::promise");
  return {};
}

void Proposer::accepted(const AcceptedReply& reply) {
  // TODO(lab10 part 2): a refusal names a round that may be above this one.
  (void)reply;
  dsys::unimplemented("Proposer::accepted");
}

void Proposer::round_seen(Round round) {
  // TODO(lab10 part 2): remember the highest round; step down below a higher one.
  (void)round;
  dsys::unimplemented("Proposer::round_seen");
}

std::vector<AcceptRequest> Proposer::submit(Command command) {
  // TODO(lab10 part 2): queue the command; propose what the window allows.
  (void)command;
  dsys::unimplemented("Proposer::submit");
  return {};
}

std::vector<AcceptRequest> Proposer::delivered(Slot slot) {
  // TODO(lab10 part 2): the window moves; propose what it allows now.
  (void)slot;
  dsys::unimplemented("Proposer::delivered");
  return {};
}

Proposer::Resend Proposer::retry() {
  // TODO(lab10 part 2): what to send again.
  dsys::unimplemented("Proposer::retry");
  return {};
}

Proposer::State Proposer::state() const {
  dsys::unimplemented("Proposer::state");
  return State::idle;
}

Round Proposer::round() const {
  dsys::unimplemented("Proposer::round");
  return {};
}

Slot Proposer::delivered() const {
  dsys::unimplemented("Proposer::delivered");
  return 0;
}

Slot Proposer::next_slot() const {
  dsys::unimplemented("Proposer::next_slot");
  return 0;
}

std::size_t Proposer::queued() const {
  dsys::unimplemented("Proposer::queued");
  return 0;
}

}  // namespace dsys::lab10
