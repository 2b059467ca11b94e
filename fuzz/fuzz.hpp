// dsys/fuzz: the entry points shared by the libFuzzer targets (the `fuzz` preset, clang) and
// the replay programs of the normal build (g++, a ctest), so that the targets never rot.
//
// Each target file defines LLVMFuzzerTestOneInput, which must return 0 for every input, and
// calls fuzz::check() on what must hold; a failed check aborts, which both libFuzzer and ctest
// report. Each also says how to write its seed corpus (fuzz/corpus/<target>/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace dsys::fuzz {

// Aborts with `what` when `ok` is false.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz check failed: %s\n", what);
    std::abort();
  }
}

// The target's seeds: (file name, bytes) pairs, valid inputs of every shape it knows.
std::vector<std::pair<std::string, std::string>> seeds();

}  // namespace dsys::fuzz
