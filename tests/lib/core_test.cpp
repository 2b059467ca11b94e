#include <catch2/catch.hpp>

#include "dsys/core/error.hpp"
#include "dsys/sim/world.hpp"

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Task;

TEST_CASE("timers fire in order of their deadlines, and equal deadlines in arming order",
          "[core]") {
  dsys::sim::World world({.seed = 1});
  auto node = world.add_node("timers");
  std::vector<int> fired;
  auto sleeper = [&](int label, std::chrono::milliseconds d) {
    world.context(node).spawn([&fired, &world, node, label, d]() -> Task<void> {
      co_await world.context(node).sleep_for(d);
      fired.push_back(label);
    });
  };
  sleeper(1, 30ms);
  sleeper(2, 10ms);
  sleeper(3, 20ms);
  sleeper(4, 10ms);
  world.run_until_idle(1s);
  CHECK(fired == std::vector<int>{2, 4, 3, 1});
  CHECK(world.now().time_since_epoch() == 30ms);
}

namespace {
// Counts live instances, to prove that a crash destroys what pending coroutines hold.
struct Tracked {
  static inline int live = 0;
  Tracked() { ++live; }
  Tracked(const Tracked&) { ++live; }
  ~Tracked() { --live; }
};

Task<void> nested_sleeper(Context& ctx, int depth) {
  Tracked held;
  auto buffer = std::make_unique<std::vector<char>>(1024);  // heap memory ASan would report
  if (depth > 0) {
    co_await nested_sleeper(ctx, depth - 1);
  } else {
    co_await ctx.sleep_for(1h);
  }
}
}  // namespace

TEST_CASE(
    "a crash destroys every pending coroutine, nested ones included, and restart rebuilds the node",
    "[core]") {
  dsys::sim::World world({.seed = 2});
  auto node = world.add_node("victim");
  for (int i = 0; i < 5; ++i) world.context(node).spawn(nested_sleeper(world.context(node), 3));
  world.run_for(10ms);
  // Five chains of four frames each are suspended, each frame holding a Tracked.
  REQUIRE(Tracked::live == 20);
  REQUIRE(world.context(node).pending_tasks() == 5);

  world.crash(node);
  CHECK(Tracked::live == 0);
  CHECK_FALSE(world.is_up(node));
  // The hour-long timers are stale now: running past them wakes nothing and leaks nothing.
  world.run_for(2h);
  CHECK(Tracked::live == 0);

  world.restart(node);
  CHECK(world.is_up(node));
  CHECK(world.context(node).pending_tasks() == 0);
}

TEST_CASE("a Notifier wakes its waiters, and wait_until reports a timeout", "[core]") {
  dsys::sim::World world({.seed = 3});
  auto node = world.add_node("n");
  Context& ctx = world.context(node);
  dsys::core::Notifier ready(ctx);
  std::vector<std::string> log;
  ctx.spawn([&]() -> Task<void> {
    bool notified = co_await ready.wait_until(ctx.now() + 5ms);
    log.push_back(notified ? "first notified" : "first timed out");
    co_await ready.wait();
    log.push_back("first woke");
  });
  ctx.spawn([&]() -> Task<void> {
    co_await ready.wait();
    log.push_back("second woke");
  });
  ctx.spawn([&]() -> Task<void> {
    co_await ctx.sleep_for(10ms);
    ready.notify_all();
  });
  world.run_until_idle(1s);
  CHECK(log == std::vector<std::string>{"first timed out", "second woke", "first woke"});
}

TEST_CASE("an exception escaping node code stops the run with the seed to replay it", "[core]") {
  dsys::sim::World world({.seed = 4242, .label = "core-throws"});
  auto node = world.add_node("thrower");
  world.context(node).spawn([&]() -> Task<void> {
    co_await world.context(node).sleep_for(1ms);
    dsys::unimplemented("Example::method");
  });
  try {
    world.run_until_idle(1s);
    FAIL("the run should have stopped");
  } catch (const dsys::sim::RunFailure& failure) {
    const std::string what = failure.what();
    CHECK_THAT(what, Catch::Contains("unimplemented: Example::method"));
    CHECK_THAT(what, Catch::Contains("DSYS_SEED=4242"));
    CHECK_THAT(what, Catch::Contains("core-throws-seed4242.trace"));
  }
}

TEST_CASE("storage: synced writes survive a crash, unsynced ones follow the fault plan", "[core]") {
  using dsys::sim::UnsyncedWrites;
  for (auto policy : {UnsyncedWrites::lost, UnsyncedWrites::kept}) {
    dsys::sim::World world({.seed = 5, .unsynced_on_crash = policy});
    auto node = world.add_node("disk");
    auto& disk = world.context(node).storage();
    disk.write("a", "1");
    disk.sync();
    disk.write("b", "2");
    disk.remove("a");
    CHECK(disk.read("b") == "2");  // visible before sync
    CHECK_FALSE(disk.read("a"));
    world.crash(node);
    world.restart(node);
    auto& after = world.context(node).storage();
    if (policy == UnsyncedWrites::lost) {
      CHECK(after.read("a") == "1");
      CHECK_FALSE(after.read("b"));
    } else {
      CHECK_FALSE(after.read("a"));
      CHECK(after.read("b") == "2");
    }
  }
  dsys::sim::World world({.seed = 6});
  auto node = world.add_node("disk");
  CHECK_THROWS_AS(world.context(node).storage().write("../escape", "x"), dsys::UsageError);
}

TEST_CASE("a random-prefix crash keeps writes in order: never a later one without an earlier one",
          "[core]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    dsys::sim::World world(
        {.seed = seed, .unsynced_on_crash = dsys::sim::UnsyncedWrites::random_prefix});
    auto node = world.add_node("disk");
    auto& disk = world.context(node).storage();
    for (int i = 0; i < 10; ++i) disk.write(fmt::format("k{}", i), "v");
    world.crash(node);
    world.restart(node);
    auto keys = world.context(node).storage().keys();
    for (std::size_t i = 0; i < keys.size(); ++i) CHECK(keys[i] == fmt::format("k{}", i));
  }
}

TEST_CASE("addresses parse and print", "[core]") {
  using dsys::core::Address;
  CHECK(Address::parse("3772")->to_string() == "127.0.0.1:3772");
  CHECK(Address::parse("10.1.2.3:80")->to_string() == "10.1.2.3:80");
  CHECK(Address::parse("localhost:9")->port() == 9);
  CHECK_FALSE(Address::parse("70000"));
  CHECK_FALSE(Address::parse("1.2.3:80"));
  CHECK_FALSE(Address::parse("port"));
  CHECK_FALSE(Address::parse("0"));
  CHECK(Address::node(3).to_string() == "n3");
}

TEST_CASE("notify_one at the very instant a waiter's deadline passes is never lost", "[core]") {
  // A waits until T, B waits without a deadline, and notify_one() runs at exactly T. Whichever of
  // A's timer and the notify runs first, the notification is consumed by exactly one of them:
  // A reports it (true), or A times out first and B is woken. Never: A times out and B sleeps on.
  const dsys::core::Time deadline = dsys::core::Time{} + 5ms;
  auto run = [&](std::uint64_t seed, bool shuffle, bool notify_armed_first) {
    dsys::sim::World world({.seed = seed, .shuffle_simultaneous = shuffle});
    auto node = world.add_node("n");
    Context& ctx = world.context(node);
    dsys::core::Notifier ready(ctx);
    std::optional<bool> a_notified;
    bool b_woke = false;
    auto notifier = [&]() -> Task<void> {
      co_await ctx.sleep_until(deadline);
      ready.notify_one();
    };
    auto a = [&]() -> Task<void> { a_notified = co_await ready.wait_until(deadline); };
    auto b = [&]() -> Task<void> {
      co_await ready.wait();
      b_woke = true;
    };
    // spawn_now arms each one's timer at once, in this order.
    if (notify_armed_first) ctx.spawn_now(notifier());
    ctx.spawn_now(a());
    ctx.spawn_now(b());
    if (!notify_armed_first) ctx.spawn_now(notifier());
    world.run_until_idle(1s);
    INFO("seed " << seed << " shuffle " << shuffle << " notify armed first " << notify_armed_first);
    REQUIRE(a_notified.has_value());
    CHECK(int(*a_notified) + int(b_woke) == 1);
  };
  // Without shuffling, same-time events run in creation order: both orders, deterministically.
  run(1, false, true);
  run(1, false, false);
  for (std::uint64_t seed = 1; seed <= 20; ++seed) run(seed, true, seed % 2 == 0);
}
