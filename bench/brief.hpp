// A benchmark's brief run: with DSYS_BENCH_BRIEF=1 in its environment, a benchmark does a small
// fraction of its work, so that CI can run every ./dsys bench on the dev build (sanitizers on)
// in seconds and fail when one breaks (tests/bench/). Its figures then mean nothing.
#pragma once

#include <cstdlib>
#include <cstring>

namespace dsys::bench {

inline bool brief() {
  const char* value = std::getenv("DSYS_BENCH_BRIEF");
  return value != nullptr && *value != '\0' && std::strcmp(value, "0") != 0;
}

// `full`, or `small` in a brief run.
template <typename T>
T full_or_brief(T full, T small) {
  return brief() ? small : full;
}

}  // namespace dsys::bench
