// dsys/core/task_group.hpp: tasks owned by the object that spawns them.
//
// A service that spawns background work (a Paxos proposer's rounds, a lock client's revoke
// handler) must not let that work outlive the members it uses. Context::spawn ties a task's life
// to the node; a TaskGroup ties it to the service object:
//
//   class Acceptor {
//     ...
//     core::Notifier changed_;
//     core::TaskGroup tasks_;  // LAST: destroyed first, before the members its tasks use
//   };
//   tasks_.spawn([this]() -> core::Task<void> { co_await changed_.wait(); ... });
//
// Threading contract: a group belongs to one node; use it only on that node's executor.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "dsys/core/context.hpp"
#include "dsys/core/task.hpp"

namespace dsys::core {

// A set of tasks running on one Context and owned by this object.
// - spawn/spawn_now start a task exactly as Context::spawn/spawn_now do (after the current event,
//   or at once until its first suspension); an exception escaping it fails the node (Host::fail).
//   Finished tasks leave the group at once.
// - Destroying the group destroys its pending tasks, in spawn order, with their frames, timers and
//   waiters (so none of them ever resumes). Declare the group as the LAST member of its owner.
// - Context::shutdown() (a crash, or a program stopping) destroys the group's tasks with all the
//   node's others, in spawn order; the group then stays empty and refuses new tasks, and may
//   be destroyed later (even after its Context: it touches the Context only while tasks pend).
// - A task of the group that destroys its own group (directly, or by destroying its owner) is not
//   destroyed under its own feet: it leaves the group, runs on until its next co_await or its end,
//   and is destroyed then, without resuming. Until then it must not touch what it destroyed.
//   The group's other tasks are destroyed at once.
// The Context must outlive the group's pending tasks (it always does: a node's Context is
// destroyed last).
class TaskGroup {
 public:
  explicit TaskGroup(Context& ctx) : ctx_(&ctx) {}
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup();

  void spawn(Task<void> task);
  void spawn_now(Task<void> task);
  // Takes a callable returning Task<void> and keeps it alive as long as the task (for lambdas
  // with captures).
  template <class F>
  requires std::is_invocable_r_v<Task<void>, F&> void spawn(F f) {
    spawn(own_and_run(std::move(f)));
  }
  template <class F>
  requires std::is_invocable_r_v<Task<void>, F&> void spawn_now(F f) {
    spawn_now(own_and_run(std::move(f)));
  }

  std::size_t pending() const { return pending_; }  // spawned and not finished nor destroyed
  Context& context() const { return *ctx_; }

 private:
  friend class Context;
  template <class F>
  static Task<void> own_and_run(F f) {
    co_await f();
  }
  Context* ctx_;
  std::size_t pending_ = 0;  // kept by the Context
  bool closing_ = false;     // being destroyed: refuses new tasks
};

}  // namespace dsys::core
