#include "dsys/sim/strategies.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "dsys/core/error.hpp"

namespace dsys::sim {

namespace {

bool may_be_late(const LinkFaults& faults) {
  return faults.max_delay > faults.min_delay || faults.reorder > 0;
}

// The greatest delay a link gives: held back, when it may reorder.
void make_late(const LinkFaults& faults, Routing& r, int copy) {
  r.delay[copy] = faults.max_delay;
  if (faults.reorder > 0) {
    r.delay[copy] += faults.reorder_delay;
    r.reordered[copy] = true;
  }
}

}  // namespace

std::string encode_routing(const Routing& r) {
  if (r.copies == 0) return "x";
  std::string out;
  for (int i = 0; i < r.copies; ++i) {
    out += fmt::format("{}={}{}", i > 0 ? "," : "", r.delay[i].count(), r.reordered[i] ? "r" : "");
  }
  return out;
}

namespace {

bool same_routing(const Routing& a, const Routing& b) {
  if (a.copies != b.copies) return false;
  for (int i = 0; i < a.copies; ++i) {
    if (a.delay[i] != b.delay[i] || a.reordered[i] != b.reordered[i]) return false;
  }
  return true;
}

}  // namespace

std::string encode_routing(const Routing& r, const LinkFaults& faults) {
  for (const char* word : {"o", "l", "x", "d"}) {
    Routing named;
    decode_routing(word, faults, named);
    if (same_routing(named, r)) return word;
  }
  return encode_routing(r);
}

std::string choices_of(const LinkFaults& faults) {
  std::string out = "o";
  if (may_be_late(faults)) out += 'l';
  if (faults.drop > 0) out += 'x';
  if (faults.duplicate > 0) out += 'd';
  return out;
}

bool decode_routing(std::string_view word, const LinkFaults& faults, Routing& r) {
  r = Routing{};
  r.delay[0] = r.delay[1] = faults.min_delay;
  if (word == "o") return true;
  if (word == "l") {
    make_late(faults, r, 0);
    return true;
  }
  if (word == "x") {
    r.copies = 0;
    return true;
  }
  if (word == "d") {
    r.copies = 2;
    make_late(faults, r, 1);
    return true;
  }
  // Exact: "=N[r]" or "=N[r],=M[r]".
  r.copies = 0;
  while (!word.empty() && r.copies < 2) {
    if (word.front() != '=') return false;
    word.remove_prefix(1);
    long long ns = 0;
    auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), ns);
    if (ec != std::errc() || ns < 0) return false;
    word.remove_prefix(static_cast<std::size_t>(end - word.data()));
    r.delay[r.copies] = core::Duration(ns);
    if (!word.empty() && word.front() == 'r') {
      r.reordered[r.copies] = true;
      word.remove_prefix(1);
    }
    ++r.copies;
    if (!word.empty()) {
      if (word.front() != ',' || word.size() == 1) return false;  // a copy after every comma
      word.remove_prefix(1);
    }
  }
  return word.empty() && r.copies > 0;
}

PctScheduler::PctScheduler(std::uint64_t seed, int depth, std::uint64_t steps) : rng_(seed) {
  // depth - 1 distinct change points among messages 1..steps (fewer when there are fewer steps).
  const std::uint64_t points = std::min<std::uint64_t>(
      static_cast<std::uint64_t>(std::max(depth - 1, 0)), std::max<std::uint64_t>(steps, 1));
  while (changes_.size() < points) {
    const std::uint64_t at = 1 + rng_.below(std::max<std::uint64_t>(1, steps));
    if (std::find(changes_.begin(), changes_.end(), at) == changes_.end()) changes_.push_back(at);
  }
  std::sort(changes_.begin(), changes_.end());
}

double PctScheduler::priority(std::uint32_t node) {
  while (priority_.size() <= node) {
    // A new node gets a random priority in (0, 1); demoted nodes go below 0.
    priority_.push_back(static_cast<double>(1 + rng_.below(1'000'000)) / 1'000'001.0);
  }
  return priority_[node];
}

Routing PctScheduler::route(std::uint32_t from, std::uint32_t to, const LinkFaults& faults) {
  ++messages_;
  priority(std::max(from, to));
  if (std::binary_search(changes_.begin(), changes_.end(), messages_)) {
    lowest_ -= 1;
    priority_[from] = lowest_;
  }
  Routing r;
  if (rng_.chance(faults.drop)) {
    r.copies = 0;
    return r;
  }
  r.copies = rng_.chance(faults.duplicate) ? 2 : 1;
  // The sender's rank among the nodes (0: the highest) sets where in the link's delays it falls.
  const double mine = priority_[from];
  std::size_t above = 0;
  for (double p : priority_) above += p > mine ? 1 : 0;
  const double place = priority_.size() > 1
                           ? static_cast<double>(above) / static_cast<double>(priority_.size() - 1)
                           : 0.0;
  const auto span = (faults.max_delay - faults.min_delay).count();
  for (int i = 0; i < r.copies; ++i) {
    r.delay[i] = faults.min_delay +
                 core::Duration(static_cast<std::int64_t>(place * static_cast<double>(span)));
    if (mine < 0 && faults.reorder > 0) {  // demoted: held back, overtaken by what follows
      r.delay[i] += faults.reorder_delay;
      r.reordered[i] = true;
    }
  }
  if (r.copies == 2) make_late(faults, r, 1);
  return r;
}

Routing ChoiceScheduler::route(std::uint32_t, std::uint32_t, const LinkFaults& faults) {
  Routing r;
  if (next_route_ >= routes_.size()) {
    decode_routing("o", faults, r);
    return r;
  }
  const std::string& word = routes_[next_route_++];
  if (!decode_routing(word, faults, r)) {
    throw UsageError(
        fmt::format("DSYS_SCHEDULE: '{}' is not a route decision (o, l, x, d, =NS)", word));
  }
  return r;
}

std::uint64_t AnswersByCall::next() {
  const std::uint64_t call = calls_++;
  while (next_answer_ < answers_.size() && answers_[next_answer_].first < call) ++next_answer_;
  return next_answer_ < answers_.size() && answers_[next_answer_].first == call
             ? answers_[next_answer_].second
             : 0;
}

core::Duration ChoiceScheduler::wake_delay(core::Duration max) {
  const std::uint64_t ns = wakes_.next();
  return ns >= static_cast<std::uint64_t>(max.count())
             ? max
             : core::Duration(static_cast<std::int64_t>(ns));
}

core::Duration PctScheduler::wake_delay(core::Duration max) {
  if (!rng_.chance(kDelayedWakeShare)) return {};
  return core::Duration(rng_.between(1, max.count()));
}

Routing RecordingScheduler::route(std::uint32_t from, std::uint32_t to, const LinkFaults& faults) {
  const Routing r = inner_->route(from, to, faults);
  record_ += fmt::format("route {} {}\n", encode_routing(r, faults), choices_of(faults));
  return r;
}

std::uint64_t RecordingScheduler::tiebreak() {
  const std::uint64_t call = tiebreaks_++;
  const std::uint64_t t = inner_->tiebreak();
  if (t != 0) record_ += fmt::format("tiebreak {} {}\n", call, t);
  return t;
}

core::Duration RecordingScheduler::wake_delay(core::Duration max) {
  const std::uint64_t call = wakes_++;
  const core::Duration d = inner_->wake_delay(max);
  if (d.count() != 0) record_ += fmt::format("wake {} {}\n", call, d.count());
  return d;
}

namespace {

// A word of a choices file: a route decision as decode_routing reads it (for some link).
bool is_route_word(std::string_view word) {
  Routing r;
  return decode_routing(word, LinkFaults{}, r);
}

bool parse_number(std::string_view text, std::uint64_t& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// The decisions a choices file holds for the `world_index`-th world. A file without "world"
// lines is the first world's decisions; "world K" names the world its lines are for, a bare
// "world" the one after the previous. Every line is checked, whichever world it is for.
std::shared_ptr<Scheduler> choices_from_file(const std::string& path, std::size_t world_index) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("DSYS_SCHEDULE: cannot read the choices file {}", path));
  std::vector<std::string> routes;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ties, wakes;
  std::uint64_t world = 0;  // the world the lines are for
  bool any_world_line = false;
  int number = 0;
  const auto refuse = [&](const std::string& line, std::string_view why) {
    throw UsageError(fmt::format("DSYS_SCHEDULE: {} line {}: '{}' {}", path, number, line, why));
  };
  for (std::string line; std::getline(in, line);) {
    ++number;
    std::istringstream words(line);
    std::string what, first, second, extra;
    words >> what >> first >> second >> extra;
    if (what.empty() || what[0] == '#') continue;
    if (what == "world") {
      if (!extra.empty() || !second.empty()) refuse(line, "is not 'world' or 'world K'");
      std::uint64_t k = any_world_line ? world + 1 : 0;
      if (!first.empty() && !parse_number(first, k)) refuse(line, "names no world number");
      world = k;
      any_world_line = true;
    } else if (what == "route") {
      if (!is_route_word(first)) {
        refuse(line,
               fmt::format("holds '{}', which is not a route decision (o, l, x, d, =NS)", first));
      }
      if (!extra.empty()) refuse(line, "has more than a decision and the choices offered");
      if (world == world_index) routes.push_back(first);
    } else if (what == "tiebreak" || what == "wake") {
      std::uint64_t call = 0, value = 0;
      if (!parse_number(first, call) || !parse_number(second, value) || !extra.empty()) {
        refuse(line, what == "wake" ? "is not 'wake CALL NS'" : "is not 'tiebreak CALL VALUE'");
      }
      if (world == world_index) (what == "wake" ? wakes : ties).emplace_back(call, value);
    } else {
      refuse(line, "is not a record line (world, route, tiebreak, wake, # comment)");
    }
  }
  std::sort(ties.begin(), ties.end());
  std::sort(wakes.begin(), wakes.end());
  return std::make_shared<ChoiceScheduler>(std::move(routes), std::move(ties), std::move(wakes));
}

}  // namespace

std::shared_ptr<Scheduler> scheduler_from_env(std::uint64_t seed, bool shuffle_simultaneous,
                                              std::size_t world_index) {
  const char* env = std::getenv("DSYS_SCHEDULE");
  const std::string_view spec = env != nullptr ? env : "";
  if (spec.empty() || spec == "random") {
    return std::make_shared<RandomScheduler>(seed, shuffle_simultaneous);
  }
  if (spec.starts_with("pct:")) {
    // pct:D or pct:D:STEPS (the change points fall among the first STEPS messages; 2000).
    const std::string_view rest = spec.substr(4);
    const std::size_t colon = rest.find(':');
    std::uint64_t depth = 0, steps = 2000;
    if (!parse_number(rest.substr(0, colon), depth) || depth < 1 || depth > 1000 ||
        (colon != std::string_view::npos &&
         (!parse_number(rest.substr(colon + 1), steps) || steps < 1))) {
      throw UsageError(fmt::format(
          "DSYS_SCHEDULE={}: pct:D[:STEPS] wants a depth D from 1 to 1000 (and STEPS >= 1)", spec));
    }
    return std::make_shared<PctScheduler>(seed, static_cast<int>(depth), steps);
  }
  if (spec.starts_with("choices:"))
    return choices_from_file(std::string(spec.substr(8)), world_index);
  throw UsageError(
      fmt::format("DSYS_SCHEDULE={}: not a strategy (random, pct:D, choices:FILE)", spec));
}

}  // namespace dsys::sim
