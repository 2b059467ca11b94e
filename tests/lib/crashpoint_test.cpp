// Crash points in the simulated world: a node crashed at each of its steps, and at named
// breakpoints in its code.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dsys/core/durable_log.hpp"
#include "dsys/net/breakpoint.hpp"
#include "dsys/net/file_storage.hpp"
#include "dsys/sim/world.hpp"
#include "dsys/testing/process.hpp"

using namespace std::chrono_literals;
using dsys::core::Address;
using dsys::core::Bytes;
using dsys::core::Context;
using dsys::core::DurableLog;
using dsys::core::Task;
using dsys::sim::NodeEvent;
using dsys::sim::NodeId;
using dsys::sim::UnsyncedWrites;
using dsys::sim::World;

namespace {

// Appends each value it receives to its durable log, syncs, and only then acknowledges it.
struct Recorder final : dsys::core::Receiver {
  explicit Recorder(Context& c) : ctx(c), log(c, "log") { ctx.set_receiver(this); }
  ~Recorder() override { ctx.set_receiver(nullptr); }
  void on_message(Address from, Bytes value) override {
    log.append(value);
    ctx.breakpoint("recorder:appended");
    log.sync();
    ctx.breakpoint("recorder:synced");
    ctx.send(from, value);
  }
  void on_unreachable(Address) override {}
  Context& ctx;
  DurableLog log;
};

// Sends v1..vN to the recorder, one at a time, each until it is acknowledged.
struct Sender final : dsys::core::Receiver {
  Sender(Context& c, Address to, int n) : ctx(c), acked_signal(c) {
    ctx.set_receiver(this);
    ctx.spawn([this, to, n]() -> Task<void> {
      for (int i = 1; i <= n; ++i) {
        const std::string value = fmt::format("v{}", i);
        while (!acked.contains(value)) {
          ctx.send(to, value);
          co_await acked_signal.wait_until(ctx.now() + 50ms);
        }
      }
      done = true;
    });
  }
  ~Sender() override { ctx.set_receiver(nullptr); }
  void on_message(Address, Bytes value) override {
    acked.insert(value);
    acked_signal.notify_all();
  }
  void on_unreachable(Address) override {}
  Context& ctx;
  dsys::core::Notifier acked_signal;
  std::set<std::string> acked;
  bool done = false;
};

constexpr int kValues = 4;

struct Run {
  World world;
  NodeId recorder;
  NodeId sender;
  explicit Run(std::uint64_t seed, UnsyncedWrites policy = UnsyncedWrites::torn)
      : world({.seed = seed, .unsynced_on_crash = policy}) {
    recorder = world.add_node<Recorder>("recorder");
    sender = world.add_node("sender", [to = world.address(recorder)](Context& ctx) {
      return std::static_pointer_cast<void>(std::make_shared<Sender>(ctx, to, kValues));
    });
    // Durability: whatever was acknowledged is in the recorder's synced log, after every event.
    world.add_invariant("acknowledged values are durable", [this]() -> std::string {
      const auto bytes = world.disk(recorder).read_durable("log");
      const auto durable = DurableLog::decode(bytes.value_or(""));
      for (const auto& value : world.service<Sender>(sender).acked) {
        if (std::find(durable.records.begin(), durable.records.end(), value) ==
            durable.records.end()) {
          return fmt::format("{} was acknowledged but is not on the disk", value);
        }
      }
      return {};
    });
  }
  bool finish() {
    return world.run_until([&] { return world.service<Sender>(sender).done; }, 20s);
  }
};

}  // namespace

TEST_CASE("a node crashed at each of its steps loses nothing it acknowledged", "[crashpoint]") {
  for (std::uint64_t seed : {1, 2, 3}) {
    // A run without crashes says how many steps the recorder takes.
    std::uint64_t steps = 0;
    {
      Run run(seed);
      REQUIRE(run.finish());
      steps = run.world.steps(run.recorder);
    }
    REQUIRE(steps >= 3 * kValues);  // per value: its delivery, the sync, the send
    for (std::uint64_t k = 1; k <= steps; ++k) {
      INFO("seed " << seed << ", crash at step " << k);
      Run run(seed);
      std::vector<NodeEvent::Kind> seen;
      run.world.on_node_event(run.recorder, [&](const NodeEvent& e) {
        seen.push_back(e.kind);
        if (e.step == k) run.world.after(30ms, [&] { run.world.restart(run.recorder); });
      });
      run.world.crash_at_step(run.recorder, k);
      REQUIRE(run.finish());
      REQUIRE(seen.size() >= k);
      // The crash is in the trace, at that step.
      const std::string trace = run.world.trace().render();
      CHECK_THAT(trace, Catch::Contains(fmt::format("at its step {}: {}", k,
                                                    dsys::sim::to_string(seen[k - 1]))));
      // After the restart, the log holds every value, each intact (a value may be there twice:
      // appended, then resent because its acknowledgement was lost with the crash).
      const auto& log = run.world.service<Recorder>(run.recorder).log;
      for (int i = 1; i <= kValues; ++i) {
        CHECK(std::count(log.records().begin(), log.records().end(), fmt::format("v{}", i)) >= 1);
      }
      for (const auto& record : log.records()) CHECK(record.size() == 2);
    }
  }
}

TEST_CASE("a crash at a sync means the sync did not happen", "[crashpoint]") {
  Run run(7, UnsyncedWrites::lost);
  run.world.on_node_event(run.recorder, [&](const NodeEvent& e) {
    if (e.kind == NodeEvent::Kind::sync) run.world.crash(run.recorder);
  });
  int sends = 0;
  run.world.set_tap([&](NodeId from, NodeId, const Bytes&) { sends += from == run.recorder; });
  run.world.run_for(40ms);
  CHECK_FALSE(run.world.is_up(run.recorder));
  CHECK_FALSE(run.world.disk(run.recorder).read_durable("log"));  // the append was never synced
  CHECK(sends == 0);                                              // nor acknowledged
  CHECK(run.world.service<Sender>(run.sender).acked.empty());
}

namespace {

// Writes and syncs "a", passes a breakpoint, writes and syncs "b", replies, writes "c".
struct TwoWrites final : dsys::core::Receiver {
  explicit TwoWrites(Context& c) : ctx(c) { ctx.set_receiver(this); }
  ~TwoWrites() override { ctx.set_receiver(nullptr); }
  void on_message(Address from, Bytes value) override {
    ctx.storage().write("a", value);
    ctx.storage().sync();
    ctx.breakpoint("between");
    ctx.storage().write("b", value);
    ctx.storage().sync();
    ctx.log("b is written");
    ctx.send(from, "done " + value);
    ctx.storage().write("c", value);
    ctx.storage().sync();
  }
  void on_unreachable(Address) override {}
  Context& ctx;
};

}  // namespace

TEST_CASE("a node crashed at a breakpoint sends and stores nothing after it", "[crashpoint]") {
  // Unsynced writes are kept by crashes here, so only the crash point can keep "b" off the disk.
  World world({.seed = 3, .unsynced_on_crash = UnsyncedWrites::kept});
  const NodeId client = world.add_node("client");
  const NodeId server = world.add_node<TwoWrites>("server");
  int server_sends = 0;
  world.set_tap([&](NodeId from, NodeId, const Bytes&) { server_sends += from == server; });
  world.crash_at_breakpoint(server, "between");
  world.inject(client, server, "x");
  world.run_until_idle(1s);

  CHECK_FALSE(world.is_up(server));
  CHECK(world.breakpoint_hits(server, "between") == 1);
  CHECK(world.disk(server).read("a") == "x");
  CHECK_FALSE(world.disk(server).read("b"));
  CHECK_FALSE(world.disk(server).read("c"));
  CHECK(server_sends == 0);
  const std::string trace = world.trace().render();
  CHECK_THAT(trace, Catch::Contains("at breakpoint between (reached 1 times)"));
  CHECK_THAT(trace, Catch::Contains("(after its crash) b is written"));
  CHECK_THAT(trace, Catch::Contains("not sent: sender crashed"));

  world.restart(server);
  CHECK(world.context(server).storage().keys() == std::vector<std::string>{"a"});
}

TEST_CASE("a breakpoint armed for its second time lets the first pass", "[crashpoint]") {
  World world({.seed = 4, .unsynced_on_crash = UnsyncedWrites::kept});
  const NodeId client = world.add_node("client");
  const NodeId server = world.add_node<TwoWrites>("server");
  world.crash_at_breakpoint(server, "between", 2);
  world.inject(client, server, "1");
  world.run_until_idle(1s);
  CHECK(world.is_up(server));
  CHECK(world.disk(server).read("c") == "1");
  world.inject(client, server, "2");
  world.run_until_idle(1s);
  CHECK_FALSE(world.is_up(server));
  CHECK(world.breakpoint_hits(server, "between") == 2);
  CHECK(world.disk(server).read("a") == "2");
  CHECK(world.disk(server).read("b") == "1");
}

TEST_CASE("a node crashed at its send does not send, and stores nothing after", "[crashpoint]") {
  World world({.seed = 5, .unsynced_on_crash = UnsyncedWrites::kept});
  const NodeId client = world.add_node("client");
  const NodeId server = world.add_node<TwoWrites>("server");
  int server_sends = 0;
  world.set_tap([&](NodeId from, NodeId, const Bytes&) { server_sends += from == server; });
  world.on_node_event(server, [&](const NodeEvent& e) {
    if (e.kind == NodeEvent::Kind::send) {
      CHECK(e.peer == client);
      world.crash(server);  // from inside the server's own code: deferred, but effective now
      CHECK_FALSE(world.is_up(server));
    }
  });
  world.inject(client, server, "x");
  world.run_until_idle(1s);
  CHECK_FALSE(world.is_up(server));
  CHECK(server_sends == 0);
  CHECK(world.disk(server).read("b") == "x");
  CHECK_FALSE(world.disk(server).read("c"));
}

TEST_CASE("DSYS_BREAKPOINT stops a real process at the named breakpoint, its n-th time",
          "[crashpoint]") {
  std::string pattern = (std::filesystem::temp_directory_path() / "dsys-bp-XXXXXX").string();
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  const std::filesystem::path dir = pattern;
  {
    dsys::testing::Process child({DSYS_BREAKPOINT_PROGRAM, dir.string()},
                                 {"DSYS_BREAKPOINT=loop@2"});
    CHECK(child.wait(10s) == dsys::net::kBreakpointExitStatus);
    CHECK_THAT(child.output(), Catch::Contains("passed loop 1"));
    CHECK_THAT(child.output(), Catch::Contains("dsys: stopping at breakpoint loop"));
    CHECK_THAT(child.output(), !Catch::Contains("passed loop 2"));
  }
  CHECK(dsys::net::FileStorage(dir).read("k") == "2");  // synced just before the breakpoint
  {
    dsys::testing::Process child({DSYS_BREAKPOINT_PROGRAM, dir.string()},
                                 {"DSYS_BREAKPOINT=other"});
    CHECK(child.wait(10s) == 0);
    CHECK_THAT(child.output(), Catch::Contains("passed loop 3"));
  }
  std::filesystem::remove_all(dir);
}
