// dsys/sim/scheduler.hpp: every nondeterministic choice of the simulated world is made here.
//
// The World asks its Scheduler what happens to each message (lost, duplicated, how late), how
// long a woken coroutine waits before it runs, and how to order events that fall due at the same
// virtual time. A strategy is a Scheduler: the default walks randomly from a seed; others
// (priority schedules, exhaustive search over small runs) plug in through the same three calls.
#pragma once

#include <cstdint>

#include "dsys/core/rng.hpp"
#include "dsys/sim/faults.hpp"

namespace dsys::sim {

// The fate of one message.
struct Routing {
  int copies = 1;                // 0 (lost), 1, or 2 (duplicated)
  core::Duration delay[2] = {};  // per copy, from the time of sending
  bool reordered[2] = {};        // per copy: may be overtaken by later messages
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Decides the fate of a message from node `from` to node `to` on a link with `faults`.
  virtual Routing route(std::uint32_t from, std::uint32_t to, const LinkFaults& faults) = 0;
  // Orders events due at the same time: lower first; equal values keep creation order.
  virtual std::uint64_t tiebreak() = 0;
  // How long a coroutine woken by a signal (a Notifier, a reply, a spawn) waits before it runs:
  // from 0 to `max` (never called when `max` is 0). A real executor queues a woken coroutine
  // behind what is ready already, so messages that arrive meanwhile may run first: code that
  // does not look again after a wake-up (`if` where `while` is needed) fails in such runs.
  virtual core::Duration wake_delay(core::Duration max) = 0;
};

// The share of wake-ups RandomScheduler (and PctScheduler) delay, each uniformly in (0, max].
inline constexpr double kDelayedWakeShare = 0.25;

// The default strategy: independent random choices from one seeded stream. With
// `shuffle_simultaneous`, events due at the same instant also run in a random order.
class RandomScheduler final : public Scheduler {
 public:
  explicit RandomScheduler(std::uint64_t seed, bool shuffle_simultaneous = false)
      : rng_(seed), shuffle_(shuffle_simultaneous) {}

  Routing route(std::uint32_t, std::uint32_t, const LinkFaults& faults) override {
    Routing r;
    if (rng_.chance(faults.drop)) {
      r.copies = 0;
      return r;
    }
    r.copies = rng_.chance(faults.duplicate) ? 2 : 1;
    for (int i = 0; i < r.copies; ++i) {
      r.delay[i] = core::Duration(rng_.between(faults.min_delay.count(), faults.max_delay.count()));
      if (rng_.chance(faults.reorder)) {
        r.reordered[i] = true;
        r.delay[i] += faults.reorder_delay;
      }
    }
    return r;
  }
  std::uint64_t tiebreak() override { return shuffle_ ? rng_.next() : 0; }
  core::Duration wake_delay(core::Duration max) override {
    if (!rng_.chance(kDelayedWakeShare)) return {};
    return core::Duration(rng_.between(1, max.count()));
  }

 private:
  core::Rng rng_;
  bool shuffle_;
};

}  // namespace dsys::sim
