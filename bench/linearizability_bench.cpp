// ./dsys bench linearizability: how long the checker (dsys/testing/linearizability.hpp) takes to
// decide histories of simulated services (tests/lib/histories.hpp), small and large side by
// side: 1,000 and 10,000 operations on 10 and 100 keys, a register per key and a lock per key,
// and 10,000 register operations with one stale read planted (found, and shrunk to a
// counterexample). The median of 5 runs of each.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include <fmt/format.h>

#include "brief.hpp"
#include "dsys/testing/linearizability.hpp"
#include "histories.hpp"

namespace {

using dsys::testing::CheckResult;
using dsys::testing::Operation;

double median_seconds(const std::function<CheckResult()>& check, CheckResult& last) {
  std::vector<double> samples;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    last = check();
    samples.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(samples.begin(), samples.end());
  return samples[2];
}

// The first get of `key` that can be made stale: it returns the value of a put that a later
// completed put overwrote before the get was called.
bool plant_stale_read(std::vector<Operation>& history, const std::string& key) {
  std::vector<Operation*> ops;
  for (Operation& op : history) {
    if (op.key == key && op.response) ops.push_back(&op);
  }
  std::sort(ops.begin(), ops.end(), [](auto* a, auto* b) { return a->call < b->call; });
  for (Operation* get : ops) {
    if (get->action != "get") continue;
    for (Operation* newer : ops) {
      if (newer->action != "put" || !(*newer->response < get->call)) continue;
      for (Operation* older : ops) {
        if (older->action == "put" && *older->response < newer->call &&
            *get->result != older->argument) {
          get->result = older->argument;
          return true;
        }
      }
    }
  }
  return false;
}

}  // namespace

int main() {
  namespace h = dsys::testing::histories;
  std::printf("linearizability checker: median of 5, seconds\n");
  std::printf("%-44s %8s %6s %9s %s\n", "history", "ops", "keys", "seconds", "verdict");
  double small_time = 0;
  const auto row = [&](const char* what, const dsys::testing::Model& model,
                       const std::vector<Operation>& history) {
    CheckResult result;
    const double s = median_seconds([&] { return check_linearizable(model, history); }, result);
    std::printf(
        "%-44s %8zu %6zu %9.4f %s%s\n", what, result.operations, result.keys, s,
        result.timed_out      ? "undecided"
        : result.linearizable ? "linearizable"
                              : "not linearizable",
        result.linearizable
            ? ""
            : fmt::format(", counterexample of {} ops", result.counterexample.size()).c_str());
    return s;
  };
  const int per_key = dsys::bench::full_or_brief(100, 10);  // operations on each key
  small_time =
      row("registers", dsys::testing::register_model(), h::simulated_registers(1, 10, per_key, 5));
  const double large =
      row("registers", dsys::testing::register_model(), h::simulated_registers(1, 100, per_key, 5));
  const double small_locks =
      row("locks", dsys::testing::lock_model(), h::simulated_locks(2, 10, per_key, 5));
  const double large_locks =
      row("locks", dsys::testing::lock_model(), h::simulated_locks(2, 100, per_key, 5));
  auto stale = h::simulated_registers(3, 100, per_key, 5);
  if (!plant_stale_read(stale, "r42")) {
    std::fprintf(stderr, "bench_linearizability: no read to make stale\n");
    return 1;
  }
  const double broken =
      row("registers, one stale read planted", dsys::testing::register_model(), stale);
  std::printf(
      "ratios, 10,000 / 1,000 operations: registers %.1fx, locks %.1fx; a stale read "
      "found and shrunk: %.1fx a linearizable check\n",
      large / small_time, large_locks / small_locks, broken / large);
  std::printf("target: 10,000 operations on 100 keys decided in at most 10 s (%s)\n",
              large <= 10 && large_locks <= 10 ? "met" : "NOT met");
  return 0;
}
