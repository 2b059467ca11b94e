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
  // TODO(lab9 part 1): the book's init: the period is initial_delay, every node counts as
  // alive, none is suspected.
  (void)initial_delay;
}

void FailureDetector::reply_received(NodeId from) {
  // TODO(lab9 part 1): `from` (one of nodes_) is alive in this period.
  dsys::unimplemented("FailureDetector::reply_received");
}

void FailureDetector::timeout() {
  // TODO(lab9 part 1): the book's Timeout, steps 1 to 4 in failure_detector.hpp.
  dsys::unimplemented("FailureDetector::timeout");
}

core::Duration FailureDetector::delay() const {
  // TODO(lab9 part 1): the period now.
  dsys::unimplemented("FailureDetector::delay");
}

bool FailureDetector::suspects(NodeId id) const {
  // TODO(lab9 part 1): whether `id` is suspected now.
  dsys::unimplemented("FailureDetector::suspects");
}

std::set<NodeId> FailureDetector::suspected() const {
  // TODO(lab9 part 1): every node suspected now.
  dsys::unimplemented("FailureDetector::suspected");
}

}  // namespace dsys::lab9
