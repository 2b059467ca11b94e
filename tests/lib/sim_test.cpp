// The simulated world: faults at their configured rates, partitions, determinism, invariants.
#include <catch2/catch.hpp>

#include <map>

#include "busy_run.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "dsys/sim/world.hpp"
#include "dsys/testing/echo_service.hpp"

using namespace std::chrono_literals;
using dsys::core::Address;
using dsys::core::Bytes;
using dsys::core::Context;
using dsys::core::Task;
using dsys::sim::LinkFaults;
using dsys::sim::World;

namespace {

// Records the arrival order of numbered messages.
struct Inbox final : dsys::core::Receiver {
  explicit Inbox(Context& ctx) { ctx.set_receiver(this); }
  void on_message(Address, Bytes message) override { arrivals.push_back(std::stoi(message)); }
  void on_unreachable(Address) override {}
  std::vector<int> arrivals;
};

struct Rates {
  double lost, duplicated, reordered;
};

// Sends `n` numbered messages, one per millisecond, from one node to another.
Rates measure(const LinkFaults& faults, std::uint64_t seed, int n) {
  World world({.seed = seed, .faults = faults, .trace = false});
  auto sender = world.add_node("sender");
  auto receiver = world.add_node<Inbox>("receiver");
  Context& ctx = world.context(sender);
  ctx.spawn([&ctx, n, to = world.address(receiver)]() -> Task<void> {
    for (int i = 0; i < n; ++i) {
      ctx.send(to, std::to_string(i));
      co_await ctx.sleep_for(1ms);
    }
  });
  world.run_until_idle(1h);
  const auto& arrivals = world.service<Inbox>(receiver).arrivals;
  std::map<int, int> copies;
  std::map<int, std::size_t> first_arrival;
  for (std::size_t k = 0; k < arrivals.size(); ++k) {
    if (copies[arrivals[k]]++ == 0) first_arrival[arrivals[k]] = k;
  }
  int lost = 0, duplicated = 0, overtaken = 0, pairs = 0;
  for (int i = 0; i < n; ++i) {
    if (copies[i] == 0) ++lost;
    if (copies[i] > 1) ++duplicated;
    if (i + 1 < n && copies[i] > 0 && copies[i + 1] > 0) {
      ++pairs;
      if (first_arrival[i] > first_arrival[i + 1]) ++overtaken;  // i arrived after its successor
    }
  }
  return {double(lost) / n, double(duplicated) / n, pairs ? double(overtaken) / pairs : 0};
}

}  // namespace

TEST_CASE("each network fault is observed at its configured rate", "[sim]") {
  // 10000 messages: the standard error of a rate near 0.1 is 0.003, so +-0.02 is over 6 sigma.
  const int n = 10000;
  for (std::uint64_t seed : {11, 12, 13}) {
    INFO("seed " << seed);
    Rates none = measure({}, seed, n);
    CHECK(none.lost == 0);
    CHECK(none.duplicated == 0);
    CHECK(none.reordered == 0);  // a fault-free link delivers in order

    Rates drops = measure({.drop = 0.1}, seed, n);
    CHECK(drops.lost == Approx(0.1).margin(0.02));
    CHECK(drops.duplicated == 0);

    Rates dups = measure({.duplicate = 0.2}, seed, n);
    CHECK(dups.lost == 0);
    CHECK(dups.duplicated == Approx(0.2).margin(0.02));

    Rates reorders = measure({.reorder = 0.1}, seed, n);
    CHECK(reorders.lost == 0);
    CHECK(reorders.reordered == Approx(0.1).margin(0.02));

    Rates all = measure({.drop = 0.05, .duplicate = 0.05, .reorder = 0.05}, seed, n);
    CHECK(all.lost == Approx(0.05).margin(0.02));
    CHECK(all.duplicated == Approx(0.05).margin(0.02));
    CHECK(all.reordered == Approx(0.05).margin(0.02));
  }
}

TEST_CASE("delays fall within the configured bounds", "[sim]") {
  World world({.seed = 3, .faults = {.min_delay = 5ms, .max_delay = 9ms}});
  auto a = world.add_node("a");
  auto b = world.add_node<Inbox>("b");
  world.context(a).send(world.address(b), "0");
  world.run_until_idle(1s);
  const auto& events = world.trace().events();
  auto delivered = std::find_if(events.begin(), events.end(),
                                [](const auto& e) { return e.kind == dsys::trace::Kind::deliver; });
  REQUIRE(delivered != events.end());
  CHECK(delivered->time.time_since_epoch() >= 5ms);
  CHECK(delivered->time.time_since_epoch() <= 9ms);
}

namespace {

// A node whose coroutine waits on a Notifier, over and over; the test notifies it from outside.
// `woken` gets how long after each notify it ran, and `overtaken` counts the messages that
// arrived at the node between a notify and the wake-up it caused.
struct Sleeper final : dsys::core::Receiver {
  explicit Sleeper(Context& context) : ctx(context), bell(context) {
    ctx.set_receiver(this);
    ctx.spawn([this]() -> Task<void> {
      for (;;) {
        co_await bell.wait();
        woken.push_back(ctx.now() - rung_at);
        if (arrived_since_ring > 0) ++overtaken;
      }
    });
  }
  void ring() {
    rung_at = ctx.now();
    arrived_since_ring = 0;
    bell.notify_one();
  }
  void on_message(Address, Bytes) override { ++arrived_since_ring; }
  void on_unreachable(Address) override {}
  Context& ctx;
  dsys::core::Notifier bell;
  dsys::core::Time rung_at{};
  int arrived_since_ring = 0;
  int overtaken = 0;
  std::vector<dsys::core::Duration> woken;
};

// Rings the sleeper every 10 ms, 200 times, while another node sends it a message every 0.1 ms,
// each arriving 1 ms later, 50 us off the rings.
Sleeper& ring_often(World& world) {
  auto sleeper = world.add_node<Sleeper>("sleeper");
  auto chatter = world.add_node("chatter");
  for (int i = 1; i <= 200; ++i) {
    world.at(dsys::core::Time{} + i * 10ms,
             [&world, sleeper] { world.service<Sleeper>(sleeper).ring(); });
  }
  world.context(chatter).spawn([&world, sleeper, chatter]() -> Task<void> {
    Context& ctx = world.context(chatter);
    co_await ctx.sleep_for(50us);  // no message arrives at the very instant of a ring
    while (ctx.now() < dsys::core::Time{} + 2100ms) {
      ctx.send(world.address(sleeper), "hello");
      co_await ctx.sleep_for(100us);
    }
  });
  world.run_until_idle(10s);
  return world.service<Sleeper>(sleeper);
}

}  // namespace

TEST_CASE(
    "a woken coroutine may run up to max_wake_delay late, as the seed chooses, after messages "
    "that arrived meanwhile; with 0 it runs at once",
    "[sim]") {
  World world({.seed = 5, .faults = {.min_delay = 1ms, .max_delay = 1ms}});
  const Sleeper& late = ring_often(world);
  REQUIRE(late.woken.size() == 200);
  const auto at_once = std::count(late.woken.begin(), late.woken.end(), 0ms);
  CHECK(*std::max_element(late.woken.begin(), late.woken.end()) <= 2ms);
  // About a quarter run late (kDelayedWakeShare); a message came in before most of those.
  CHECK(at_once > 100);
  CHECK(at_once < 190);
  CHECK(late.overtaken > 10);

  World prompt({.seed = 5, .faults = {.min_delay = 1ms, .max_delay = 1ms}, .max_wake_delay = 0ms});
  const Sleeper& once = ring_often(prompt);
  REQUIRE(once.woken.size() == 200);
  CHECK(std::count(once.woken.begin(), once.woken.end(), 0ms) == 200);
  CHECK(once.overtaken == 0);
}

namespace {

// Records when each numbered message arrived.
struct TimedInbox final : dsys::core::Receiver {
  explicit TimedInbox(Context& ctx) : ctx(ctx) { ctx.set_receiver(this); }
  void on_message(Address, Bytes message) override {
    arrivals.emplace_back(std::stoi(message), ctx.now());
  }
  void on_unreachable(Address) override {}
  Context& ctx;
  std::vector<std::pair<int, dsys::core::Time>> arrivals;
};

}  // namespace

TEST_CASE(
    "messages Options::hold_back picks arrive 1-50 ms later, still in order on their link "
    "(the slowed variant)",
    "[sim]") {
  // Even messages are held back; one message a millisecond, each sent at i ms.
  World world({.seed = 5, .trace = false, .hold_back = [](const Bytes& m) {
                 return std::stoi(m) % 2 == 0;
               }});
  auto sender = world.add_node("sender");
  auto receiver = world.add_node<TimedInbox>("receiver");
  Context& ctx = world.context(sender);
  const int n = 400;
  ctx.spawn([&ctx, to = world.address(receiver)]() -> Task<void> {
    for (int i = 0; i < n; ++i) {
      ctx.send(to, std::to_string(i));
      co_await ctx.sleep_for(1ms);
    }
  });
  world.run_until_idle(1h);
  const auto& arrivals = world.service<TimedInbox>(receiver).arrivals;
  REQUIRE(arrivals.size() == static_cast<std::size_t>(n));
  dsys::core::Duration held_total{}, longest{};
  for (int k = 0; k < n; ++k) {
    INFO("arrival " << k);
    CHECK(arrivals[k].first == k);  // in order
    const auto delay = arrivals[k].second.time_since_epoch() - k * dsys::core::Duration(1ms);
    CHECK(delay >= 1ms);
    CHECK(delay <= 3ms + 50ms + 3ms);  // the link's delay, the hold, and the one before it
    if (k % 2 == 0) {
      CHECK(delay >= 2ms);  // the link's least and the hold's least
      held_total += delay;
      longest = std::max(longest, delay);
    }
  }
  // Uniform in 1-50 ms: a mean near 25 ms more than the link's 1-3 ms; one at least 45.
  CHECK(held_total / (n / 2) >= 15ms);
  CHECK(longest >= 45ms);
}

TEST_CASE("a partition cuts traffic between groups, including messages in flight, until healed",
          "[sim]") {
  World world({.seed = 5, .faults = {.min_delay = 10ms, .max_delay = 10ms}});
  auto a = world.add_node("a");
  auto b = world.add_node<Inbox>("b");
  auto c = world.add_node<Inbox>("c");
  Context& ctx = world.context(a);

  ctx.send(world.address(c), "1");  // in flight when the partition starts
  world.run_for(5ms);
  world.partition({{a, b}, {c}});
  CHECK(world.connected(a, b));
  CHECK_FALSE(world.connected(a, c));
  ctx.send(world.address(b), "2");  // within a group: delivered
  ctx.send(world.address(c), "3");  // across: dropped
  world.run_for(50ms);
  CHECK(world.service<Inbox>(b).arrivals == std::vector<int>{2});
  CHECK(world.service<Inbox>(c).arrivals.empty());

  world.heal();
  ctx.send(world.address(c), "4");
  world.run_for(50ms);
  CHECK(world.service<Inbox>(c).arrivals == std::vector<int>{4});
  CHECK(world.trace().count(dsys::trace::Kind::partition) == 1);
  CHECK(world.trace().count(dsys::trace::Kind::heal) == 1);
}

namespace {
// A small busy run (busy_run.hpp): clients calling an echo server over a faulty network, with a
// crash and a partition.
std::string busy_run_trace(std::uint64_t seed) {
  return dsys::testing::busy_run(seed).trace;
}
}  // namespace

TEST_CASE("the same seed gives the same trace byte for byte; another seed gives another", "[sim]") {
  const std::string first = busy_run_trace(7);
  const std::string again = busy_run_trace(7);
  const std::string other = busy_run_trace(8);
  CHECK(first.size() > 1000);
  CHECK(first == again);
  CHECK(first != other);
  CHECK_THAT(first,
             Catch::Contains("crash") && Catch::Contains("restart") && Catch::Contains("drop"));
}

TEST_CASE("invariants are checked after every event, and a broken one names itself", "[sim]") {
  World world({.seed = 9, .label = "sim-invariant", .max_wake_delay = 0ms});
  auto node = world.add_node("counter");
  int counter = 0;
  world.context(node).spawn([&]() -> Task<void> {
    while (true) {
      co_await world.context(node).sleep_for(1ms);
      ++counter;
    }
  });
  world.add_invariant("counter stays below 5",
                      [&] { return counter < 5 ? "" : fmt::format("counter is {}", counter); });
  try {
    world.run_for(1s);
    FAIL("the invariant should have stopped the run");
  } catch (const dsys::sim::RunFailure& failure) {
    CHECK(counter == 5);  // stopped at the very event that broke it
    CHECK(world.now().time_since_epoch() == 5ms);
    CHECK_THAT(std::string(failure.what()),
               Catch::Contains("counter stays below 5") && Catch::Contains("DSYS_SEED=9"));
  }
}

TEST_CASE("the world can be stepped one event at a time", "[sim]") {
  World world({.seed = 10});
  auto node = world.add_node("n");
  int ticks = 0;
  world.context(node).spawn([&]() -> Task<void> {
    for (int i = 0; i < 3; ++i) {
      co_await world.context(node).sleep_for(1ms);
      ++ticks;
    }
  });
  CHECK(world.step());  // the spawned task starts
  CHECK(ticks == 0);
  CHECK(world.step());
  CHECK(ticks == 1);
  CHECK(world.step());
  CHECK(world.step());
  CHECK(ticks == 3);
  CHECK_FALSE(world.step());
}
