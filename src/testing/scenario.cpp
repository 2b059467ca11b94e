#include "dsys/testing/scenario.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

namespace dsys::testing {

std::uint64_t run_scenario_seeds(std::uint64_t default_seeds,
                                 const std::function<void(std::uint64_t seed, bool traced)>& one,
                                 std::string_view unexplained) {
  const char* runs = std::getenv("DSYS_SCENARIO_RUNS");
  const char* first = std::getenv("DSYS_SCENARIO_SEED");
  if (std::getenv("DSYS_SEED") != nullptr) {
    one(0, true);
    return 0;
  }
  if (runs == nullptr) {
    for (std::uint64_t s = 1; s <= default_seeds; ++s) one(s, true);
    return 0;
  }
  const std::uint64_t count = std::strtoull(runs, nullptr, 10);
  const std::uint64_t base = first != nullptr ? std::strtoull(first, nullptr, 10) : 1;
  std::uint64_t failed = 0;
  for (std::uint64_t s = base; s < base + count; ++s) {
    std::string why;
    try {
      one(s, false);
      continue;
    } catch (const std::exception& e) {
      why = e.what();
      why = why.substr(0, why.find('\n'));
    } catch (...) {  // a failed REQUIRE: Catch's own exception
      why = unexplained;
    }
    ++failed;
    std::cout << fmt::format("dsys-scenario: seed {} failed: {}", s, why) << std::endl;
  }
  std::cout << fmt::format("dsys-scenario: {} runs, {} failed", count, failed) << std::endl;
  return failed;
}

void faults_until(sim::World& world, core::Rng& rng, core::Time gst, const GroupFaults& group) {
  while (world.now() < gst) {
    world.run_for(std::min<core::Duration>(std::chrono::milliseconds(300 + rng.below(2700)),
                                           gst - world.now()));
    if (world.now() >= gst) break;
    std::vector<std::uint32_t> up, down;
    for (std::uint32_t id = 1; id <= group.n; ++id) (group.up(id) ? up : down).push_back(id);
    const auto what = rng.below(10);
    if (what < 3 && up.size() > 1) {
      group.crash(up[rng.below(up.size())]);
    } else if (what < 6 && !down.empty()) {
      group.restart(down[rng.below(down.size())]);
    } else if (what < 8) {
      std::vector<sim::NodeId> a, b;
      for (std::uint32_t id = 1; id <= group.n; ++id)
        (rng.below(2) ? a : b).push_back(group.node(id));
      for (sim::NodeId other : group.others) (rng.below(2) ? a : b).push_back(other);
      world.note("test: partition");
      world.partition({a, b});
    } else {
      world.note("test: heal");
      world.heal();
    }
  }
}

}  // namespace dsys::testing
