// lab 10 part 3: the learner (learner.hpp says what each function must do).
#include "learner.hpp"

#include <algorithm>

#include "dsys/core/error.hpp"

namespace dsys::lab10 {

Learner::Learner(std::vector<NodeId> nodes, Slot delivered) : nodes_(std::move(nodes)) {
  // TODO(lab10 part 3): nothing decided yet; slots 1..delivered are delivered.
  (void)delivered;
}

void Learner::learn(const LearnRequest& learn) {
  // TODO(lab10 part 3): count the learn; decide the slot on a majority for one round.
  (void)learn;
  dsys::unimplemented("Learner::learn");
}

void Learner::decided(Slot slot, Value value) {
  // TODO(lab10 part 3): the slot is decided with this value.
  (void)slot;
  (void)value;
  dsys::unimplemented("Learner::decided");
}

std::vector<std::pair<Slot, Value>> Learner::take_deliverable() {
  // TODO(lab10 part 3): the decided slots that follow delivered(), in order, each once.
  dsys::unimplemented("Learner::take_deliverable");
  return {};
}

Slot Learner::delivered() const {
  dsys::unimplemented("Learner::delivered");
  return 0;
}

std::optional<Value> Learner::decided_value(Slot slot) const {
  (void)slot;
  dsys::unimplemented("Learner::decided_value");
  return std::nullopt;
}

Slot Learner::highest_decided() const {
  dsys::unimplemented("Learner::highest_decided");
  return 0;
}

}  // namespace dsys::lab10
