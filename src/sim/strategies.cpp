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
      if (word.front() != ',') return false;
      word.remove_prefix(1);
    }
  }
  return word.empty() && r.copies > 0;
}

PctScheduler::PctScheduler(std::uint64_t seed, int depth, std::uint64_t steps) : rng_(seed) {
  for (int i = 1; i < depth; ++i)
    changes_.push_back(1 + rng_.below(std::max<std::uint64_t>(1, steps)));
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

Routing RecordingScheduler::route(std::uint32_t from, std::uint32_t to, const LinkFaults& faults) {
  const Routing r = inner_->route(from, to, faults);
  record_ += fmt::format("route {} {}\n", encode_routing(r), choices_of(faults));
  return r;
}

std::uint64_t RecordingScheduler::tiebreak() {
  const std::uint64_t t = inner_->tiebreak();
  if (t != 0) record_ += fmt::format("tiebreak {}\n", t);
  return t;
}

std::shared_ptr<Scheduler> scheduler_from_env(std::uint64_t seed, bool shuffle_simultaneous,
                                              std::size_t world_index) {
  const char* env = std::getenv("DSYS_SCHEDULE");
  const std::string_view spec = env != nullptr ? env : "";
  if (spec.empty() || spec == "random") {
    return std::make_shared<RandomScheduler>(seed, shuffle_simultaneous);
  }
  if (spec.starts_with("pct:")) {
    int depth = 0;
    const std::string_view d = spec.substr(4);
    auto [end, ec] = std::from_chars(d.data(), d.data() + d.size(), depth);
    if (ec != std::errc() || end != d.data() + d.size() || depth < 1 || depth > 1000) {
      throw UsageError(fmt::format("DSYS_SCHEDULE={}: pct:D wants a depth D from 1 to 1000", spec));
    }
    return std::make_shared<PctScheduler>(seed, depth);
  }
  if (spec.starts_with("choices:")) {
    const std::string path(spec.substr(8));
    std::ifstream in(path);
    if (!in) throw UsageError(fmt::format("DSYS_SCHEDULE: cannot read the choices file {}", path));
    std::vector<std::string> routes;
    std::vector<std::uint64_t> ties;
    std::size_t world = 0;  // worlds started so far in the file
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      std::string what, value;
      words >> what >> value;
      if (what == "world") {
        ++world;
      } else if (world == world_index + 1 && what == "route") {
        routes.push_back(value);
      } else if (world == world_index + 1 && what == "tiebreak") {
        ties.push_back(std::strtoull(value.c_str(), nullptr, 10));
      } else if (!what.empty() && what != "route" && what != "tiebreak" && what[0] != '#') {
        throw UsageError(fmt::format("DSYS_SCHEDULE: {}: '{}' is not a record line", path, line));
      }
    }
    if (world == 0) {  // a file of decisions alone: the first world's
      in.clear();
      in.seekg(0);
      for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string what, value;
        words >> what >> value;
        if (what == "route" && world_index == 0) routes.push_back(value);
      }
    }
    return std::make_shared<ChoiceScheduler>(std::move(routes), std::move(ties));
  }
  throw UsageError(
      fmt::format("DSYS_SCHEDULE={}: not a strategy (random, pct:D, choices:FILE)", spec));
}

}  // namespace dsys::sim
