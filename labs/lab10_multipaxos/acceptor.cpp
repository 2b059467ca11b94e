// lab 10 part 1: the acceptor (acceptor.hpp says what each function must do).
#include "acceptor.hpp"

#include <string>

#include "dsys/core/error.hpp"
#include "dsys/rpc/marshal.hpp"

namespace dsys::lab10 {

Acceptor::Acceptor(NodeId self, core::Storage& disk) : self_(self), disk_(disk) {
  // TODO(lab10 part 1): read back the promise and the compaction mark (kStateKey, if the disk
  // has it) and the accepted slots (the log's records, oldest first: a later acceptance of a
  // slot replaces an earlier one).
  dsys::unimplemented("Acceptor::Acceptor");
}

PromiseReply Acceptor::prepare(const PrepareRequest& request) {
  // TODO(lab10 part 1): phase 1b.
  (void)request;
  dsys::unimplemented("Acceptor::prepare");
  return {};
}

AcceptedReply Acceptor::accept(const AcceptRequest& request) {
  // TODO(lab10 part 1): phase 2b.
  (void)request;
  dsys::unimplemented("Acceptor::accept");
  return {};
}

void Acceptor::compact(Slot upto) {
  // TODO(lab10 part 1): forget slots 1..upto, durably.
  (void)upto;
  dsys::unimplemented("Acceptor::compact");
}

Round Acceptor::promised() const {
  dsys::unimplemented("Acceptor::promised");
  return {};
}

std::optional<AcceptedSlot> Acceptor::accepted(Slot slot) const {
  (void)slot;
  dsys::unimplemented("Acceptor::accepted");
  return std::nullopt;
}

Slot Acceptor::compacted() const {
  dsys::unimplemented("Acceptor::compacted");
  return 0;
}

std::size_t Acceptor::log_records() const {
  dsys::unimplemented("Acceptor::log_records");
  return 0;
}

}  // namespace dsys::lab10
