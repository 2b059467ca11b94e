// A lab test program that misbehaves on purpose, to prove the grader survives it and shows each
// failure's cause: tests pass (and print figures), fail (an assertion buried under later output,
// enums, messages, a run that breaks an invariant with and without tracing), crash, hang past
// their limit, hit a stub, lose a child process, skip itself. The grader must report every one
// (tests/grader/check_grader.py).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string_view>

#include "dsys/core/error.hpp"
#include "dsys/testing/lab.hpp"

namespace fixture {
enum class Colour : std::uint8_t { red, green, blue };
constexpr std::string_view to_string(Colour c) {
  switch (c) {
    case Colour::red:
      return "red";
    case Colour::green:
      return "green";
    case Colour::blue:
      return "blue";
  }
  return "?";
}
}  // namespace fixture

// With FIXTURE_SKIP set, it skips itself as a test that cannot run here does
// (testing::skip_without_fuse): the grader must give it no points and not call it failed.
// Otherwise it prints a figure, as lab 5's test of its RPC counts does, which the grader shows
// under its row, and a line that is not one, which it does not; FIXTURE_FIGURES=N: N figures,
// more than the grader shows.
TEST_CASE("fixture: passes", "[fixture][points:3]") {
  if (std::getenv("FIXTURE_SKIP") != nullptr) {
    std::cout << "dsys: skipped: FIXTURE_SKIP is set" << std::endl;
    SUCCEED("skipped");
    return;
  }
  CHECK(1 + 1 == 2);
  // The grader takes QuickFeed's session secret out of the environment before any test runs: a
  // test (and the student code it runs) must never see it.
  CHECK(std::getenv("QUICKFEED_SESSION_SECRET") == nullptr);
  std::cout << "chatter that is not a figure\n";
  std::cout << "dsys: fixture RPCs: plan 40, made 4 (10.0x fewer)" << std::endl;
  const char* wanted = std::getenv("FIXTURE_FIGURES");
  const long figures = wanted != nullptr ? std::strtol(wanted, nullptr, 10) : 1;
  for (long i = 2; i <= figures; ++i) {
    std::cout << "dsys: fixture figure " << i << " of " << figures << std::endl;
  }
}

TEST_CASE("fixture: fails an assertion, with a seed", "[fixture][points:2]") {
  dsys::testing::TestWorld world({.seed = 77, .label = "fixture-seeded"});
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

// The first failure, then much more output: the grader must still show that first failure.
TEST_CASE("fixture: compares enums, with messages, then talks a lot", "[fixture][points:1]") {
  const fixture::Colour seen = fixture::Colour::red;
  INFO("the colour the test saw");
  UNSCOPED_INFO("a second message");
  CHECK(seen == fixture::Colour::blue);  // fails: "red == blue"
  for (int i = 0; i < 400; ++i) std::cout << "later output line " << i << "\n";
  CHECK(seen == fixture::Colour::green);  // fails too, but is not the first
}

// What testing::Process prints when a child process of a test dies.
TEST_CASE("fixture: a child process dies", "[fixture][points:1]") {
  std::cerr << "dsys: child process lock_server exited: unimplemented: ReplyWindow::admit\n";
  const int status = 1;
  CHECK(status == 0);
}

TEST_CASE("fixture: a run breaks an invariant", "[fixture][points:1]") {
  dsys::testing::TestWorld world({.seed = 78, .label = "fixture-invariant"});
  world.add_invariant("never", [] { return std::string("broken on purpose"); });
  world.after(std::chrono::milliseconds(1), [] {});
  world.run_for(std::chrono::milliseconds(10));  // throws sim::RunFailure
}

TEST_CASE("fixture: a run breaks an invariant, tracing off", "[fixture][points:1]") {
  dsys::testing::TestWorld world({.seed = 79, .trace = false, .label = "fixture-untraced"});
  world.add_invariant("never", [] { return std::string("broken on purpose"); });
  world.after(std::chrono::milliseconds(1), [] {});
  world.run_for(std::chrono::milliseconds(10));  // throws sim::RunFailure
}
