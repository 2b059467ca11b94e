// lab 10 part 3: the learner (learner.hpp says what each function must do).
#include "learner.hpp"

#include <algorithm>

#include "dsys/core/error.hpp"

namespace dsys::lab10 {

Learner::Learner(std::vector<NodeId> nodes, Slot delivered) : nodes_(std::move(nodes)) {
  // SOLUTION BEGIN
  delivered_ = delivered;
  // SOLUTION STUB
  // // TODO(lab10 part 3): nothing decided yet; slots 1..delivered are delivered.
  // (void)delivered;
  // SOLUTION END
}

void Learner::learn(const LearnRequest& learn) {
  // SOLUTION BEGIN
  if (!is_node(learn.from) || learn.slot <= delivered_ || decided_.contains(learn.slot)) return;
  auto& [value, senders] = votes_[learn.slot].rounds[learn.round];
  if (senders.empty()) value = learn.value;
  senders.insert(learn.from);
  if (senders.size() * 2 > nodes_.size()) {
    decided_.emplace(learn.slot, std::move(value));
    votes_.erase(learn.slot);
  }
  // SOLUTION STUB
  // // TODO(lab10 part 3): count the learn; decide the slot on a majority for one round.
  // (void)learn;
  // dsys::unimplemented("Learner::learn");
  // SOLUTION END
}

void Learner::decided(Slot slot, Value value) {
  // SOLUTION BEGIN
  if (slot <= delivered_ || decided_.contains(slot)) return;
  decided_.emplace(slot, std::move(value));
  votes_.erase(slot);
  // SOLUTION STUB
  // // TODO(lab10 part 3): the slot is decided with this value.
  // (void)slot;
  // (void)value;
  // dsys::unimplemented("Learner::decided");
  // SOLUTION END
}

std::vector<std::pair<Slot, Value>> Learner::take_deliverable() {
  // SOLUTION BEGIN
  std::vector<std::pair<Slot, Value>> out;
  for (auto it = decided_.begin(); it != decided_.end() && it->first == delivered_ + 1;
       it = decided_.erase(it)) {
    ++delivered_;
    out.emplace_back(it->first, std::move(it->second));
  }
  return out;
  // SOLUTION STUB
  // // TODO(lab10 part 3): the decided slots that follow delivered(), in order, each once.
  // dsys::unimplemented("Learner::take_deliverable");
  // return {};
  // SOLUTION END
}

Slot Learner::delivered() const {
  // SOLUTION BEGIN
  return delivered_;
  // SOLUTION STUB
  // dsys::unimplemented("Learner::delivered");
  // return 0;
  // SOLUTION END
}

std::optional<Value> Learner::decided_value(Slot slot) const {
  // SOLUTION BEGIN
  auto it = decided_.find(slot);
  if (it == decided_.end()) return std::nullopt;
  return it->second;
  // SOLUTION STUB
  // (void)slot;
  // dsys::unimplemented("Learner::decided_value");
  // return std::nullopt;
  // SOLUTION END
}

Slot Learner::highest_decided() const {
  // SOLUTION BEGIN
  return decided_.empty() ? delivered_ : std::max(delivered_, decided_.rbegin()->first);
  // SOLUTION STUB
  // dsys::unimplemented("Learner::highest_decided");
  // return 0;
  // SOLUTION END
}

// SOLUTION BEGIN
bool Learner::is_node(NodeId id) const {
  return std::find(nodes_.begin(), nodes_.end(), id) != nodes_.end();
}
// SOLUTION END

}  // namespace dsys::lab10
