// dsys/core/time.hpp: the time a node sees. In the simulated world it is virtual time since the
// world began; in the real world it is the steady clock since the process began. Node code never
// reads a wall clock: it asks its Context (Context::now()).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace dsys::core {

using Duration = std::chrono::nanoseconds;

// A clock tag: time points of a node's world. It has no now(); only a Context knows the time.
struct Clock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = Duration;
  using time_point = std::chrono::time_point<Clock>;
  static constexpr bool is_steady = true;  // NOLINT(readability-identifier-naming): a Clock's name
};

using Time = Clock::time_point;

// "12.003450s": seconds since the start of the world, to the microsecond.
std::string format_time(Time t);

}  // namespace dsys::core
