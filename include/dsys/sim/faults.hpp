// dsys/sim/faults.hpp: what the simulated network and disks may do wrong.
#pragma once

#include <chrono>

#include "dsys/core/time.hpp"

namespace dsys::sim {

using namespace std::chrono_literals;

// The faults of one directed link (or, as World's default, of every link).
// Each message is, independently: lost with probability `drop`; otherwise delivered once more
// with probability `duplicate`; held back by `reorder_delay` with probability `reorder`, so that
// messages sent after it overtake it. Every copy is delayed uniformly in [min_delay, max_delay];
// apart from reordering, a link delivers in the order it was sent (like a TCP stream would).
struct LinkFaults {
  double drop = 0;
  double duplicate = 0;
  double reorder = 0;
  core::Duration min_delay = 1ms;
  core::Duration max_delay = 3ms;
  core::Duration reorder_delay = 20ms;
};

// What a crash does to writes that were never synced.
enum class UnsyncedWrites {
  lost,           // all of them are gone (the default: the harshest honest model)
  kept,           // all of them survive (as if the OS flushed just in time)
  random_prefix,  // a random prefix survives, in write order (a write-back cut short)
  torn,           // as random_prefix, and when the first write lost is an append, a random
                  // prefix of its bytes survives too (a crash in the middle of a sync: the
                  // last record of a log is partly on the disk)
};

}  // namespace dsys::sim
