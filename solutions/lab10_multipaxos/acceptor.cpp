// lab 10 part 1: the acceptor (acceptor.hpp says what each function must do).
#include "acceptor.hpp"

#include <string>

#include "dsys/core/error.hpp"
#include "dsys/rpc/marshal.hpp"

namespace dsys::lab10 {

// SOLUTION BEGIN
namespace {

// What kStateKey holds.
struct StoredState {
  Round promised;
  Slot compacted = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& promised& compacted;
  }
};

}  // namespace
// SOLUTION END

Acceptor::Acceptor(NodeId self, core::Storage& disk) : self_(self), disk_(disk) {
  // SOLUTION BEGIN
  if (auto bytes = disk_.read(kStateKey)) {
    StoredState state;
    if (!rpc::decode(*bytes, state))
      throw UsageError(fmt::format("acceptor {}: {} does not decode", self_, kStateKey));
    promised_ = state.promised;
    compacted_ = state.compacted;
  }
  log_ = std::make_unique<core::DurableLog>(disk_, std::string(kLogKey));
  for (const auto& record : log_->records()) {
    AcceptedSlot slot;
    if (!rpc::decode(record, slot))
      throw UsageError(fmt::format("acceptor {}: a record of {} does not decode", self_, kLogKey));
    record_slots_.push_back(slot.slot);
    // Acceptances of one slot come in rounds that never go down: the last one stands.
    if (slot.slot > compacted_) accepted_[slot.slot] = std::move(slot);
  }
  // SOLUTION STUB
  // // TODO(lab10 part 1): read back the promise and the compaction mark (kStateKey, if the disk
  // // has it) and the accepted slots (the log's records, oldest first: a later acceptance of a
  // // slot replaces an earlier one).
  // dsys::unimplemented("Acceptor::Acceptor");
  // SOLUTION END
}

PromiseReply Acceptor::prepare(const PrepareRequest& request) {
  // SOLUTION BEGIN
  PromiseReply reply;
  reply.from = self_;
  reply.round = request.round;
  reply.compacted = compacted_;
  if (request.round >= promised_) {
    if (request.round != promised_) {
      promised_ = request.round;
      write_state();
      disk_.sync();
    }
    reply.ok = true;
    for (auto it = accepted_.lower_bound(std::max(request.from_slot, compacted_ + 1));
         it != accepted_.end(); ++it)
      reply.accepted.push_back(it->second);
  }
  reply.promised = promised_;
  return reply;
  // SOLUTION STUB
  // // TODO(lab10 part 1): phase 1b.
  // (void)request;
  // dsys::unimplemented("Acceptor::prepare");
  // return {};
  // SOLUTION END
}

AcceptedReply Acceptor::accept(const AcceptRequest& request) {
  // SOLUTION BEGIN
  AcceptedReply reply;
  reply.from = self_;
  reply.round = request.round;
  reply.slot = request.slot;
  if (request.round >= promised_) {
    if (request.round != promised_) {
      promised_ = request.round;
      write_state();
    }
    auto it = accepted_.find(request.slot);
    // (The same accept again, a resend: it is on the disk already. A round proposes one value a
    // slot.)
    if (request.slot > compacted_ && (it == accepted_.end() || it->second.round != request.round)) {
      AcceptedSlot slot(request.slot, request.round, request.value);
      log_->append(rpc::encode(slot));
      record_slots_.push_back(request.slot);
      accepted_[request.slot] = std::move(slot);
    }
    disk_.sync();
    reply.ok = true;
  }
  reply.promised = promised_;
  return reply;
  // SOLUTION STUB
  // // TODO(lab10 part 1): phase 2b.
  // (void)request;
  // dsys::unimplemented("Acceptor::accept");
  // return {};
  // SOLUTION END
}

void Acceptor::compact(Slot upto) {
  // SOLUTION BEGIN
  if (upto <= compacted_) return;
  compacted_ = upto;
  write_state();
  accepted_.erase(accepted_.begin(), accepted_.upper_bound(upto));
  std::size_t front = 0;
  while (front < record_slots_.size() && record_slots_[front] <= compacted_) ++front;
  if (front > 0) {
    log_->truncate_prefix(front);
    record_slots_.erase(record_slots_.begin(), record_slots_.begin() + static_cast<long>(front));
  }
  disk_.sync();
  // SOLUTION STUB
  // // TODO(lab10 part 1): forget slots 1..upto, durably.
  // (void)upto;
  // dsys::unimplemented("Acceptor::compact");
  // SOLUTION END
}

Round Acceptor::promised() const {
  // SOLUTION BEGIN
  return promised_;
  // SOLUTION STUB
  // dsys::unimplemented("Acceptor::promised");
  // return {};
  // SOLUTION END
}

std::optional<AcceptedSlot> Acceptor::accepted(Slot slot) const {
  // SOLUTION BEGIN
  auto it = accepted_.find(slot);
  if (it == accepted_.end()) return std::nullopt;
  return it->second;
  // SOLUTION STUB
  // (void)slot;
  // dsys::unimplemented("Acceptor::accepted");
  // return std::nullopt;
  // SOLUTION END
}

Slot Acceptor::compacted() const {
  // SOLUTION BEGIN
  return compacted_;
  // SOLUTION STUB
  // dsys::unimplemented("Acceptor::compacted");
  // return 0;
  // SOLUTION END
}

std::size_t Acceptor::log_records() const {
  // SOLUTION BEGIN
  return log_->size();
  // SOLUTION STUB
  // dsys::unimplemented("Acceptor::log_records");
  // return 0;
  // SOLUTION END
}

// SOLUTION BEGIN
void Acceptor::write_state() {
  StoredState state{.promised = promised_, .compacted = compacted_};
  disk_.write(kStateKey, rpc::encode(state));
}
// SOLUTION END

}  // namespace dsys::lab10
