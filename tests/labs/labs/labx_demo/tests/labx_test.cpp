// The demo lab's tests. Only LockedCounter::add's is graded: the others check code that the
// handout gives (they pass on the untouched stubs of labx, as long as lab 1 works) and where the
// lab's programs are. tests/labs/check_bases.py runs them on every flavour of the lab.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "dsys/testing/lab.hpp"
#include "lock_server.hpp"  // lab 1's, from the base this lab is built on
#include "locked_counter.hpp"

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Task;
using dsys::lab1::LockServer;
using dsys::labx::LockClient;
using dsys::labx::LockedCounter;
using dsys::lock::Status;
using dsys::testing::TestWorld;

namespace {

std::string show(const dsys::rpc::CallResult<Status>& r) {
  return r ? std::string(to_string(*r)) : fmt::format("rpc error: {}", to_string(r.error()));
}

// A lab 1 lock server, and `clients` client nodes that each run `body` with a LockClient of
// their own; returns when every body has finished.
template <class F>
void run_clients(TestWorld& world, int clients, F body) {
  auto server = world.add_node("lock_server", [](Context& ctx) {
    return std::static_pointer_cast<void>(std::make_shared<LockServer>(ctx));
  });
  int finished = 0;
  for (int c = 1; c <= clients; ++c) {
    auto node = world.add_node(fmt::format("client{}", c));
    Context& ctx = world.context(node);
    ctx.spawn([&ctx, &finished, &body, c, to = world.address(server)]() -> Task<void> {
      LockClient client(dsys::rpc::Endpoint::of(ctx), to, c, 60s);
      co_await body(ctx, client);
      ++finished;
    });
  }
  world.run_until([&] { return finished == clients; }, 10min);
}

}  // namespace

TEST_CASE("with_lock: bodies under one lock never overlap, on lab 1's lock service", "[labx]") {
  TestWorld world({.seed = 901, .label = "labx-with-lock"});
  int inside = 0;
  int most = 0;
  std::vector<std::string> results;
  run_clients(world, 3, [&](Context& ctx, LockClient& client) -> Task<void> {
    for (int i = 0; i < 3; ++i) {
      auto r = co_await dsys::labx::with_lock(client, 4, [&]() -> Task<void> {
        most = std::max(most, ++inside);
        co_await ctx.sleep_for(2ms);
        --inside;
      });
      results.push_back(show(r));
    }
  });
  CHECK(results == std::vector<std::string>(9, "ok"));
  CHECK(most == 1);
}

TEST_CASE("LockedCounter::add keeps the count exact while 3 clients add at once",
          "[labx][points:10][timeout:60]") {
  TestWorld world({.seed = 902, .label = "labx-counter"});
  int value = 0;
  std::vector<std::string> results;
  run_clients(world, 3, [&](Context& ctx, LockClient& client) -> Task<void> {
    LockedCounter counter(ctx, client, 9, value);
    for (int i = 0; i < 5; ++i) results.push_back(show(co_await counter.add(2)));
  });
  CHECK(results == std::vector<std::string>(15, "ok"));
  CHECK(value == 30);
}

TEST_CASE("the lab's programs are beside its tests, in DSYS_APPS_DIR", "[labx]") {
  const std::filesystem::path apps = DSYS_APPS_DIR;
  CHECK(std::filesystem::equivalent(apps,
                                    std::filesystem::read_symlink("/proc/self/exe").parent_path()));
  for (const char* program : {"lock_server", "lock_tester"}) {
    INFO(program);
    CHECK(std::filesystem::exists(apps / program));
  }
}
