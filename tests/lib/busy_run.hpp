// A small busy run of the simulated world, for the library's tests of determinism, schedules
// and diagrams (tests/lib/sim_test.cpp, tests/lib/runs_test.cpp).
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>

#include "dsys/rpc/endpoint.hpp"
#include "dsys/rpc/wire.hpp"
#include "dsys/sim/world.hpp"
#include "dsys/testing/echo_service.hpp"

namespace dsys::testing {

// Clients calling an echo server over a network that loses, duplicates and reorders, with a
// crash and a restart of the server and a partition: a run with every kind of event. `inspect`
// sees the world at the end.
struct BusyRun {
  std::string trace;
  std::uint64_t digest = 0;
  std::size_t events = 0;
};

inline BusyRun busy_run(std::uint64_t seed, std::shared_ptr<sim::Scheduler> scheduler = nullptr,
                        std::function<void(sim::World&)> inspect = nullptr) {
  using namespace std::chrono_literals;
  sim::World world({.seed = seed,
                    .faults = {.drop = 0.1, .duplicate = 0.1, .reorder = 0.1},
                    .scheduler = std::move(scheduler),
                    .describe = [](const dsys::core::Bytes& m) { return dsys::rpc::describe(m); }});
  auto server = world.add_node<dsys::testing::echo::Server>("server");
  int finished = 0;
  for (int c = 0; c < 3; ++c) {
    auto client = world.add_node(fmt::format("client{}", c));
    core::Context& ctx = world.context(client);
    ctx.spawn([&ctx, &finished, to = world.address(server)]() -> core::Task<void> {
      dsys::rpc::Client echo(dsys::rpc::Endpoint::of(ctx), to);
      for (int i = 0; i < 10; ++i) {
        auto r = co_await echo.call<dsys::testing::echo::Echo>({fmt::format("hello {}", i)}, 2s);
        ctx.log("call {}: {}", i, r ? r->text : std::string(to_string(r.error())));
        co_await ctx.sleep_for(std::chrono::milliseconds(ctx.rng().between(1, 20)));
      }
      ++finished;
    });
  }
  world.after(150ms, [&] { world.crash(server); });
  world.after(400ms, [&] { world.restart(server); });
  world.after(500ms, [&] { world.partition({{0, 1}, {2, 3}}); });
  world.after(600ms, [&] { world.heal(); });
  world.run_until([&] { return finished == 3; }, 1min);
  REQUIRE(finished == 3);
  if (inspect) inspect(world);
  return {world.trace().render(), world.trace().digest(), world.trace().events().size()};
}

}  // namespace dsys::testing
