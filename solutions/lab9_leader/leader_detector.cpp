// lab 9 part 2: the monarchical eventual leader detector (leader_detector.hpp says what each
// function must do).
#include "leader_detector.hpp"

#include <algorithm>
#include <utility>

#include "dsys/core/error.hpp"

namespace dsys::lab9 {

void Subscription::put(Leader leader) {
  // SOLUTION BEGIN
  if (changes_.size() >= kCapacity) {
    changes_.pop_front();  // the oldest goes; the newest is always kept
    ++lost_;
  }
  changes_.push_back(leader);
  // SOLUTION STUB
  // // TODO(lab9 part 2): keep `leader` as the newest change; when the mailbox is full, drop
  // // the oldest first, and count it.
  // dsys::unimplemented("Subscription::put");
  // SOLUTION END
}

std::optional<Leader> Subscription::take() {
  // SOLUTION BEGIN
  if (changes_.empty()) return std::nullopt;
  Leader oldest = changes_.front();
  changes_.pop_front();
  return oldest;
  // SOLUTION STUB
  // // TODO(lab9 part 2): the oldest change waiting (and it is taken), or nullopt.
  // dsys::unimplemented("Subscription::take");
  // SOLUTION END
}

std::size_t Subscription::waiting() const {
  // SOLUTION BEGIN
  return changes_.size();
  // SOLUTION STUB
  // // TODO(lab9 part 2): how many changes wait.
  // dsys::unimplemented("Subscription::waiting");
  // SOLUTION END
}

std::uint64_t Subscription::lost() const {
  // SOLUTION BEGIN
  return lost_;
  // SOLUTION STUB
  // // TODO(lab9 part 2): how many changes were dropped.
  // dsys::unimplemented("Subscription::lost");
  // SOLUTION END
}

LeaderDetector::LeaderDetector(std::vector<NodeId> nodes) : nodes_(std::move(nodes)) {
  // SOLUTION BEGIN
  leader_ = leader();
  // SOLUTION STUB
  // // TODO(lab9 part 2): no one is suspected yet: the leader is the highest id.
  // SOLUTION END
}

void LeaderDetector::suspect(NodeId id) {
  // SOLUTION BEGIN
  if (std::find(nodes_.begin(), nodes_.end(), id) == nodes_.end()) return;
  suspected_.insert(id);
  changed();
  // SOLUTION STUB
  // // TODO(lab9 part 2): `id` is suspected; tell the subscribers if the leader changed.
  // dsys::unimplemented("LeaderDetector::suspect");
  // SOLUTION END
}

void LeaderDetector::restore(NodeId id) {
  // SOLUTION BEGIN
  suspected_.erase(id);
  changed();
  // SOLUTION STUB
  // // TODO(lab9 part 2): `id` is no longer suspected; tell the subscribers if the leader
  // // changed.
  // dsys::unimplemented("LeaderDetector::restore");
  // SOLUTION END
}

Leader LeaderDetector::leader() const {
  // SOLUTION BEGIN
  Leader best;
  for (NodeId id : nodes_) {
    if (!suspected_.contains(id) && (!best || id > *best)) best = id;
  }
  return best;
  // SOLUTION STUB
  // // TODO(lab9 part 2): the highest id not suspected, or nullopt if every node is.
  // dsys::unimplemented("LeaderDetector::leader");
  // SOLUTION END
}

std::shared_ptr<Subscription> LeaderDetector::subscribe() {
  auto subscription = std::make_shared<Subscription>();
  subscribers_.push_back(subscription);
  return subscription;
}

// SOLUTION BEGIN
void LeaderDetector::changed() {
  const Leader now = leader();
  if (now == leader_) return;
  leader_ = now;
  std::erase_if(subscribers_, [](const std::weak_ptr<Subscription>& s) { return s.expired(); });
  for (const auto& weak : subscribers_) {
    if (auto subscription = weak.lock()) subscription->put(now);
  }
}
// SOLUTION END

}  // namespace dsys::lab9
