#include "dsys/core/context.hpp"

#include <cctype>
#include <exception>
#include <vector>

#include "dsys/core/error.hpp"
#include "dsys/core/task_group.hpp"

namespace dsys::core {

std::string format_time(Time t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch());
  return fmt::format("{}.{:06}s", us.count() / 1000000, us.count() % 1000000);
}

bool Storage::valid_key(std::string_view key) {
  if (key.empty() || key.size() > 200 || key == "." || key == "..") return false;
  for (char c : key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- Waiter

Waiter::~Waiter() {
  if (id_ != 0) ctx_->remove_waiter(this);
}

WaiterId Waiter::suspend(std::coroutine_handle<> handle) {
  handle_ = handle;
  root_ = ctx_->running_root_;
  return ctx_->add_waiter(this);
}

WaiterId Waiter::suspend_until(std::coroutine_handle<> handle, Time timer_at) {
  WaiterId id = suspend(handle);
  timer_armed_ = true;
  ctx_->host_.arm_timer(timer_at, id);
  return id;
}

// ---------------------------------------------------------------- Context

Context::Context(Host& host, Address self, std::string name, std::uint64_t seed)
    : host_(host), self_(self), name_(std::move(name)), rng_(seed) {}

Context::~Context() {
  shutdown();
}

void Context::shutdown() {
  // A frame's destruction unregisters its waiters; spawns from destructors are ignored.
  tearing_down_ = true;
  destroy_roots(nullptr, true);
}

// Destroys the spawned tasks of `group` (or all of them), in spawn order. A task that is running
// (it, or a task it started, is tearing down) cannot be destroyed now: it is orphaned, and
// resume_root() destroys it as soon as it suspends or finishes.
void Context::destroy_roots(TaskGroup* group, bool all) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, root] : roots_) {
    if (all || root.group == group) ids.push_back(id);
  }
  for (std::uint64_t id : ids) {
    auto it = roots_.find(id);  // destructors of earlier frames may have removed it
    if (it == roots_.end() || (!all && it->second.group != group)) continue;
    if (it->second.running > 0) {
      if (it->second.group != nullptr) --it->second.group->pending_;
      it->second.group = nullptr;
      it->second.orphaned = true;
      continue;
    }
    release_root(it).destroy();
  }
}

std::coroutine_handle<> Context::release_root(std::map<std::uint64_t, Root>::iterator it) {
  std::coroutine_handle<> handle = it->second.handle;
  if (it->second.group != nullptr) --it->second.group->pending_;
  roots_.erase(it);
  return handle;
}

// Runs one activation of spawned task `id` (its frame `handle`, or one it awaits) until it
// suspends or finishes, then destroys it if it was orphaned meanwhile.
void Context::resume_root(std::uint64_t id, std::coroutine_handle<> handle) {
  auto it = roots_.find(id);
  if (it == roots_.end()) {
    handle.resume();
    return;
  }
  ++it->second.running;
  const std::uint64_t outer = std::exchange(running_root_, id);
  handle.resume();
  running_root_ = outer;
  it = roots_.find(id);  // gone if it finished
  if (it == roots_.end()) return;
  if (--it->second.running == 0 && it->second.orphaned) release_root(it).destroy();
}

WaiterId Context::add_waiter(Waiter* w) {
  w->id_ = next_waiter_++;
  waiting_.emplace(w->id_, w);
  return w->id_;
}

void Context::remove_waiter(Waiter* w) {
  waiting_.erase(w->id_);
  if (w->timer_armed_) host_.cancel_timer(w->id_);
  w->id_ = 0;
  w->timer_armed_ = false;
}

void Context::wake(WaiterId id, WakeCause cause) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return;
  Waiter* w = it->second;
  waiting_.erase(it);
  if (w->timer_armed_ && cause != WakeCause::timer) host_.cancel_timer(id);
  w->id_ = 0;
  w->timer_armed_ = false;
  w->cause_ = cause;
  resume_root(w->root_, w->handle_);
}

// (`failure` by value: the promise that holds it is destroyed in here)
void Context::root_done(
    void* self, std::uint64_t id,
    std::exception_ptr failure) {  // NOLINT(performance-unnecessary-value-param)
  auto* ctx = static_cast<Context*>(self);
  ctx->release_root(ctx->roots_.find(id)).destroy();
  if (failure) {
    std::string what;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      what = "unknown exception";
    }
    ctx->host_.fail(what);
  }
}

namespace {
// A task spawned for later starts when this one-shot waiter is woken by the world.
Task<void> start_later(Context& ctx, Task<void> task) {
  struct Yield {
    Waiter waiter;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { waiter.context().post_wake(waiter.suspend(h)); }
    void await_resume() const noexcept {}
  };
  co_await Yield{Waiter(ctx)};
  co_await std::move(task);
}
}  // namespace

void Context::spawn(Task<void> task) {
  start(std::move(task), nullptr, false);
}

void Context::spawn_now(Task<void> task) {
  start(std::move(task), nullptr, true);
}

void Context::start(Task<void> task, TaskGroup* group, bool now) {
  if (tearing_down_ || !task.valid()) return;
  if (!now) task = start_later(*this, std::move(task));
  auto handle = task.release();
  const std::uint64_t id = next_root_++;
  handle.promise().make_root(&Context::root_done, this, id);
  roots_.emplace(id, Root{handle, group});
  if (group != nullptr) ++group->pending_;
  resume_root(id, handle);
}

void Context::deliver(Address from, Bytes message) {
  if (receiver_ != nullptr) receiver_->on_message(from, std::move(message));
}

void Context::report_unreachable(Address to) {
  if (receiver_ != nullptr) receiver_->on_unreachable(to);
}

// ---------------------------------------------------------------- Notifier

Notifier::WaitAwaiter::~WaitAwaiter() {
  // Notified, but destroyed before it could wake (its task was cancelled): pass it on, so that
  // the notification is not lost. Not while the node is being torn down: everyone goes then.
  if (notified && waiter.id() != 0 && !waiter.context().stopping()) notifier->notify_one();
}

void Notifier::add(WaiterId id, WaitAwaiter* awaiter) {
  // Ids of waiters that timed out or were destroyed are dropped here, so the queue stays as
  // long as the number of coroutines really waiting (plus those behind them).
  while (!waiting_.empty() && !ctx_->is_waiting(waiting_.front().id)) waiting_.pop_front();
  waiting_.push_back({id, awaiter});
}

// The chosen waiter is marked notified at once, so a timer of its own that is due at the same
// instant and runs before the posted wake cannot turn the notification into a timeout.
void Notifier::notify_one() {
  while (!waiting_.empty()) {
    Entry e = waiting_.front();
    waiting_.pop_front();
    if (ctx_->is_waiting(e.id)) {
      e.awaiter->notified = true;
      ctx_->post_wake(e.id);
      return;
    }
  }
}

void Notifier::notify_all() {
  std::deque<Entry> entries;
  entries.swap(waiting_);
  for (Entry e : entries) {
    if (ctx_->is_waiting(e.id)) {
      e.awaiter->notified = true;
      ctx_->post_wake(e.id);
    }
  }
}

}  // namespace dsys::core
