#include "dsys/core/task_group.hpp"

namespace dsys::core {

// The group's tasks are Context roots tagged with the group: the Context alone owns and destroys
// frames, so a task is destroyed once, whether its group or the Context's shutdown goes first.

TaskGroup::~TaskGroup() {
  closing_ = true;  // spawns from the destructors of our tasks' frames are refused
  if (pending_ > 0) ctx_->destroy_roots(this, false);
}

void TaskGroup::spawn(Task<void> task) {
  if (!closing_) ctx_->start(std::move(task), this, false);
}

void TaskGroup::spawn_now(Task<void> task) {
  if (!closing_) ctx_->start(std::move(task), this, true);
}

}  // namespace dsys::core
