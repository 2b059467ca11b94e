// lab 9 part 1: the eventually perfect failure detector (failure_detector.hpp says what each
// function must do).
#include "failure_detector.hpp"

#include <algorithm>
#include <utility>

#include "dsys/core/error.hpp"

namespace dsys::lab9 {

FailureDetector::FailureDetector(NodeId self, std::vector<NodeId> nodes,
                                 SuspectRestorer& subscriber, SendRequest send_request,
                                 core::Duration initial_delay, core::Duration delta)
    : self_(self),
      nodes_(std::move(nodes)),
      subscriber_(subscriber),
      send_request_(std::move(send_request)),
      delta_(delta) {
  // SOLUTION BEGIN
  delay_ = initial_delay;
  alive_.insert(nodes_.begin(), nodes_.end());  // the book's init: alive = Π
  // SOLUTION STUB
  // // TODO(lab9 part 1): the book's init: the period is initial_delay, every node counts as
  // // alive, none is suspected.
  // (void)initial_delay;
  // SOLUTION END
}

void FailureDetector::reply_received(NodeId from) {
  // SOLUTION BEGIN
  if (std::find(nodes_.begin(), nodes_.end(), from) == nodes_.end()) return;
  alive_.insert(from);
  // SOLUTION STUB
  // // TODO(lab9 part 1): `from` (one of nodes_) is alive in this period.
  // dsys::unimplemented("FailureDetector::reply_received");
  // SOLUTION END
}

void FailureDetector::timeout() {
  // SOLUTION BEGIN
  // 1. A node that is alive and suspected was suspected wrongly: the period was too short.
  const bool false_suspicion = std::any_of(suspected_.begin(), suspected_.end(),
                                           [&](NodeId id) { return alive_.contains(id); });
  if (false_suspicion) delay_ += delta_;
  for (NodeId id : nodes_) {
    // 2. The verdicts, each told once.
    const bool alive = alive_.contains(id);
    const bool suspected = suspected_.contains(id);
    if (!alive && !suspected) {
      suspected_.insert(id);
      subscriber_.suspect(id);
    } else if (alive && suspected) {
      suspected_.erase(id);
      subscriber_.restore(id);
    }
    // 3. Everyone is asked again, this node too.
    send_request_(id);
  }
  // 4. The next period starts with no one heard from.
  alive_.clear();
  // SOLUTION STUB
  // // TODO(lab9 part 1): the book's Timeout, steps 1 to 4 in failure_detector.hpp.
  // dsys::unimplemented("FailureDetector::timeout");
  // SOLUTION END
}

core::Duration FailureDetector::delay() const {
  // SOLUTION BEGIN
  return delay_;
  // SOLUTION STUB
  // // TODO(lab9 part 1): the period now.
  // dsys::unimplemented("FailureDetector::delay");
  // SOLUTION END
}

bool FailureDetector::suspects(NodeId id) const {
  // SOLUTION BEGIN
  return suspected_.contains(id);
  // SOLUTION STUB
  // // TODO(lab9 part 1): whether `id` is suspected now.
  // dsys::unimplemented("FailureDetector::suspects");
  // SOLUTION END
}

std::set<NodeId> FailureDetector::suspected() const {
  // SOLUTION BEGIN
  return suspected_;
  // SOLUTION STUB
  // // TODO(lab9 part 1): every node suspected now.
  // dsys::unimplemented("FailureDetector::suspected");
  // SOLUTION END
}

}  // namespace dsys::lab9
