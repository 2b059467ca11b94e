#include <catch2/catch.hpp>

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
