#include "dsys/testing/lab.hpp"

#include "dsys/rpc/wire.hpp"

namespace dsys::testing {

namespace {
sim::World* g_world = nullptr;
std::uint64_t g_seed = 0;
bool g_seed_used = false;

sim::Options with_env_seed(sim::Options options) {
  options.seed = seed(options.seed);
  if (!options.describe) options.describe = [](const core::Bytes& m) { return rpc::describe(m); };
  return options;
}
}  // namespace

std::uint64_t seed(std::uint64_t fallback) {
  g_seed = sim::seed_from_env(fallback);
  g_seed_used = true;
  return g_seed;
}

TestWorld::TestWorld(sim::Options options) : sim::World(with_env_seed(std::move(options))) {
  g_world = this;
}

TestWorld::~TestWorld() {
  if (g_world == this) g_world = nullptr;
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
}

}  // namespace dsys::testing
