#include "dsys/testing/lab.hpp"

#include <cstdlib>
#include <exception>
#include <string_view>

#include "dsys/rpc/wire.hpp"

namespace dsys::testing {

namespace {
constexpr const char* kTracingOff = "none (tracing is off in this test)";

sim::World* g_world = nullptr;
std::uint64_t g_seed = 0;
bool g_seed_used = false;
// What the failure report says of the trace of the last world that died of an exception.
std::string g_dead_world_trace;
// The world whose trace the failure report has written (its destructor need not again).
const sim::World* g_reported_world = nullptr;

sim::Options with_env_seed(sim::Options options) {
  options.seed = seed(options.seed);
  if (!options.describe) options.describe = [](const core::Bytes& m) { return rpc::describe(m); };
  if (!options.hold_back && slowed_replies()) {
    options.hold_back = [](const core::Bytes& m) {
      const auto header = rpc::read_header(m);
      return header && header->kind == rpc::Kind::reply;
    };
  }
  return options;
}
}  // namespace

bool slowed_replies() {
  const char* slow = std::getenv("DSYS_SLOW_REPLIES");
  return slow != nullptr && std::string_view(slow) != "" && std::string_view(slow) != "0";
}

std::uint64_t seed(std::uint64_t fallback) {
  g_seed = sim::seed_from_env(fallback);
  g_seed_used = true;
  return g_seed;
}

TestWorld::TestWorld(sim::Options options) : sim::World(with_env_seed(std::move(options))) {
  g_world = this;
}

TestWorld::~TestWorld() {
  if (std::uncaught_exceptions() > 0 && g_reported_world != this) {
    // The test is failing: a RunFailure from this world (which wrote the trace already; writing
    // it again gives the same file), or an exception of the test's own. The report comes after
    // the world is gone, so it is written now.
    try {
      g_dead_world_trace =
          trace().enabled()
              ? write_trace("the test failed: an exception ended it while this world was running")
              : kTracingOff;
    } catch (...) {
      g_dead_world_trace.clear();
    }
  }
  if (g_world == this) g_world = nullptr;
  if (g_reported_world == this) g_reported_world = nullptr;
}

sim::World* current_world() {
  return g_world;
}
std::uint64_t last_seed() {
  return g_seed;
}
bool seed_used() {
  return g_seed_used;
}
void reset_test_state() {
  g_world = nullptr;
  g_seed_used = false;
  g_dead_world_trace.clear();
  g_reported_world = nullptr;
}

std::string trace_for_report(std::string_view failure) {
  if (g_world == nullptr) return g_dead_world_trace;
  g_reported_world = g_world;
  return g_world->trace().enabled() ? g_world->write_trace(failure) : kTracingOff;
}

}  // namespace dsys::testing
