// The program ./dsys explore and the diagram checks are tested on: lab 1's reference lock server
// and client over a planted broken duplicate filter (broken_reply_window.cpp). Its one test fails
// exactly when some schedule makes the bug grant a lock twice: a client's release is copied by
// the network, the copy arrives after the client has acquired the lock again, and the filter
// lets it run. Which schedules do that is what explore has to find.
#include <catch2/catch.hpp>

#include <map>

#include "dsys/testing/lab.hpp"
#include "lock_client.hpp"
#include "lock_server.hpp"

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Task;

TEST_CASE("two clients take one lock in turns, and never hold it at once",
          "[explore][points:1][timeout:60]") {
  dsys::testing::TestWorld world(
      {.seed = 1, .faults = {.duplicate = 0.2, .reorder = 0.2}, .label = "broken-filter"});
  const auto server = world.add_node("lock_server", [](Context& ctx) {
    return std::static_pointer_cast<void>(std::make_shared<dsys::lab1::LockServer>(ctx));
  });
  std::map<dsys::sim::NodeId, dsys::core::Time> holding;  // who holds lock 0, since when
  std::string violation;
  world.add_invariant("one holder per lock", [&] { return violation; });
  int finished = 0;
  for (dsys::lock::ClientId id = 1; id <= 2; ++id) {
    const auto node = world.add_node(fmt::format("client{}", id));
    Context& ctx = world.context(node);
    ctx.spawn([&, node, id, to = world.address(server)]() -> Task<void> {
      dsys::lab1::LockClient client(dsys::rpc::Endpoint::of(ctx), to, id, 5s);
      for (int round = 0; round < 10; ++round) {
        auto got = co_await client.acquire(0);
        if (!got || *got != dsys::lock::Status::ok) break;  // only a double grant fails the test
        if (!holding.empty() && violation.empty()) {
          const auto& [other, since] = *holding.begin();
          violation = fmt::format("{} was granted lock 0 while {} held it", world.name(node),
                                  world.name(other));
          // The two holds, open, beside the lanes of the diagram.
          world.trace().add_span({other, since, std::nullopt, "holds lock 0"});
          world.trace().add_span({node, ctx.now(), std::nullopt, "holds lock 0 (twice!)"});
        }
        holding[node] = ctx.now();
        co_await ctx.sleep_for(15ms);
        world.trace().add_span({node, holding[node], ctx.now(), "holds lock 0"});
        holding.erase(node);
        auto freed = co_await client.release(0);
        if (!freed) break;
      }
      ++finished;
    });
  }
  world.run_until([&] { return finished == 2; }, 5min);
  CHECK(violation.empty());
}
