// dsys/testing/scenario.hpp: the seeds a scenario test runs (labs 7 and 8), and ./dsys explore's
// way of running many more of them in one process.
//
//   TEST_CASE("lab 7: random crashes, ...", "[lab7][scenario][points:6][timeout:300]") {
//     CHECK(dsys::testing::run_scenario_seeds(20, random_scenario, "views did not converge") == 0);
//   }
//
// where random_scenario(seed, traced) runs the scenario in a TestWorld of that seed (its trace
// kept when `traced`) and throws when it fails (an exception, or a failed REQUIRE).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "dsys/core/rng.hpp"
#include "dsys/core/time.hpp"
#include "dsys/sim/world.hpp"

namespace dsys::testing {

// Runs `one` for the seeds this run asks for:
//  - DSYS_SCENARIO_RUNS=N (and DSYS_SCENARIO_SEED=S, default 1), without DSYS_SEED: ./dsys
//    explore's batch. Seeds S..S+N-1 untraced; each failure is caught and printed on stdout as
//    "dsys-scenario: seed S failed: WHY" (the first line of its exception's message, or
//    `unexplained` for one without: a failed REQUIRE), then "dsys-scenario: N runs, F failed".
//  - DSYS_SEED set (a replay line): one traced run, `one(0, true)` (TestWorld takes DSYS_SEED).
//  - otherwise: seeds 1..default_seeds, traced; the first failure propagates.
// Returns the number of failed runs (0 except in a batch).
std::uint64_t run_scenario_seeds(std::uint64_t default_seeds,
                                 const std::function<void(std::uint64_t seed, bool traced)>& one,
                                 std::string_view unexplained);

// The faults of a partial-synchrony scenario before GST (labs 9 and 10), on a group of nodes
// numbered 1..n that the test crashes and restarts itself (it keeps its own books).
struct GroupFaults {
  std::uint32_t n = 0;
  std::function<bool(std::uint32_t)> up;           // is group node `id` up?
  std::function<void(std::uint32_t)> crash;        // crash it (the test notes it in the trace)
  std::function<void(std::uint32_t)> restart;      // restart it
  std::function<sim::NodeId(std::uint32_t)> node;  // its node in the world
  std::vector<sim::NodeId> others;  // nodes that are split with the group (clients), never crashed
};

// Runs `world` until `gst`; every 0.3 to 3 s (as `rng` chooses) one of: a node that is up crashes
// (when more than one is up), one that is down restarts, the group and `others` are split in two
// at random, or the partition heals. Returns at `gst`, with whatever partition and crashes it left.
void faults_until(sim::World& world, core::Rng& rng, core::Time gst, const GroupFaults& group);

}  // namespace dsys::testing
