// A lab test program that misbehaves on purpose, to prove the grader survives it: one test
// passes, one fails, one crashes, one hangs past its limit, one hits a stub. The grader must
// still report every one of them (tests/grader/check_grader.py).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>

#include "dsys/core/error.hpp"
#include "dsys/testing/lab.hpp"

TEST_CASE("fixture: passes", "[fixture][points:3]") {
  CHECK(1 + 1 == 2);
}

TEST_CASE("fixture: fails an assertion, with a seed", "[fixture][points:2]") {
  dsys::testing::TestWorld world({.seed = 77});
  CHECK(world.seed() == 1234567);  // fails
}

TEST_CASE("fixture: crashes", "[fixture][points:4]") {
  std::abort();
}

TEST_CASE("fixture: hangs", "[fixture][points:1][timeout:2]") {
  while (true) ::pause();  // blocks until killed by the grader
}

TEST_CASE("fixture: reaches a stub", "[fixture][points:5]") {
  dsys::unimplemented("Fixture::method");
}

TEST_CASE("fixture: not graded", "[fixture]") {
  CHECK(false);
}
