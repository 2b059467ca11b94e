// dsys/testing/lab.hpp: what lab tests share.
//
// Points and time limits are declared beside each test case, as Catch2 tags:
//
//   TEST_CASE("a duplicated acquire is never granted twice", "[lab1][points:10][timeout:60]")
//
// The grader (./dsys grade) reads them with `<tests> --dsys-list` and runs each test in its own
// process. A TestWorld is a simulated World that takes DSYS_SEED when it is set, and on the
// first failed assertion the test prints how to replay it and writes the world's trace.
#pragma once

#include <cstdint>

#include "dsys/sim/world.hpp"

namespace dsys::testing {

// DSYS_SEED when set (a replay), else `fallback`; remembered for the failure report.
std::uint64_t seed(std::uint64_t fallback);

class TestWorld : public sim::World {
 public:
  // As sim::World, with options.seed replaced by DSYS_SEED when it is set.
  explicit TestWorld(sim::Options options);
  ~TestWorld();
  TestWorld(const TestWorld&) = delete;
  TestWorld& operator=(const TestWorld&) = delete;
};

// For the test main: the world of the running test (or null), and the last seed used.
sim::World* current_world();
std::uint64_t last_seed();
bool seed_used();
void reset_test_state();

}  // namespace dsys::testing
