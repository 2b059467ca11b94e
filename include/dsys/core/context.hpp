// dsys/core/context.hpp: a node's only door to the world.
//
// Node code (a lock server, a Paxos acceptor, a test's client) is given a Context and reaches
// time, timers, spawning, randomness, messages and durable storage only through it. A world (the
// simulated one in dsys::sim, the real one in dsys::net) implements Host for each node, and the
// same node code runs unchanged in both.
//
// Threading contract: a node is single-threaded. Everything on a Context, and every coroutine it
// spawns, runs on the node's one executor, so node state needs no mutex. Between two co_awaits a
// coroutine runs alone; across a co_await anything may have changed.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "dsys/core/address.hpp"
#include "dsys/core/rng.hpp"
#include "dsys/core/storage.hpp"
#include "dsys/core/task.hpp"
#include "dsys/core/time.hpp"

namespace dsys::core {

using Bytes = std::string;  // an opaque message or a stored value
using WaiterId = std::uint64_t;

// What a node's messages are handed to: the node's RPC endpoint (one per node).
class Receiver {
 public:
  virtual ~Receiver() = default;
  // A message from `from` arrived. Replies go back with Context::send(from, ...).
  virtual void on_message(Address from, Bytes message) = 0;
  // The world could not reach `to` at all (the real world's "connection refused").
  virtual void on_unreachable(Address to) = 0;
};

// Why a suspended coroutine was woken.
enum class WakeCause : std::uint8_t { timer, signal };

// What a world provides to one node (one incarnation of it). Implemented by sim and net.
class Host {
 public:
  virtual ~Host() = default;
  virtual Time now() const = 0;
  // The calendar time, for timestamps people read (a file's mtime): nanoseconds since the Unix
  // epoch. Default (the simulated world): kSimulatedEpoch plus now(), so runs stay reproducible.
  virtual std::int64_t wall_time_ns() const {
    return kSimulatedEpochNs + now().time_since_epoch().count();
  }
  // 2026-01-01T00:00:00Z: when every simulated world's calendar starts.
  static constexpr std::int64_t kSimulatedEpochNs = 1767225600LL * 1000000000LL;
  // Call Context::wake(id, WakeCause::timer) at `when` (or soon after), unless cancelled.
  virtual void arm_timer(Time when, WaiterId id) = 0;
  virtual void cancel_timer(WaiterId id) = 0;
  // Call Context::wake(id, WakeCause::signal) after the current event has finished.
  virtual void post_wake(WaiterId id) = 0;
  virtual void send(Address to, Bytes message) = 0;
  // Close the connection to `peer` (real world) after what is queued for it has been sent.
  virtual void disconnect(Address peer, std::string_view reason) = 0;
  virtual Storage& storage() = 0;
  virtual void log_line(std::string_view text) = 0;
  // A spawned task failed with an exception: the world stops the node (or the run).
  virtual void fail(std::string_view what) = 0;
  // Node code reached the named crash point (see Context::breakpoint). Default: nothing.
  virtual void breakpoint(std::string_view name) {}
};

class Context;
class TaskGroup;

// One suspended coroutine, registered with its Context so that a world can wake it by id.
// It unregisters itself when destroyed, so a destroyed frame is never resumed.
class Waiter {
 public:
  explicit Waiter(Context& ctx) : ctx_(&ctx) {}
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  ~Waiter();

  // Registers and returns the id to wake; `timer_at` also arms a timer for it.
  WaiterId suspend(std::coroutine_handle<> handle);
  WaiterId suspend_until(std::coroutine_handle<> handle, Time timer_at);
  WakeCause cause() const { return cause_; }
  WaiterId id() const { return id_; }  // 0 when not waiting
  Context& context() const { return *ctx_; }

 private:
  friend class Context;
  Context* ctx_;
  std::coroutine_handle<> handle_;
  WaiterId id_ = 0;         // 0 while not registered
  std::uint64_t root_ = 0;  // the spawned task whose frames suspended here (0: none)
  bool timer_armed_ = false;
  WakeCause cause_ = WakeCause::signal;
};

class Context {
 public:
  Context(Host& host, Address self, std::string name, std::uint64_t seed);
  ~Context();  // destroys every task still pending on this node
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // --- who and when
  Address address() const { return self_; }
  const std::string& name() const { return name_; }
  Time now() const { return host_.now(); }
  // Calendar time in ns since the Unix epoch, for timestamps only (file times). Never use it to
  // measure time: it may jump in the real world. Simulated: a fixed date plus now().
  std::int64_t wall_time_ns() const { return host_.wall_time_ns(); }

  // --- waiting: `co_await ctx.sleep_for(10ms);`
  struct SleepAwaiter {
    Waiter waiter;
    Time until;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { waiter.suspend_until(h, until); }
    void await_resume() const noexcept {}
  };
  SleepAwaiter sleep_until(Time t) { return SleepAwaiter{Waiter(*this), t}; }
  SleepAwaiter sleep_for(Duration d) { return sleep_until(now() + d); }

  // --- spawning: run `task` as an independent coroutine on this node. It starts after the
  // current event (spawn) or at once, until its first suspension (spawn_now). An exception that
  // escapes it fails the node (see Host::fail). spawn(f) takes a callable returning Task<void>
  // and keeps it alive as long as the task: use it for lambdas with captures.
  void spawn(Task<void> task);
  void spawn_now(Task<void> task);
  template <class F>
  requires std::is_invocable_r_v<Task<void>, F&> void spawn(F f) {
    spawn(own_and_run(std::move(f)));
  }
  template <class F>
  requires std::is_invocable_r_v<Task<void>, F&> void spawn_now(F f) {
    spawn_now(own_and_run(std::move(f)));
  }
  std::size_t pending_tasks() const { return roots_.size(); }  // TaskGroups' tasks included

  // --- randomness: this node's seeded stream
  Rng& rng() { return rng_; }

  // --- messages (the RPC layer uses these; lab code uses rpc::Endpoint)
  void send(Address to, Bytes message) { host_.send(to, std::move(message)); }
  void disconnect(Address peer, std::string_view reason) { host_.disconnect(peer, reason); }
  void set_receiver(Receiver* r) { receiver_ = r; }
  Receiver* receiver() const { return receiver_; }
  // Makes `r` the node's receiver, owned by this Context and destroyed with it, after the node's
  // tasks and services (the RPC layer keeps the node's one Endpoint here).
  void own_receiver(std::unique_ptr<Receiver> r) {
    owned_receiver_ = std::move(r);
    receiver_ = owned_receiver_.get();
  }

  // --- durable storage
  Storage& storage() { return host_.storage(); }

  // --- crash points: a named point in node code ("paxos:accepted-before-reply") where a test may
  // crash the node. Unless armed it does nothing. Armed, the node crashes right here, as a power
  // loss at this instant: nothing it does after it reaches the network or the disk. Simulated
  // world: World::crash_at_breakpoint; real world: DSYS_BREAKPOINT=name ends the process.
  void breakpoint(std::string_view name) { host_.breakpoint(name); }

  // --- log lines go into the trace (simulated world) or to stderr (real world)
  template <class... A>
  void log(fmt::format_string<A...> format, A&&... args) {
    host_.log_line(fmt::format(format, std::forward<A>(args)...));
  }

  // Destroys every pending task (in spawn order) and refuses new ones: the first step of a crash,
  // before the node's service object is destroyed. A program that stops a real-world node calls
  // it before destroying the objects its tasks use (an Endpoint, a Client declared after the
  // Runtime), so that no task outlives them.
  void shutdown();
  bool stopping() const { return tearing_down_; }  // shutdown() has begun

  // --- for worlds only
  void wake(WaiterId id, WakeCause cause);  // no-op when `id` is no longer waiting
  bool is_waiting(WaiterId id) const { return waiting_.contains(id); }
  void post_wake(WaiterId id) { host_.post_wake(id); }
  void deliver(Address from, Bytes message);
  void report_unreachable(Address to);

 private:
  friend class Waiter;
  friend class TaskGroup;
  // A spawned task. `running` counts its activations on the stack; a task whose group (or whose
  // Context) was torn down while it ran is `orphaned` and destroyed when it next suspends.
  struct Root {
    std::coroutine_handle<> handle;
    TaskGroup* group = nullptr;
    int running = 0;
    bool orphaned = false;
  };
  template <class F>
  static Task<void> own_and_run(F f) {
    co_await f();
  }
  WaiterId add_waiter(Waiter* w);
  void remove_waiter(Waiter* w);
  void start(Task<void> task, TaskGroup* group, bool now);
  void resume_root(std::uint64_t id, std::coroutine_handle<> handle);
  void destroy_roots(TaskGroup* group, bool all);
  std::coroutine_handle<> release_root(std::map<std::uint64_t, Root>::iterator it);
  static void root_done(void* self, std::uint64_t id, std::exception_ptr failure);

  Host& host_;
  Address self_;
  std::string name_;
  Rng rng_;
  Receiver* receiver_ = nullptr;
  std::unordered_map<WaiterId, Waiter*> waiting_;  // looked up only, never iterated
  std::map<std::uint64_t, Root> roots_;            // spawned tasks, by spawn order
  WaiterId next_waiter_ = 1;
  std::uint64_t next_root_ = 1;
  std::uint64_t running_root_ = 0;  // the spawned task running now (0: none)
  bool tearing_down_ = false;
  std::unique_ptr<Receiver> owned_receiver_;  // last: destroyed first, after ~Context's shutdown
};

// An async condition: coroutines wait on it until another notifies. Like a condition variable,
// a wake-up says "look again", so wait in a loop: `while (busy) co_await freed.wait();`.
// Contract: the Notifier must outlive its waiters (make it a member of the service that uses it).
class Notifier {
 public:
  explicit Notifier(Context& ctx) : ctx_(&ctx) {}

  // A notification is given to one waiting coroutine, which then consumes it: it reports true
  // even if its deadline timer, due at the same instant, wakes it first; and if its frame is
  // destroyed before it wakes (a cancelled task), it hands the notification to the next waiter.
  struct WaitAwaiter {
    Notifier* notifier;
    Waiter waiter;
    std::optional<Time> deadline;
    bool notified = false;
    ~WaitAwaiter();
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      WaiterId id = deadline ? waiter.suspend_until(h, *deadline) : waiter.suspend(h);
      notifier->add(id, this);
    }
    // true when notified, false when the deadline passed first
    bool await_resume() const noexcept { return notified; }
  };
  // Wait until notified.
  WaitAwaiter wait() { return WaitAwaiter{this, Waiter(*ctx_), std::nullopt}; }
  // Wait until notified (true) or until `deadline` (false).
  WaitAwaiter wait_until(Time deadline) { return WaitAwaiter{this, Waiter(*ctx_), deadline}; }

  // Wake the longest waiting coroutine, or every one. The woken run after the current event.
  void notify_one();
  void notify_all();
  std::size_t waiters() const { return waiting_.size(); }

 private:
  struct Entry {
    WaiterId id;
    WaitAwaiter* awaiter;  // valid while `id` is waiting
  };
  void add(WaiterId id, WaitAwaiter* awaiter);
  Context* ctx_;
  std::deque<Entry> waiting_;  // may hold ids that have since stopped waiting
};

// What builds a node's service object on its Context: at start, and in the simulated world at
// every restart. Both worlds build a node from one (sim::World::add_node, net::Runtime), and both
// tear it down in the same order: the node's tasks, then the service object, then the Context.
using NodeFactory = std::function<std::shared_ptr<void>(Context&)>;

// A NodeFactory that makes `T(ctx, args...)` (the arguments are copied into the factory).
template <class T, class... A>
NodeFactory make_node(A... args) {
  return [... args = std::move(args)](Context& ctx) {
    return std::static_pointer_cast<void>(std::make_shared<T>(ctx, args...));
  };
}

}  // namespace dsys::core
