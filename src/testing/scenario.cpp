#include "dsys/testing/scenario.hpp"

#include <fmt/format.h>

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

}  // namespace dsys::testing
