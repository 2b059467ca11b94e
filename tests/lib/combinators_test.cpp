// TaskGroup (tasks owned by a service) and the combinators (when_all, first_k, with_deadline),
// in the simulated world.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dsys/core/combinators.hpp"
#include "dsys/core/task_group.hpp"
#include "dsys/sim/world.hpp"

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Duration;
using dsys::core::Task;
using dsys::core::TaskGroup;

namespace {

// What a test's coroutines did: how many started and finished, how many locals are alive.
struct Probe {
  int started = 0;
  int finished = 0;
  int live = 0;
  std::vector<std::string> log;
};

// A local that says when it is destroyed.
struct Alive {
  Probe& probe;
  std::string name;
  Alive(Probe& p, std::string n) : probe(p), name(std::move(n)) { ++probe.live; }
  Alive(const Alive&) = delete;
  ~Alive() {
    --probe.live;
    probe.log.push_back("destroyed " + name);
  }
};

// Sleeps `d`, then returns `value`.
Task<int> sleeper(Context& ctx, Probe& probe, Duration d, int value) {
  Alive alive(probe, "child " + std::to_string(value));
  ++probe.started;
  co_await ctx.sleep_for(d);
  ++probe.finished;
  co_return value;
}

Task<int> thrower(Context& ctx, Duration d) {
  co_await ctx.sleep_for(d);
  throw std::runtime_error("child failed");
}

// A service that owns its background tasks: the group is its LAST member.
struct Service {
  explicit Service(Context& ctx, Probe& p) : probe(p), tasks(ctx) {}
  ~Service() {
    probe.log.push_back("service destroyed, tasks pending: " + std::to_string(tasks.pending()));
  }
  Probe& probe;
  std::string name = "svc";  // used by its tasks' locals as they are destroyed
  TaskGroup tasks;

  Task<void> background(int label) {
    // Reads a member when destroyed: ASan reports it if the member died first.
    struct UsesMember {
      Service& s;
      int label;
      ~UsesMember() {
        s.probe.log.push_back(s.name + " task " + std::to_string(label) + " destroyed");
      }
    } guard{*this, label};
    co_await tasks.context().sleep_for(1h);
    probe.log.push_back("background resumed");
  }
};

}  // namespace

// ---------------------------------------------------------------- TaskGroup

TEST_CASE("a TaskGroup runs its tasks like Context::spawn and destroys the pending ones with it",
          "[core]") {
  dsys::sim::World world({.seed = 11});
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  Probe probe;
  auto service = std::make_unique<Service>(ctx, probe);
  service->tasks.spawn(service->background(1));
  CHECK(service->tasks.pending() == 1);
  // spawn starts after the current event; spawn_now at once.
  bool quick_ran = false;
  service->tasks.spawn_now([&]() -> Task<void> {
    quick_ran = true;
    co_return;
  });
  CHECK(quick_ran);
  CHECK(service->tasks.pending() == 1);  // the quick one finished and left the group
  service->tasks.spawn(service->background(2));
  service->tasks.spawn(service->background(3));
  world.run_for(10ms);
  REQUIRE(service->tasks.pending() == 3);
  REQUIRE(ctx.pending_tasks() == 3);

  service.reset();
  // The group (last member) went first, its tasks in spawn order, while `name` was alive.
  CHECK(probe.log == std::vector<std::string>{"service destroyed, tasks pending: 3",
                                              "svc task 1 destroyed", "svc task 2 destroyed",
                                              "svc task 3 destroyed"});
  CHECK(ctx.pending_tasks() == 0);
  world.run_for(2h);  // their timers are stale now
  CHECK(probe.log.size() == 4);
}

TEST_CASE("a crash destroys a TaskGroup's tasks first, then the service that owns the group",
          "[core]") {
  Probe probe;  // outlives the world, whose destructor destroys the restarted service
  dsys::sim::World world({.seed = 12});
  auto node = world.add_node("n", [&](Context& ctx) {
    auto s = std::make_shared<Service>(ctx, probe);
    s->tasks.spawn(s->background(1));
    s->tasks.spawn(s->background(2));
    return std::static_pointer_cast<void>(s);
  });
  world.context(node).spawn([&]() -> Task<void> {
    Alive alive(probe, "context task");
    co_await world.context(node).sleep_for(1h);
  });
  world.run_for(10ms);
  REQUIRE(world.service<Service>(node).tasks.pending() == 2);
  world.crash(node);
  // Tasks in spawn order (the group's and the Context's alike), then the service, whose group
  // is empty by then and is destroyed without touching anything.
  CHECK(probe.log == std::vector<std::string>{"svc task 1 destroyed", "svc task 2 destroyed",
                                              "destroyed context task",
                                              "service destroyed, tasks pending: 0"});
  CHECK(probe.live == 0);
  world.restart(node);
  CHECK(world.service<Service>(node).tasks.pending() == 2);
}

TEST_CASE("an exception escaping a TaskGroup's task fails the node", "[core]") {
  dsys::sim::World world({.seed = 13});
  auto node = world.add_node("n");
  TaskGroup group(world.context(node));
  group.spawn([&]() -> Task<void> { (void)co_await thrower(world.context(node), 1ms); });
  CHECK_THROWS_WITH(world.run_until_idle(1s), Catch::Contains("child failed"));
}

TEST_CASE(
    "a TaskGroup's task that destroys its own group runs on to its next co_await, and is "
    "destroyed there without resuming",
    "[core]") {
  dsys::sim::World world({.seed = 14});
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  Probe probe;
  auto group = std::make_unique<TaskGroup>(ctx);
  group->spawn([&]() -> Task<void> {
    Alive alive(probe, "sleeper");
    co_await ctx.sleep_for(1h);
    probe.log.push_back("sleeper resumed");
  });
  group->spawn([&]() -> Task<void> {
    Alive alive(probe, "destroyer");
    co_await ctx.sleep_for(1ms);
    group.reset();
    probe.log.push_back("destroyer goes on");
    co_await ctx.sleep_for(1ms);
    probe.log.push_back("destroyer resumed");
  });
  world.run_until_idle(2h);
  CHECK(probe.log ==
        std::vector<std::string>{"destroyed sleeper", "destroyer goes on", "destroyed destroyer"});
  CHECK(probe.live == 0);
  CHECK(ctx.pending_tasks() == 0);
}

TEST_CASE("a notified waiter whose task is destroyed before it wakes passes the notification on",
          "[core]") {
  dsys::sim::World world({.seed = 15});
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  dsys::core::Notifier ready(ctx);
  auto group = std::make_unique<TaskGroup>(ctx);
  std::vector<std::string> log;
  group->spawn([&]() -> Task<void> {
    co_await ready.wait();
    log.push_back("first woke");
  });
  ctx.spawn([&]() -> Task<void> {
    co_await ready.wait();
    log.push_back("second woke");
  });
  ctx.spawn([&]() -> Task<void> {
    co_await ctx.sleep_for(1ms);
    ready.notify_one();  // goes to the first waiter...
    group.reset();       // ...whose task is destroyed before its wake-up runs
  });
  world.run_until_idle(1s);
  CHECK(log == std::vector<std::string>{"second woke"});
}

// ---------------------------------------------------------------- when_all

TEST_CASE("when_all runs its tasks concurrently and returns their results in input order",
          "[core]") {
  dsys::sim::World world({.seed = 21, .max_wake_delay = 0ms});  // exact times
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  Probe probe;
  std::optional<std::vector<int>> results;
  std::uint64_t last_child_event = 0;
  std::uint64_t parent_event = 0;
  auto child = [&](Duration d, int value) -> Task<int> {
    co_await ctx.sleep_for(d);
    last_child_event = world.events_run();
    co_return value;
  };
  ctx.spawn([&]() -> Task<void> {
    std::vector<Task<int>> tasks;
    tasks.push_back(child(30ms, 1));
    tasks.push_back(child(10ms, 2));
    tasks.push_back(child(20ms, 3));
    results = co_await dsys::core::when_all(ctx, std::move(tasks));
    parent_event = world.events_run();
  });
  world.run_until_idle(1s);
  REQUIRE(results);
  CHECK(*results == std::vector<int>{1, 2, 3});
  CHECK(world.now() == dsys::core::Time{} + 30ms);  // concurrently: the longest, not the sum
  // The last child woke its parent by a posted event, not by resuming it inside its own.
  CHECK(parent_event > last_child_event);
}

TEST_CASE("when_all of tasks without results returns when all have finished", "[core]") {
  dsys::sim::World world({.seed = 22, .max_wake_delay = 0ms});  // exact times
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  int finished = 0;
  std::optional<dsys::core::Time> done_at;
  auto child = [&](Duration d) -> Task<void> {
    co_await ctx.sleep_for(d);
    ++finished;
  };
  ctx.spawn([&]() -> Task<void> {
    std::vector<Task<void>> tasks;
    tasks.push_back(child(5ms));
    tasks.push_back(child(15ms));
    co_await dsys::core::when_all(ctx, std::move(tasks));
    done_at = ctx.now();
  });
  world.run_until_idle(1s);
  CHECK(finished == 2);
  CHECK(done_at == dsys::core::Time{} + 15ms);
}

TEST_CASE("when_all rethrows a child's exception after cancelling the other children", "[core]") {
  dsys::sim::World world({.seed = 23});
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  Probe probe;
  std::string caught;
  ctx.spawn([&]() -> Task<void> {
    std::vector<Task<int>> tasks;
    tasks.push_back(sleeper(ctx, probe, 50ms, 1));
    tasks.push_back(thrower(ctx, 10ms));
    tasks.push_back(sleeper(ctx, probe, 50ms, 3));
    try {
      (void)co_await dsys::core::when_all(ctx, std::move(tasks));
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    probe.log.push_back("parent caught at " + dsys::core::format_time(ctx.now()));
  });
  world.run_until_idle(1s);
  CHECK(caught == "child failed");
  CHECK(probe.started == 2);
  CHECK(probe.finished == 0);  // cancelled: never resumed
  CHECK(probe.live == 0);
  CHECK(probe.log == std::vector<std::string>{"destroyed child 1", "destroyed child 3",
                                              "parent caught at 0.010000s"});
}

TEST_CASE("a crash while when_all waits destroys its children", "[core]") {
  dsys::sim::World world({.seed = 24});
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  Probe probe;
  ctx.spawn([&]() -> Task<void> {
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 3; ++i) tasks.push_back(sleeper(ctx, probe, 1h, i));
    (void)co_await dsys::core::when_all(ctx, std::move(tasks));
    probe.log.push_back("parent resumed");
  });
  world.run_for(10ms);
  REQUIRE(probe.live == 3);
  world.crash(node);
  CHECK(probe.live == 0);
  world.run_for(2h);
  CHECK(probe.finished == 0);
  CHECK(probe.log.size() == 3);
}

// ---------------------------------------------------------------- first_k

TEST_CASE("first_k returns at the k-th success and cancels the children still running", "[core]") {
  dsys::sim::World world({.seed = 31});
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  Probe probe;
  std::optional<dsys::core::Quorum<int>> quorum;
  int live_at_return = -1;
  ctx.spawn([&]() -> Task<void> {
    // Odd values are refusals. Finishing order: 0 (ok), 1 (refused), 4 (ok), 2 (ok), then 3.
    std::vector<Task<int>> tasks;
    tasks.push_back(sleeper(ctx, probe, 10ms, 10));
    tasks.push_back(sleeper(ctx, probe, 20ms, 11));
    tasks.push_back(sleeper(ctx, probe, 40ms, 12));
    tasks.push_back(sleeper(ctx, probe, 50ms, 13));
    tasks.push_back(sleeper(ctx, probe, 30ms, 14));
    quorum = co_await dsys::core::first_k(ctx, std::move(tasks), 3,
                                          [](const int& v) { return v % 2 == 0; });
    live_at_return = probe.live;
    probe.log.push_back("quorum at " + dsys::core::format_time(ctx.now()));
  });
  world.run_until_idle(1s);
  REQUIRE(quorum);
  CHECK(quorum->reached);
  CHECK(quorum->indices == std::vector<std::size_t>{0, 4, 2});
  CHECK(quorum->values == std::vector<int>{10, 14, 12});
  CHECK(quorum->failures == 1);
  // Child 3 was cancelled at 40ms: its locals were destroyed before first_k returned, and it
  // never resumed, though its timer came due later.
  CHECK(live_at_return == 0);
  CHECK(probe.finished == 4);
  CHECK(probe.log.back() == "quorum at 0.040000s");
  CHECK(std::count(probe.log.begin(), probe.log.end(), "destroyed child 13") == 1);
}

TEST_CASE("first_k gives up as soon as a quorum has become impossible", "[core]") {
  dsys::sim::World world({.seed = 32});
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  Probe probe;
  std::optional<dsys::core::Quorum<int>> quorum;
  std::optional<dsys::core::Time> at;
  ctx.spawn([&]() -> Task<void> {
    // Majority of 3 is 2; two refusals (at 10ms and 20ms) make it impossible.
    std::vector<Task<int>> tasks;
    tasks.push_back(sleeper(ctx, probe, 10ms, 1));
    tasks.push_back(sleeper(ctx, probe, 1h, 2));
    tasks.push_back(sleeper(ctx, probe, 20ms, 3));
    quorum = co_await dsys::core::first_k(ctx, std::move(tasks), 2,
                                          [](const int& v) { return v % 2 == 0; });
    at = ctx.now();
  });
  world.run_until_idle(2h);
  REQUIRE(quorum);
  CHECK_FALSE(quorum->reached);
  CHECK(quorum->failures == 2);
  CHECK(quorum->values.empty());
  CHECK(at == dsys::core::Time{} + 20ms);
  CHECK(probe.finished == 2);
  CHECK(probe.live == 0);
}

TEST_CASE("first_k with k = 0 or k > n decides at once without running a child", "[core]") {
  dsys::sim::World world({.seed = 33});
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  Probe probe;
  std::vector<dsys::core::Quorum<int>> quorums;
  ctx.spawn([&]() -> Task<void> {
    for (std::size_t k : {0, 3}) {
      std::vector<Task<int>> tasks;
      tasks.push_back(sleeper(ctx, probe, 1ms, 0));
      tasks.push_back(sleeper(ctx, probe, 1ms, 2));
      quorums.push_back(co_await dsys::core::first_k(ctx, std::move(tasks), k));
    }
  });
  world.run_until_idle(1s);
  REQUIRE(quorums.size() == 2);
  CHECK(quorums[0].reached);
  CHECK_FALSE(quorums[1].reached);
  CHECK(probe.started == 0);
}

TEST_CASE("first_k rethrows a child's exception after cancelling the others", "[core]") {
  dsys::sim::World world({.seed = 34});
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  Probe probe;
  std::string caught;
  ctx.spawn([&]() -> Task<void> {
    std::vector<Task<int>> tasks;
    tasks.push_back(sleeper(ctx, probe, 5ms, 0));
    tasks.push_back(thrower(ctx, 10ms));
    tasks.push_back(sleeper(ctx, probe, 20ms, 2));
    try {
      (void)co_await dsys::core::first_k(ctx, std::move(tasks), 3);
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
  });
  world.run_until_idle(1s);
  CHECK(caught == "child failed");
  CHECK(probe.finished == 1);
  CHECK(probe.live == 0);
}

TEST_CASE("first_k takes exactly k results whatever the order of simultaneous replies", "[core]") {
  // Five replies at the same instant, in an order each seed shuffles, and a quorum of three:
  // the late ones are ignored, the parent runs after the third, and nothing leaks.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    dsys::sim::World world({.seed = seed, .shuffle_simultaneous = true});
    auto node = world.add_node("n");
    Context& ctx = world.context(node);
    Probe probe;
    std::optional<dsys::core::Quorum<int>> quorum;
    ctx.spawn([&]() -> Task<void> {
      std::vector<Task<int>> tasks;
      for (int i = 0; i < 5; ++i) tasks.push_back(sleeper(ctx, probe, 10ms, 100 + i));
      quorum = co_await dsys::core::first_k(ctx, std::move(tasks), 3);
    });
    world.run_until_idle(1s);
    INFO("seed " << seed);
    REQUIRE(quorum);
    CHECK(quorum->reached);
    REQUIRE(quorum->values.size() == 3);
    for (std::size_t j = 0; j < 3; ++j) {
      CHECK(quorum->values[j] == 100 + static_cast<int>(quorum->indices[j]));
    }
    std::vector<std::size_t> sorted = quorum->indices;
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::unique(sorted.begin(), sorted.end()) == sorted.end());
    CHECK(probe.finished >= 3);
    CHECK(probe.live == 0);
  }
}

// ---------------------------------------------------------------- with_deadline

TEST_CASE("with_deadline returns the result in time, or nullopt with the operation cancelled",
          "[core]") {
  dsys::sim::World world({.seed = 41, .max_wake_delay = 0ms});  // exact times
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  Probe probe;
  std::vector<std::optional<int>> results;
  std::vector<dsys::core::Time> times;
  ctx.spawn([&]() -> Task<void> {
    results.push_back(co_await dsys::core::with_deadline(ctx, sleeper(ctx, probe, 10ms, 1), 20ms));
    times.push_back(ctx.now());
    results.push_back(
        co_await dsys::core::with_deadline(ctx, sleeper(ctx, probe, 30ms, 2), ctx.now() + 20ms));
    times.push_back(ctx.now());
    bool in_time = co_await dsys::core::with_deadline(
        ctx, [&]() -> Task<void> { co_await ctx.sleep_for(1ms); }(), 5ms);
    results.push_back(in_time ? 3 : -3);
  });
  world.run_until_idle(1s);
  CHECK(results == std::vector<std::optional<int>>{1, std::nullopt, 3});
  CHECK(times ==
        std::vector<dsys::core::Time>{dsys::core::Time{} + 10ms, dsys::core::Time{} + 30ms});
  CHECK(probe.finished == 1);  // the late one never resumed
  CHECK(probe.live == 0);
}

TEST_CASE("with_deadline rethrows the operation's exception", "[core]") {
  dsys::sim::World world({.seed = 42});
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  std::string caught;
  ctx.spawn([&]() -> Task<void> {
    try {
      (void)co_await dsys::core::with_deadline(ctx, thrower(ctx, 1ms), 10ms);
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
  });
  world.run_until_idle(1s);
  CHECK(caught == "child failed");
}

TEST_CASE(
    "with_deadline at the operation's very instant: a result means it finished, nullopt "
    "means it never will",
    "[core]") {
  int timed_out = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    dsys::sim::World world({.seed = seed, .shuffle_simultaneous = true});
    auto node = world.add_node("n");
    Context& ctx = world.context(node);
    Probe probe;
    std::optional<std::optional<int>> result;
    ctx.spawn([&]() -> Task<void> {
      result = co_await dsys::core::with_deadline(ctx, sleeper(ctx, probe, 10ms, 7), 10ms);
    });
    world.run_until_idle(1s);
    INFO("seed " << seed);
    REQUIRE(result);
    CHECK(result->has_value() == (probe.finished == 1));
    if (!result->has_value()) ++timed_out;
    CHECK(probe.live == 0);
  }
  INFO("timed out in " << timed_out << " of 20 seeds");
  CHECK(timed_out > 0);  // both orders happen over these seeds
  CHECK(timed_out < 20);
}
