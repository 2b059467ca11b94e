// dsys/sim/strategies.hpp: the schedulers that ./dsys explore runs tests under, and the record
// of the choices a run made.
//
// A test never names its strategy: the World builds its Scheduler from the environment (when the
// test gave it none), so that every simulated test can be explored and replayed unchanged.
//
//   DSYS_SCHEDULE unset, or "random"   RandomScheduler(seed): the runs of every seed, as always
//   DSYS_SCHEDULE=pct:D[:STEPS]        PctScheduler(seed, D, STEPS): change points among the
//                                      first STEPS messages (default 2000)
//   DSYS_SCHEDULE=choices:FILE         ChoiceScheduler: the decisions in FILE, in order
//   DSYS_SCHEDULE_RECORD=FILE          also: append every decision the run made to FILE
//
// The record (and a choices file) is text, one decision a line. "world K" starts the decisions
// of the K-th world (from 0) the test program made under its DSYS_SCHEDULE; a choices file gives
// each world the lines after its own "world K" (a bare "world" is the one after the previous; a
// file without "world" lines is world 0's). Lines starting with # are comments.
//
//   world 0
//   # events 812
//   route l ol           the decision, and the choices its link offered (for exhaustive search)
//   route =1500000r olx  a decision with no name: the copies' delays in ns, r = held back
//   tiebreak 17 90210    the 17th tiebreak call (from 0) answered 90210; calls not listed, 0
//   wake 4 1500000       the 4th wake-up (from 0) ran 1.5 ms late; wake-ups not listed, at once
//
// Route decisions: "o" on time (the link's least delay), "l" late (its greatest, held back when
// the link may reorder), "x" lost, "d" duplicated (one copy on time, one late), or exact. The
// record names a decision by its letter whenever the letter gives the same delays. A link offers
// only what its faults allow: a reliable link offers "o" and, when its delay varies or it may
// reorder, "l"; never a loss it does not have. After the last decision of a choices file every
// message is on time. A choices file is checked whole when the world starts: a line that is not
// one of the above is refused with its number.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dsys/core/rng.hpp"
#include "dsys/sim/scheduler.hpp"

namespace dsys::sim {

// One route decision as exact words: "=1500000r", "=1000000,=21000000r", or "x" (lost).
std::string encode_routing(const Routing& routing);
// The same, by its letter ("o", "l", "x", "d") when that letter gives it on a link with `faults`.
std::string encode_routing(const Routing& routing, const LinkFaults& faults);
// The decision "o", "l", "x", "d" or an exact one stands for on a link with `faults`; false
// when the word is not one.
bool decode_routing(std::string_view word, const LinkFaults& faults, Routing& routing);
// The choices a link with `faults` offers, in the order exhaustive search tries them: "o" first.
std::string choices_of(const LinkFaults& faults);

// PCT (Burckhardt, Kothari, Musuvathi and Nagarakatte, ASPLOS 2010), for message passing. Each
// node has a random priority; a message's delay follows its sender's rank, so among messages in
// flight at once the higher sender's arrive first (the ready "threads" are the senders). At
// `depth - 1` change points, distinct and chosen at random among the first `steps` messages
// (explore passes the number a run of the test sends), the sender of that message drops below every
// other node: the preemption PCT bounds. Losses, duplicates and late wake-ups are drawn as
// RandomScheduler draws them. Same seed and depth, same run.
class PctScheduler final : public Scheduler {
 public:
  PctScheduler(std::uint64_t seed, int depth, std::uint64_t steps = 2000);
  Routing route(std::uint32_t from, std::uint32_t to, const LinkFaults& faults) override;
  std::uint64_t tiebreak() override { return 0; }
  core::Duration wake_delay(core::Duration max) override;

 private:
  double priority(std::uint32_t node);
  core::Rng rng_;
  std::vector<double> priority_;        // per node; higher goes first
  std::vector<std::uint64_t> changes_;  // message numbers at which the sender is demoted
  std::uint64_t messages_ = 0;
  double lowest_ = 0;  // below every priority given so far
};

// A sparse list of answers by call number (call, value; sorted): calls not listed answer 0.
class AnswersByCall {
 public:
  explicit AnswersByCall(std::vector<std::pair<std::uint64_t, std::uint64_t>> answers = {})
      : answers_(std::move(answers)) {}
  std::uint64_t next();

 private:
  std::vector<std::pair<std::uint64_t, std::uint64_t>> answers_;
  std::size_t next_answer_ = 0;
  std::uint64_t calls_ = 0;
};

// Replays route decisions in order, and tiebreaks and wake-up delays (ns) by call number; after
// the last route every message is on time; unlisted tiebreaks answer 0, unlisted wake-ups run at
// once. A wake-up delay longer than the world's greatest is cut to it.
class ChoiceScheduler final : public Scheduler {
 public:
  explicit ChoiceScheduler(std::vector<std::string> routes,
                           std::vector<std::pair<std::uint64_t, std::uint64_t>> ties = {},
                           std::vector<std::pair<std::uint64_t, std::uint64_t>> wakes = {})
      : routes_(std::move(routes)), ties_(std::move(ties)), wakes_(std::move(wakes)) {}
  Routing route(std::uint32_t from, std::uint32_t to, const LinkFaults& faults) override;
  std::uint64_t tiebreak() override { return ties_.next(); }
  core::Duration wake_delay(core::Duration max) override;

 private:
  std::vector<std::string> routes_;
  std::size_t next_route_ = 0;
  AnswersByCall ties_;
  AnswersByCall wakes_;
};

// Passes every call to `inner` and writes down what it answered, with the choices offered.
class RecordingScheduler final : public Scheduler {
 public:
  explicit RecordingScheduler(std::shared_ptr<Scheduler> inner) : inner_(std::move(inner)) {}
  Routing route(std::uint32_t from, std::uint32_t to, const LinkFaults& faults) override;
  std::uint64_t tiebreak() override;
  core::Duration wake_delay(core::Duration max) override;
  const std::string& record() const { return record_; }  // the lines, without "world"

 private:
  std::shared_ptr<Scheduler> inner_;
  std::string record_;
  std::uint64_t tiebreaks_ = 0;  // calls so far
  std::uint64_t wakes_ = 0;      // calls so far
};

// The scheduler DSYS_SCHEDULE asks for (see the top of this file), for the `world_index`-th world
// (from 0) the process makes under that DSYS_SCHEDULE. Throws UsageError on a malformed value or
// file.
std::shared_ptr<Scheduler> scheduler_from_env(std::uint64_t seed, bool shuffle_simultaneous,
                                              std::size_t world_index);

}  // namespace dsys::sim
