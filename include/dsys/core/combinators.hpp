// dsys/core/combinators.hpp: waiting for several tasks at once, for a quorum, or for a deadline.
//
//   std::vector<core::Task<Promise>> calls;
//   for (auto& peer : peers) calls.push_back(prepare(peer, n));
//   core::Quorum<Promise> q = co_await core::first_k(ctx, std::move(calls), majority,
//                                                    [](const Promise& p) { return p.ok; });
//   if (!q.reached) ...                // too many refused: no majority is possible any more
//
// Common contract of every combinator here:
// - It is a lazy Task like any other: the children start when it is awaited, in input order,
//   each at once until its first suspension; then they run concurrently on the same node.
// - A child that finishes never resumes the awaiting parent itself: it posts a wake
//   (Context::post_wake), and the parent looks at what has finished in a later event.
// - Children still running when the parent has its answer are cancelled: their frames are
//   destroyed (in input order) with their locals, timers and waiters, so they never resume.
//   Children that finish after the answer was decided, but before the parent ran, are ignored.
// - An exception escaping a child (node code's bug: RPC failures are values, not exceptions)
//   cancels the other children and is rethrown to the parent.
// - Destroying the parent (a crash while it waits) destroys its children.
// - Across the co_await, anything on the node may have changed.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "dsys/core/context.hpp"
#include "dsys/core/task.hpp"
#include "dsys/core/time.hpp"

namespace dsys::core {

// What first_k saw.
template <class T>
struct Quorum {
  Quorum() = default;    // a constructor: not an aggregate (the g++ 12 co_await pitfall)
  bool reached = false;  // k results satisfied `ok`
  std::vector<std::size_t>
      indices;               // the children whose results satisfied `ok`, in finishing order
  std::vector<T> values;     // their results, in the same order (k of them when reached)
  std::size_t failures = 0;  // children whose result did not satisfy `ok`
};

namespace detail {

struct Unit {};
template <class T>
using Stored = std::conditional_t<std::is_void_v<T>, Unit, T>;

// The children of one combinator, owned by the combinator's frame.
template <class T>
class Join {
 public:
  struct Outcome {
    std::optional<Stored<T>> value;
    std::exception_ptr error;
  };

  Join(Context& ctx, std::size_t n) : ctx_(ctx), outcomes_(n), children_(n) {}
  Join(const Join&) = delete;
  Join& operator=(const Join&) = delete;
  ~Join() { cancel(); }

  // Starts child `i` now; it runs until its first suspension.
  void start(std::size_t i, Task<T> task) {
    std::coroutine_handle<> handle = run(std::move(task), i).release();
    children_[i] = handle;
    handle.resume();
  }
  // Destroys every child frame (finished or not), in input order.
  void cancel() {
    for (auto& child : children_) {
      if (child) std::exchange(child, {}).destroy();
    }
  }

  std::size_t finished() const { return finished_.size(); }
  std::exception_ptr failure() const { return failure_; }  // the first, in finishing order
  Outcome& outcome(std::size_t i) { return outcomes_[i]; }
  // The next child to have finished that the parent has not looked at yet.
  std::optional<std::size_t> next() {
    if (seen_ == finished_.size()) return std::nullopt;
    return finished_[seen_++];
  }

  // Suspends the parent until a child finishes (at once if one has since it last parked), or
  // until `deadline`.
  struct Park {
    Join* join;
    Waiter waiter;
    std::optional<Time> deadline;
    bool await_ready() const noexcept { return join->noticed_ < join->finished_.size(); }
    void await_suspend(std::coroutine_handle<> h) {
      join->parent_ = deadline ? waiter.suspend_until(h, *deadline) : waiter.suspend(h);
    }
    void await_resume() const noexcept { join->noticed_ = join->finished_.size(); }
  };
  Park park(std::optional<Time> deadline = std::nullopt) {
    return Park{this, Waiter(ctx_), deadline};
  }

 private:
  Task<void> run(Task<T> task, std::size_t i) {
    try {
      if constexpr (std::is_void_v<T>) {
        co_await std::move(task);
        outcomes_[i].value.emplace();
      } else {
        outcomes_[i].value.emplace(co_await std::move(task));
      }
    } catch (...) {
      outcomes_[i].error = std::current_exception();
      if (!failure_) failure_ = outcomes_[i].error;
    }
    finished_.push_back(i);
    // Wake the parent by a posted event, never by resuming it inside this child's event.
    if (parent_ != 0 && ctx_.is_waiting(parent_)) ctx_.post_wake(std::exchange(parent_, 0));
  }

  Context& ctx_;
  std::vector<Outcome> outcomes_;
  std::vector<std::size_t> finished_;  // child indices, in finishing order
  std::size_t seen_ = 0;               // how many of finished_ next() has handed out
  std::size_t noticed_ = 0;            // how many had finished when the parent last parked
  std::exception_ptr failure_;
  WaiterId parent_ = 0;
  std::vector<std::coroutine_handle<>> children_;  // last: destroyed before what they use
};

}  // namespace detail

// Runs every task concurrently and returns their results in input order, once all have finished.
template <class T>
requires(!std::is_void_v<T>) Task<std::vector<T>> when_all(Context& ctx,
                                                           std::vector<Task<T>> tasks) {
  const std::size_t n = tasks.size();
  detail::Join<T> join(ctx, n);
  for (std::size_t i = 0; i < n && !join.failure(); ++i) join.start(i, std::move(tasks[i]));
  while (!join.failure() && join.finished() < n) co_await join.park();
  if (join.failure()) {
    join.cancel();
    std::rethrow_exception(join.failure());
  }
  std::vector<T> results;
  results.reserve(n);
  for (std::size_t i = 0; i < n; ++i) results.push_back(std::move(*join.outcome(i).value));
  co_return std::move(results);
}

// The same for tasks without a result: returns once all have finished.
inline Task<void> when_all(Context& ctx, std::vector<Task<void>> tasks) {
  const std::size_t n = tasks.size();
  detail::Join<void> join(ctx, n);
  for (std::size_t i = 0; i < n && !join.failure(); ++i) join.start(i, std::move(tasks[i]));
  while (!join.failure() && join.finished() < n) co_await join.park();
  if (join.failure()) {
    join.cancel();
    std::rethrow_exception(join.failure());
  }
}

// Runs every task concurrently until k of their results satisfy `ok` (a quorum: reached), or
// until that has become impossible (more than n - k results did not: not reached), and cancels
// the rest. Results are taken in the order the children finished; exactly k when reached.
// k == 0 is reached at once and k > n is impossible at once: no child runs.
// `ok` is called as ok(const T&) on the node's executor; it must not co_await.
template <class T, class Ok>
requires std::is_invocable_r_v<bool, Ok&, const T&> Task<Quorum<T>> first_k(
    Context& ctx, std::vector<Task<T>> tasks, std::size_t k, Ok ok) {
  const std::size_t n = tasks.size();
  Quorum<T> quorum;
  detail::Join<T> join(ctx, n);
  auto decided = [&] { return k > n || quorum.values.size() >= k || quorum.failures > n - k; };
  // Looks at what has finished, in finishing order, until decided.
  auto look = [&] {
    while (!decided()) {
      std::optional<std::size_t> i = join.next();
      if (!i) return;
      auto& outcome = join.outcome(*i);
      if (outcome.error) {
        join.cancel();
        std::rethrow_exception(outcome.error);
      }
      if (ok(std::as_const(*outcome.value))) {
        quorum.indices.push_back(*i);
        quorum.values.push_back(std::move(*outcome.value));
      } else {
        ++quorum.failures;
      }
    }
  };
  for (std::size_t i = 0; i < n && !decided(); ++i) {
    join.start(i, std::move(tasks[i]));
    look();
  }
  while (!decided()) {
    co_await join.park();
    look();
  }
  join.cancel();
  quorum.reached = k <= n && quorum.values.size() >= k;
  co_return std::move(quorum);
}

// The same, where every result counts as a success.
template <class T>
Task<Quorum<T>> first_k(Context& ctx, std::vector<Task<T>> tasks, std::size_t k) {
  return first_k(ctx, std::move(tasks), k, [](const T&) { return true; });
}

// Runs `task` until it finishes or `deadline` passes, whichever comes first: its result, or
// nullopt with the task cancelled. A task that finishes at the deadline's very instant may be
// either (the order of same-time events is the scheduler's).
template <class T>
requires(!std::is_void_v<T>) Task<std::optional<T>> with_deadline(Context& ctx, Task<T> task,
                                                                  Time deadline) {
  detail::Join<T> join(ctx, 1);
  join.start(0, std::move(task));
  if (join.finished() == 0) co_await join.park(deadline);
  if (join.finished() == 0) {
    join.cancel();
    co_return std::nullopt;
  }
  if (join.failure()) std::rethrow_exception(join.failure());
  co_return std::optional<T>(std::move(*join.outcome(0).value));
}

// The same for a task without a result: true if it finished in time.
inline Task<bool> with_deadline(Context& ctx, Task<void> task, Time deadline) {
  detail::Join<void> join(ctx, 1);
  join.start(0, std::move(task));
  if (join.finished() == 0) co_await join.park(deadline);
  if (join.finished() == 0) {
    join.cancel();
    co_return false;
  }
  if (join.failure()) std::rethrow_exception(join.failure());
  co_return true;
}

// The same, with a deadline `timeout` after the moment it is awaited.
template <class T>
requires(!std::is_void_v<T>) Task<std::optional<T>> with_deadline(Context& ctx, Task<T> task,
                                                                  Duration timeout) {
  co_return co_await with_deadline(ctx, std::move(task), ctx.now() + timeout);
}
inline Task<bool> with_deadline(Context& ctx, Task<void> task, Duration timeout) {
  co_return co_await with_deadline(ctx, std::move(task), ctx.now() + timeout);
}

}  // namespace dsys::core
