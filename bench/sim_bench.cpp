// ./dsys bench sim: simulated message deliveries per second on one core, for raw messages
// between nodes and for null RPCs, with the trace off (as in long explorations) and on.
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "brief.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "dsys/sim/world.hpp"
#include "dsys/testing/echo_service.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using dsys::core::Address;
using dsys::core::Bytes;
using dsys::core::Context;
using dsys::core::Task;
namespace echo = dsys::testing::echo;

namespace {

// Bounces every message back to its sender.
struct Bouncer final : dsys::core::Receiver {
  explicit Bouncer(Context& ctx) : ctx(ctx) { ctx.set_receiver(this); }
  void on_message(Address from, Bytes message) override { ctx.send(from, std::move(message)); }
  void on_unreachable(Address) override {}
  Context& ctx;
};

struct Result {
  double deliveries_per_second;
  std::uint64_t deliveries;
};

Result raw_messages(bool trace, int pairs, std::uint64_t target) {
  dsys::sim::World world({.seed = 1, .trace = trace});
  for (int i = 0; i < pairs; ++i) {
    auto a = world.add_node<Bouncer>(fmt::format("a{}", i));
    auto b = world.add_node<Bouncer>(fmt::format("b{}", i));
    world.context(a).send(world.address(b), Bytes(32, 'x'));
  }
  const auto start = Clock::now();
  world.run_until([&] { return world.deliveries() >= target; }, 24h);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return {world.deliveries() / seconds, world.deliveries()};
}

Result null_rpcs(bool trace, int clients, std::uint64_t calls_each) {
  dsys::sim::World world({.seed = 1, .trace = trace});
  auto server = world.add_node<echo::Server>("server");
  for (int i = 0; i < clients; ++i) {
    auto node = world.add_node(fmt::format("client{}", i));
    Context& ctx = world.context(node);
    ctx.spawn([&ctx, calls_each, to = world.address(server)]() -> Task<void> {
      dsys::rpc::Endpoint& endpoint = dsys::rpc::Endpoint::of(ctx);
      dsys::rpc::Client client(endpoint, to);
      for (std::uint64_t k = 0; k < calls_each; ++k) (void)co_await client.call<echo::Null>({}, 1s);
    });
  }
  const auto start = Clock::now();
  world.run_until_idle(24h);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return {world.deliveries() / seconds, world.deliveries()};
}

}  // namespace

int main() {
  fmt::print("simulated deliveries per second, one core\n");
  fmt::print("{:<40} {:>12} {:>16}\n", "workload", "deliveries", "deliveries/s");
  auto row = [](const char* name, Result r) {
    fmt::print("{:<40} {:>12} {:>16.0f}\n", name, r.deliveries, r.deliveries_per_second);
  };
  using dsys::bench::full_or_brief;
  row("raw messages, 8 ping-pong pairs, no trace",
      raw_messages(false, 8, full_or_brief<std::uint64_t>(4'000'000, 4'000)));
  row("raw messages, 8 ping-pong pairs, trace",
      raw_messages(true, 8, full_or_brief<std::uint64_t>(2'000'000, 2'000)));
  row("null RPCs, 8 clients, no trace",
      null_rpcs(false, 8, full_or_brief<std::uint64_t>(100'000, 100)));
  row("null RPCs, 8 clients, trace", null_rpcs(true, 8, full_or_brief<std::uint64_t>(50'000, 50)));
  return 0;
}
