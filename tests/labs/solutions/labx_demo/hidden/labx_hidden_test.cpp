// The demo lab's hidden test: an instructor's test that students do not have. It lives beside
// the reference (solutions/<lab dir>/hidden/, never copied into labs/), is built into a test
// program of its own (labx_hidden_tests) and runs with `./dsys grade labx --hidden` and in the
// autograder, where Gradescope shows it after the due date. tests/labs/check_bases.py and
// tests/instructor/check_autograder.py check that it is graded so.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "dsys/testing/lab.hpp"
#include "lock_server.hpp"  // lab 1's, from the base this lab is built on
#include "locked_counter.hpp"

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Task;
using dsys::labx::LockClient;
using dsys::labx::LockedCounter;
using dsys::lock::Status;
using dsys::testing::TestWorld;

TEST_CASE("LockedCounter::add keeps two counters on two locks apart",
          "[labx][points:5][timeout:60]") {
  TestWorld world({.seed = 903, .label = "labx-hidden"});
  auto server = world.add_node("lock_server", [](Context& ctx) {
    return std::static_pointer_cast<void>(std::make_shared<dsys::lab1::LockServer>(ctx));
  });
  int first = 0;
  int second = 0;
  int finished = 0;
  std::vector<bool> granted;  // each add's: its acquire and release answered ok
  for (int c = 1; c <= 2; ++c) {
    auto node = world.add_node(fmt::format("client{}", c));
    Context& ctx = world.context(node);
    ctx.spawn([&, c, to = world.address(server)]() -> Task<void> {
      LockClient client(dsys::rpc::Endpoint::of(ctx), to, c, 60s);
      LockedCounter a(ctx, client, 1, first);
      LockedCounter b(ctx, client, 2, second);
      for (int i = 0; i < 3; ++i) {
        auto ra = co_await a.add(1);
        auto rb = co_await b.add(10);
        granted.push_back(ra && *ra == Status::ok);
        granted.push_back(rb && *rb == Status::ok);
      }
      ++finished;
    });
  }
  world.run_until([&] { return finished == 2; }, 10min);
  CHECK(granted == std::vector<bool>(12, true));
  CHECK(first == 6);
  CHECK(second == 60);
}
