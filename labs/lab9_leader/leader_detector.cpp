// lab 9 part 2: the monarchical eventual leader detector (leader_detector.hpp says what each
// function must do).
#include "leader_detector.hpp"

#include <algorithm>
#include <utility>

#include "dsys/core/error.hpp"

namespace dsys::lab9 {

void Subscription::put(Leader leader) {
  // TODO(lab9 part 2): keep `leader` as the newest change; when the mailbox is full, drop
  // the oldest first, and count it.
  dsys::unimplemented("Subscription::put");
}

std::optional<Leader> Subscription::take() {
  // TODO(lab9 part 2): the oldest change waiting (and it is taken), or nullopt.
  dsys::unimplemented("Subscription::take");
}

std::size_t Subscription::waiting() const {
  // TODO(lab9 part 2): how many changes wait.
  dsys::unimplemented("Subscription::waiting");
}

std::uint64_t Subscription::lost() const {
  // TODO(lab9 part 2): how many changes were dropped.
  dsys::unimplemented("Subscription::lost");
}

LeaderDetector::LeaderDetector(std::vector<NodeId> nodes) : nodes_(std::move(nodes)) {
  // TODO(lab9 part 2): no one is suspected yet: the leader is the highest id.
}

void LeaderDetector::suspect(NodeId id) {
  // TODO(lab9 part 2): `id` is suspected; tell the subscribers if the leader changed.
  dsys::unimplemented("LeaderDetector::suspect");
}

void LeaderDetector::restore(NodeId id) {
  // TODO(lab9 part 2): `id` is no longer suspected; tell the subscribers if the leader
  // changed.
  dsys::unimplemented("LeaderDetector::restore");
}

Leader LeaderDetector::leader() const {
  // TODO(lab9 part 2): the highest id not suspected, or nullopt if every node is.
  dsys::unimplemented("LeaderDetector::leader");
}

std::shared_ptr<Subscription> LeaderDetector::subscribe() {
  auto subscription = std::make_shared<Subscription>();
  subscribers_.push_back(subscription);
  return subscription;
}

}  // namespace dsys::lab9
