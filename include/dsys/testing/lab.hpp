// dsys/testing/lab.hpp: what lab tests share.
//
// Points and time limits are declared beside each test case, as Catch2 tags:
//
//   TEST_CASE("a duplicated acquire is never granted twice", "[lab1][points:10][timeout:60]")
//
// The grader (./dsys grade) reads them with `<tests> --dsys-list` and runs each test in its own
// process. A TestWorld is a simulated World that takes DSYS_SEED when it is set, and on the
// first failed assertion the test prints that assertion in full, how to replay it and where the
// world's trace is (tests/lab_main.cpp).
//
// Enums print by name in failed assertions (`done == forgotten`, not `2 == 3`) when a
// `to_string(E)` is found for them by argument-dependent lookup, i.e. declared in the enum's own
// namespace, returning something a std::string_view can be made of:
//
//   enum class Status : std::uint8_t { ok, not_held };
//   constexpr std::string_view to_string(Status s);
#pragma once

#include <catch2/catch.hpp>

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "dsys/sim/world.hpp"

namespace dsys::testing {

// DSYS_SEED when set (a replay), else `fallback`; remembered for the failure report.
std::uint64_t seed(std::uint64_t fallback);

// The slowed variant (DSYS_SLOW_REPLIES=1, as `tools/sweep.py --slow` runs the graded tests): every
// RPC reply in a TestWorld is held back a further seeded 1-50 ms (sim::Options::hold_back), as if
// every service were slower. A graded test must pass so too: it may not depend on how fast the
// code under test is (only the performance tests whose bound the handout states may).
bool slowed_replies();

class TestWorld : public sim::World {
 public:
  // As sim::World, with options.seed replaced by DSYS_SEED when it is set; with
  // DSYS_SLOW_REPLIES=1, replies held back (above) unless options.hold_back is set already.
  explicit TestWorld(sim::Options options);
  // When the world dies of an exception (a RunFailure, a failed REQUIRE), its trace is written
  // first, so that the failure report can name it.
  ~TestWorld();
  TestWorld(const TestWorld&) = delete;
  TestWorld& operator=(const TestWorld&) = delete;
};

// For the test main: the world of the running test (or null), and the last seed used.
sim::World* current_world();
std::uint64_t last_seed();
bool seed_used();
void reset_test_state();
// What the failure report says of the trace of the running test's simulated world (the live
// one, else the last one destroyed by an exception): the path it was written to, "none (tracing
// is off in this test)", or "" when the test made no world (or its world ended without failing).
// The live world's diagram (sim::diagram_path) shows `failure`, the failed assertion.
std::string trace_for_report(std::string_view failure);

}  // namespace dsys::testing

namespace dsys_enum_names {
// Hides every `to_string` of enclosing namespaces (Catch has a template that takes anything):
// the only candidates left are those that argument-dependent lookup finds beside the enum.
void to_string() = delete;

template <class E>
concept NamedEnum = std::is_enum_v<E> && requires(E e) {
  { to_string(e) } -> std::convertible_to<std::string_view>;
};

template <NamedEnum E>
std::string name_of(E e) {
  return std::string(std::string_view(to_string(e)));
}
}  // namespace dsys_enum_names

namespace Catch {
// Every enum with a to_string() prints by name in assertions.
template <class E>
requires dsys_enum_names::NamedEnum<E>
struct StringMaker<E> {
  static std::string convert(E e) { return dsys_enum_names::name_of(e); }
};
}  // namespace Catch
