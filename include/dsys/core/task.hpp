// dsys/core/task.hpp: Task<T>, the coroutine type of all node code.
//
// A Task is lazy: it starts when it is awaited (`co_await task`) or spawned on a Context
// (`ctx.spawn(task)`). Awaiting one runs it on the awaiting coroutine's node and hands back its
// value or rethrows its exception. Destroying a Task destroys its frame and, through the frame's
// locals, everything it was awaiting: this is how a crash tears down a node's pending work.
// See docs/architecture.md ("Why our own Task and not asio::awaitable").
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <utility>

namespace dsys::core {

template <class T = void>
class Task;

namespace detail {

// Called when a spawned (root) task finishes; `owner` is the Context that spawned it.
using RootDoneFn = void (*)(void* owner, std::uint64_t id, std::exception_ptr failure);

class PromiseBase {
 public:
  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> self) noexcept {
      PromiseBase& p = self.promise();
      if (p.continuation_) return p.continuation_;
      if (p.root_done_) p.root_done_(p.root_owner_, p.root_id_, p.failure_);  // destroys self
      return std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { failure_ = std::current_exception(); }

  void set_continuation(std::coroutine_handle<> c) { continuation_ = c; }
  void make_root(RootDoneFn fn, void* owner, std::uint64_t id) {
    root_done_ = fn;
    root_owner_ = owner;
    root_id_ = id;
  }

 protected:
  void rethrow_if_failed() {
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  std::coroutine_handle<> continuation_;
  std::exception_ptr failure_;
  RootDoneFn root_done_ = nullptr;
  void* root_owner_ = nullptr;
  std::uint64_t root_id_ = 0;
};

template <class T>
class Promise : public PromiseBase {
 public:
  Task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& value) {
    value_.emplace(std::forward<U>(value));
  }
  T take() {
    rethrow_if_failed();
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class Promise<void> : public PromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() { rethrow_if_failed(); }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) : handle_(h) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  bool valid() const { return static_cast<bool>(handle_); }

  auto operator co_await() && noexcept {
    struct Awaiter {
      Handle handle;
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
        handle.promise().set_continuation(caller);
        return handle;
      }
      T await_resume() { return handle.promise().take(); }
    };
    return Awaiter{handle_};
  }

  // For the runtime: give up ownership of the frame (a root task owns itself via its Context).
  Handle release() { return std::exchange(handle_, {}); }

 private:
  void reset() {
    if (handle_) std::exchange(handle_, {}).destroy();
  }
  Handle handle_;
};

namespace detail {
template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace dsys::core
