// Linearizable histories of simulated services, many operations long: for the checker's tests
// (tests/lib/linearizability_test.cpp) and its benchmark (bench/linearizability_bench.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "dsys/core/rng.hpp"
#include "dsys/testing/linearizability.hpp"

namespace dsys::testing::histories {

using Time = core::Time;

inline std::int64_t ns(Time t) {
  return t.time_since_epoch().count();
}

// Each operation of a simulated key: the client, and the instant its effect really happened
// (strictly increasing, so results follow from applying operations in that order).
struct Timing {
  Time call, effect, response;
};

// Picks a client of `clients` that may start an operation, and times it: the effect comes after
// the previous operation's effect and after the client's previous response; the call comes up to
// `max_wait` before the effect (no earlier than the client's previous response).
inline Timing next_timing(dsys::core::Rng& rng, std::vector<std::int64_t>& free_at,
                          std::int64_t& now, std::size_t client, std::int64_t max_wait) {
  const std::int64_t effect = std::max(now, free_at[client]) + rng.between(1, 1'000'000);
  const std::int64_t call = std::max(free_at[client] + 1, effect - rng.between(0, max_wait));
  const std::int64_t response = effect + rng.between(1, 2'000'000);
  free_at[client] = response;
  now = effect;
  return {Time{std::chrono::nanoseconds(call)}, Time{std::chrono::nanoseconds(effect)},
          Time{std::chrono::nanoseconds(response)}};
}

// A seeded simulation of a real register per key: `clients` clients per key put unique values and
// get, with overlapping calls; about one operation in a hundred never hears back (and took effect
// or not, at random). Linearizable by construction. Shuffled, so the checker cannot lean on order.
inline std::vector<Operation> simulated_registers(std::uint64_t seed, int keys, int ops_per_key,
                                                  std::size_t clients) {
  dsys::core::Rng rng(seed);
  std::vector<Operation> history;
  int next_value = 0;
  for (int k = 0; k < keys; ++k) {
    const std::string key = fmt::format("r{}", k);
    std::vector<std::int64_t> free_at(clients, 0);
    std::int64_t now = 0;
    std::string value;
    for (int i = 0; i < ops_per_key; ++i) {
      const std::size_t c = rng.below(clients);
      const Timing t = next_timing(rng, free_at, now, c, 3'000'000);
      Operation op{static_cast<std::uint32_t>(k * clients + c),
                   key,
                   "get",
                   "",
                   t.call,
                   t.response,
                   std::nullopt};
      const bool lost = rng.chance(0.01);
      if (rng.chance(0.5)) {
        op.action = "put";
        op.argument = fmt::format("v{}", next_value++);
        if (!lost || rng.chance(0.5)) value = op.argument;
        op.result = "ok";
      } else {
        op.result = value;
      }
      if (lost) op.response.reset(), op.result.reset();
      history.push_back(std::move(op));
    }
  }
  for (std::size_t i = history.size(); i > 1; --i) std::swap(history[i - 1], history[rng.below(i)]);
  return history;
}

// A seeded simulation of a real lock server per key: acquires wait (their calls start well before
// the grant) and some releases come from clients that do not hold the lock ("not_held").
inline std::vector<Operation> simulated_locks(std::uint64_t seed, int keys, int ops_per_key,
                                              std::size_t clients) {
  dsys::core::Rng rng(seed);
  std::vector<Operation> history;
  for (int k = 0; k < keys; ++k) {
    const std::string key = fmt::format("l{}", k);
    std::vector<std::int64_t> free_at(clients, 0);
    std::int64_t now = 0;
    std::optional<std::size_t> holder;
    for (int i = 0; i < ops_per_key; ++i) {
      std::size_t c = rng.below(clients);
      std::string action = "release", result = "ok";
      if (!holder) {
        if (rng.chance(0.1))
          result = "not_held";
        else
          action = "acquire", holder = c;
      } else if (*holder != c) {
        if (rng.chance(0.2))
          result = "not_held";
        else
          c = *holder, holder.reset();
      } else {
        holder.reset();
      }
      const Timing t =
          next_timing(rng, free_at, now, c, action == "acquire" ? 20'000'000 : 500'000);
      history.push_back({static_cast<std::uint32_t>(k * clients + c), key, action, "", t.call,
                         t.response, result});
    }
  }
  for (std::size_t i = history.size(); i > 1; --i) std::swap(history[i - 1], history[rng.below(i)]);
  return history;
}

}  // namespace dsys::testing::histories
