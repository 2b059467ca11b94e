// ./dsys bench diagram, part 1: writes the space-time diagram of a simulated run of at least
// N events (default 100,000): clients calling an echo server over a lossy network, with crashes
// and partitions. bench/diagram_bench.py opens it in headless Chromium and times it.
//
//   bench_diagram OUT.html [EVENTS]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dsys/rpc/endpoint.hpp"
#include "dsys/rpc/wire.hpp"
#include "dsys/sim/world.hpp"
#include "dsys/testing/echo_service.hpp"
#include "dsys/trace/diagram.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: bench_diagram OUT.html [EVENTS]\n");
    return 2;
  }
  const long wanted = argc == 3 ? std::strtol(argv[2], nullptr, 10) : 100000;
  if (wanted < 1 || wanted > 10'000'000) {
    std::fprintf(stderr, "bench_diagram: EVENTS must be from 1 to 10000000\n");
    return 2;
  }
  dsys::sim::World world(
      {.seed = 1,
       .faults = {.drop = 0.02, .duplicate = 0.02, .reorder = 0.02},
       .describe = [](const dsys::core::Bytes& m) { return dsys::rpc::describe(m); }});
  const auto server = world.add_node<dsys::testing::echo::Server>("server");
  for (int c = 0; c < 4; ++c) {
    const auto client = world.add_node(fmt::format("client{}", c));
    dsys::core::Context& ctx = world.context(client);
    ctx.spawn([&ctx, to = world.address(server)]() -> dsys::core::Task<void> {
      dsys::rpc::Client echo(dsys::rpc::Endpoint::of(ctx), to);
      for (int i = 0;; ++i) {
        auto r = co_await echo.call<dsys::testing::echo::Echo>({fmt::format("hello {}", i)}, 2s);
        if (i % 10 == 0) ctx.log("call {}: {}", i, r ? "ok" : to_string(r.error()));
        co_await ctx.sleep_for(std::chrono::milliseconds(ctx.rng().between(1, 5)));
      }
    });
  }
  for (int k = 1; k <= 20; ++k) {  // a crash and a partition now and then
    world.at(dsys::core::Time(std::chrono::seconds(5 * k)), [&world, server] {
      world.crash(server);
      world.after(300ms, [&world, server] { world.restart(server); });
      world.partition({{0, 1, 2}, {3, 4}});
      world.after(500ms, [&world] { world.heal(); });
    });
  }
  while (world.trace().events().size() < static_cast<std::size_t>(wanted) && world.step()) {
  }
  const std::string page = dsys::trace::render_html(
      world.trace(), {.title = "bench_diagram", .failure = "(not a failure: a benchmark)"});
  if (!dsys::trace::write_text_file(argv[1], page)) {
    std::fprintf(stderr, "bench_diagram: cannot write %s\n", argv[1]);
    return 1;
  }
  std::printf("%zu %zu\n", world.trace().events().size(), page.size());
  return 0;
}
