#include "dsys/core/context.hpp"

#include <cctype>
#include <exception>
#include <vector>

#include "dsys/core/error.hpp"

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
  while (!roots_.empty()) {
    auto handle = roots_.begin()->second;
    roots_.erase(roots_.begin());
    handle.destroy();
  }
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
  w->handle_.resume();
}

std::uint64_t Context::adopt(Task<void> task) {
  auto handle = task.release();
  const std::uint64_t id = next_root_++;
  handle.promise().make_root(&Context::root_done, this, id);
  roots_.emplace(id, handle);
  return id;
}

void Context::root_done(void* self, std::uint64_t id, std::exception_ptr failure) {
  auto* ctx = static_cast<Context*>(self);
  auto it = ctx->roots_.find(id);
  std::coroutine_handle<> handle = it->second;
  ctx->roots_.erase(it);
  handle.destroy();
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
  if (tearing_down_ || !task.valid()) return;
  spawn_now(start_later(*this, std::move(task)));
}

void Context::spawn_now(Task<void> task) {
  if (tearing_down_ || !task.valid()) return;
  const std::uint64_t id = adopt(std::move(task));
  roots_.at(id).resume();
}

void Context::deliver(Address from, Bytes message) {
  if (receiver_ != nullptr) receiver_->on_message(from, std::move(message));
}

void Context::report_unreachable(Address to) {
  if (receiver_ != nullptr) receiver_->on_unreachable(to);
}

// ---------------------------------------------------------------- Notifier

void Notifier::add(WaiterId id) {
  // Ids of waiters that timed out or were destroyed are dropped here, so the queue stays as
  // long as the number of coroutines really waiting (plus those behind them).
  while (!waiting_.empty() && !ctx_->is_waiting(waiting_.front())) waiting_.pop_front();
  waiting_.push_back(id);
}

void Notifier::notify_one() {
  while (!waiting_.empty()) {
    WaiterId id = waiting_.front();
    waiting_.pop_front();
    if (ctx_->is_waiting(id)) {
      ctx_->post_wake(id);
      return;
    }
  }
}

void Notifier::notify_all() {
  std::deque<WaiterId> ids;
  ids.swap(waiting_);
  for (WaiterId id : ids) {
    if (ctx_->is_waiting(id)) ctx_->post_wake(id);
  }
}

}  // namespace dsys::core
