// RPC in the simulated world: typed calls, big messages, deadlines, restarts, errors, marshalling.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <vector>

#include "dsys/rpc/endpoint.hpp"
#include "dsys/sim/world.hpp"
#include "dsys/testing/echo_service.hpp"
#include "dsys/testing/lab.hpp"

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Task;
using dsys::rpc::Error;
using dsys::sim::World;
namespace echo = dsys::testing::echo;

namespace {
// A client node whose one test coroutine gets its own Endpoint.
template <class F>
void run_client(World& world, dsys::sim::NodeId client, dsys::sim::NodeId server, F body) {
  Context& ctx = world.context(client);
  ctx.spawn([&ctx, body = std::move(body), to = world.address(server)]() -> Task<void> {
    dsys::rpc::Endpoint& endpoint = dsys::rpc::Endpoint::of(ctx);
    dsys::rpc::Client rpc(endpoint, to);
    co_await body(ctx, rpc);
  });
}

struct Record {
  std::uint64_t id = 0;
  std::string name;
  std::vector<std::int32_t> values;
  std::map<std::string, std::string> attributes;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& id& name& values& attributes;
  }
};
}  // namespace

TEST_CASE("a typed call returns the server's reply", "[rpc]") {
  World world({.seed = 1});
  auto server = world.add_node<echo::Server>("server");
  auto client = world.add_node("client");
  std::optional<std::string> got;
  run_client(world, client, server, [&](Context&, dsys::rpc::Client& rpc) -> Task<void> {
    auto r = co_await rpc.call<echo::Echo>({"hello"}, 1s);
    if (r) got = r->text;
  });
  world.run_until_idle(10s);
  CHECK(got == "hello");
}

namespace {
// The round trips of 100 echo calls, one after another, in a TestWorld (which reads
// DSYS_SLOW_REPLIES).
std::vector<dsys::core::Duration> echo_round_trips() {
  // No late wake-ups: the round trips are the links' delays and the replies' hold-back alone.
  dsys::testing::TestWorld world({.seed = 9, .trace = false, .max_wake_delay = 0ms});
  auto server = world.add_node<echo::Server>("server");
  auto client = world.add_node("client");
  std::vector<dsys::core::Duration> trips;
  run_client(world, client, server, [&](Context& ctx, dsys::rpc::Client& rpc) -> Task<void> {
    for (int i = 0; i < 100; ++i) {
      const auto sent = ctx.now();
      auto r = co_await rpc.call<echo::Echo>({"hello"}, 1s);
      if (r) trips.push_back(ctx.now() - sent);
    }
  });
  world.run_until_idle(100s);
  return trips;
}
}  // namespace

TEST_CASE(
    "with DSYS_SLOW_REPLIES=1 a test world holds every reply back 1-50 ms more (the slowed "
    "variant), and only then",
    "[rpc]") {
  ::unsetenv("DSYS_SLOW_REPLIES");
  CHECK_FALSE(dsys::testing::slowed_replies());
  const auto plain = echo_round_trips();
  ::setenv("DSYS_SLOW_REPLIES", "1", 1);
  CHECK(dsys::testing::slowed_replies());
  const auto slowed = echo_round_trips();
  ::unsetenv("DSYS_SLOW_REPLIES");
  REQUIRE(plain.size() == 100);
  REQUIRE(slowed.size() == 100);
  dsys::core::Duration plain_total{}, slowed_total{}, slowed_longest{};
  for (auto t : plain) {
    CHECK(t <= 6ms);  // two links of 1-3 ms
    plain_total += t;
  }
  for (auto t : slowed) {
    CHECK(t >= 3ms);  // the request's least, the reply's least and the hold's least
    CHECK(t <= 56ms);
    slowed_total += t;
    slowed_longest = std::max(slowed_longest, t);
  }
  CHECK(slowed_total / 100 >= plain_total / 100 + 15ms);  // a mean hold near 25 ms
  CHECK(slowed_longest >= 45ms);
}

TEST_CASE("a 1 MB request and a 70000-byte reply cross intact", "[rpc]") {
  World world({.seed = 2});
  auto server = world.add_node<echo::Server>("server");
  auto client = world.add_node("client");
  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919 % 251);
  bool echoed = false, blob_ok = false;
  run_client(world, client, server, [&](Context&, dsys::rpc::Client& rpc) -> Task<void> {
    auto r = co_await rpc.call<echo::Echo>({big}, 5s);
    echoed = r && r->text == big;
    auto blob = co_await rpc.call<echo::MakeBlob>(70000, 5s);
    blob_ok =
        blob && blob->size() == 70000 && (*blob)[69999] == static_cast<char>('a' + 69999 % 26);
  });
  world.run_until_idle(10s);
  CHECK(echoed);
  CHECK(blob_ok);
}

TEST_CASE("a call past its deadline returns Error::timeout at the deadline", "[rpc]") {
  World world({.seed = 3});
  auto server = world.add_node<echo::Server>("server");
  auto client = world.add_node("client");
  std::optional<Error> error;
  dsys::core::Time returned{};
  run_client(world, client, server, [&](Context& ctx, dsys::rpc::Client& rpc) -> Task<void> {
    auto r = co_await rpc.call<echo::Wait>(500, 200ms);  // the server takes 500 ms
    if (!r) error = r.error();
    returned = ctx.now();
  });
  world.run_until_idle(10s);
  CHECK(error == Error::timeout);
  CHECK(returned.time_since_epoch() == 200ms);
}

TEST_CASE("calls to a server that is cut off time out; after healing they succeed", "[rpc]") {
  World world({.seed = 4});
  auto server = world.add_node<echo::Server>("server");
  auto client = world.add_node("client");
  world.partition({{server}, {client}});
  std::vector<std::string> results;
  run_client(world, client, server, [&](Context& ctx, dsys::rpc::Client& rpc) -> Task<void> {
    auto r = co_await rpc.call<echo::Echo>({"x"}, 1s);
    results.push_back(r ? r->text : std::string(to_string(r.error())));
    world.heal();
    r = co_await rpc.call<echo::Echo>({"y"}, 1s);
    results.push_back(r ? r->text : std::string(to_string(r.error())));
  });
  world.run_until_idle(10s);
  CHECK(results == std::vector<std::string>{"timeout", "y"});
}

namespace {
// A Relay that answers Echo itself, with "relayed " before the text, and fails every other call
// with Error::unreachable; it counts what it carried.
struct EchoRelay final : dsys::rpc::Relay {
  int carried = 0;
  Task<dsys::rpc::CallResult<dsys::core::Bytes>> relay(dsys::rpc::ServiceId service,
                                                       dsys::rpc::ProcedureId procedure,
                                                       dsys::core::Bytes request,
                                                       dsys::core::Duration) override {
    ++carried;
    echo::Text text;
    if (service != echo::Echo::kService || procedure != echo::Echo::kId ||
        !dsys::rpc::decode(request, text)) {
      co_return Error::unreachable;
    }
    co_return dsys::rpc::encode(echo::Text("relayed " + text.text));
  }
};
}  // namespace

TEST_CASE("a relayed client's calls go through its relay, not the network, until it is unset",
          "[rpc]") {
  World world({.seed = 4});
  auto server = world.add_node<echo::Server>("server");
  auto client = world.add_node("client");
  world.partition({{server}, {client}});  // what reaches the network times out
  EchoRelay relay;
  std::vector<std::string> results;
  dsys::rpc::ProcedureStats echo_stats, wait_stats;
  run_client(world, client, server, [&](Context& ctx, dsys::rpc::Client& rpc) -> Task<void> {
    rpc.relay_through(&relay);
    auto r = co_await rpc.call<echo::Echo>({"x"}, 1s);
    results.push_back(r ? r->text : std::string(to_string(r.error())));
    auto w = co_await rpc.call<echo::Wait>(0, 1s);
    results.push_back(w ? "waited" : std::string(to_string(w.error())));
    rpc.relay_through(nullptr);
    world.heal();
    r = co_await rpc.call<echo::Echo>({"y"}, 1s);
    results.push_back(r ? r->text : std::string(to_string(r.error())));
    echo_stats = dsys::rpc::Endpoint::of(ctx).stats<echo::Echo>();
    wait_stats = dsys::rpc::Endpoint::of(ctx).stats<echo::Wait>();
  });
  world.run_until_idle(10s);
  CHECK(results == std::vector<std::string>{"relayed x", "unreachable", "y"});
  CHECK(relay.carried == 2);
  CHECK(echo_stats.calls == 2);
  CHECK(echo_stats.failed == 0);
  CHECK(wait_stats.calls == 1);
  CHECK(wait_stats.failed == 1);
}

TEST_CASE("a handler that waits holds up no other request", "[rpc]") {
  World world({.seed = 5});
  auto server = world.add_node<echo::Server>("server");
  auto slow = world.add_node("slow");
  auto fast = world.add_node("fast");
  dsys::core::Time slow_done{}, fast_done{};
  run_client(world, slow, server, [&](Context& ctx, dsys::rpc::Client& rpc) -> Task<void> {
    auto r = co_await rpc.call<echo::Wait>(1000, 5s);
    if (r) slow_done = ctx.now();
  });
  run_client(world, fast, server, [&](Context& ctx, dsys::rpc::Client& rpc) -> Task<void> {
    co_await ctx.sleep_for(10ms);
    auto r = co_await rpc.call<echo::Echo>({"quick"}, 5s);
    if (r) fast_done = ctx.now();
  });
  world.run_until_idle(10s);
  CHECK(fast_done.time_since_epoch() > 10ms);
  CHECK(fast_done.time_since_epoch() < 50ms);
  CHECK(slow_done.time_since_epoch() > 1000ms);
}

TEST_CASE("a restarted server is detected, and rebind() talks to the new one", "[rpc]") {
  World world({.seed = 6});
  auto server = world.add_node<echo::Server>("server");
  auto client = world.add_node("client");
  std::vector<std::string> results;
  run_client(world, client, server, [&](Context& ctx, dsys::rpc::Client& rpc) -> Task<void> {
    auto describe = [](const auto& r) {
      return r ? fmt::format("{}", *r) : std::string(to_string(r.error()));
    };
    results.push_back(describe(co_await rpc.call<echo::Increment>({}, 1s)));
    world.crash(server);
    world.restart(server);
    results.push_back(describe(co_await rpc.call<echo::Increment>({}, 1s)));
    results.push_back(
        describe(co_await rpc.call<echo::Increment>({}, 1s)));  // still the old binding
    rpc.rebind();
    results.push_back(describe(co_await rpc.call<echo::Increment>({}, 1s)));
  });
  world.run_until_idle(10s);
  // The new server never ran the requests that named the old one: its counter starts again at 1.
  CHECK(results == std::vector<std::string>{"1", "server restarted", "server restarted", "1"});
}

TEST_CASE("an unknown procedure is answered with Error::unknown_procedure", "[rpc]") {
  World world({.seed = 7});
  auto server = world.add_node<echo::Server>("server");
  auto client = world.add_node("client");
  std::optional<Error> error;
  run_client(world, client, server, [&](Context&, dsys::rpc::Client& rpc) -> Task<void> {
    auto r = co_await rpc.call<echo::Unserved>({}, 1s);
    if (!r) error = r.error();
  });
  world.run_until_idle(10s);
  CHECK(error == Error::unknown_procedure);
}

TEST_CASE("a request body that does not decode is answered with Error::decode_failure", "[rpc]") {
  World world({.seed = 8});
  auto server = world.add_node<echo::Server>("server");
  auto client = world.add_node("client");
  std::optional<Error> error;
  std::optional<std::string> after;
  run_client(world, client, server, [&](Context&, dsys::rpc::Client& rpc) -> Task<void> {
    // A Text whose string claims 2^40 bytes: must be refused, not allocated.
    std::string body = dsys::rpc::encode(echo::Text{"abc"});
    body.replace(body.size() - 3 - 8, 8, std::string("\x00\x00\x00\x00\x00\x01\x00\x00", 8));
    auto r = co_await rpc.call_raw(echo::kService, echo::Echo::kId, echo::Echo::kName, body, 1s);
    if (!r) error = r.error();
    auto ok = co_await rpc.call<echo::Echo>({"still serving"}, 1s);
    if (ok) after = ok->text;
  });
  world.run_until_idle(10s);
  CHECK(error == Error::decode_failure);
  CHECK(after == "still serving");
}

TEST_CASE("calls succeed over a network that drops, duplicates and reorders", "[rpc]") {
  World world({.seed = 9, .faults = {.drop = 0.2, .duplicate = 0.2, .reorder = 0.2}});
  auto server = world.add_node<echo::Server>("server");
  auto client = world.add_node("client");
  int ok = 0;
  run_client(world, client, server, [&](Context&, dsys::rpc::Client& rpc) -> Task<void> {
    for (int i = 0; i < 50; ++i) {
      auto r = co_await rpc.call<echo::Echo>({std::to_string(i)}, 30s);
      if (r && r->text == std::to_string(i)) ++ok;
    }
  });
  world.run_until_idle(10min);
  CHECK(ok == 50);
  // Without a duplicate filter a retransmitted request may run twice: that is lab 1's job.
  CHECK(world.trace().count(dsys::trace::Kind::drop) > 0);
}

TEST_CASE("marshalling round-trips values and refuses malformed bytes", "[rpc]") {
  Record in{42, "lock-7", {1, -2, 3}, {{"owner", "client-3"}}};
  const std::string bytes = dsys::rpc::encode(in);
  Record out;
  REQUIRE(dsys::rpc::decode(bytes, out));
  CHECK(out.id == 42);
  CHECK(out.name == "lock-7");
  CHECK(out.values == std::vector<std::int32_t>{1, -2, 3});
  CHECK(out.attributes.at("owner") == "client-3");

  Record junk;
  CHECK_FALSE(dsys::rpc::decode(bytes.substr(0, bytes.size() - 1), junk));  // truncated
  CHECK_FALSE(dsys::rpc::decode(bytes + "x", junk));                        // trailing bytes
  CHECK_FALSE(dsys::rpc::decode(std::string(64, '\xff'), junk));            // absurd lengths
  std::uint64_t number = 0;
  CHECK_FALSE(dsys::rpc::decode("abc", number));
}

TEST_CASE("per-procedure counters count calls and served requests", "[rpc]") {
  World world({.seed = 10});
  auto server = world.add_node<echo::Server>("server");
  auto client = world.add_node("client");
  std::string client_line;
  run_client(world, client, server, [&](Context&, dsys::rpc::Client& rpc) -> Task<void> {
    for (int i = 0; i < 3; ++i) (void)co_await rpc.call<echo::Echo>({"a"}, 1s);
    (void)co_await rpc.call<echo::Increment>({}, 1s);
    client_line = "";
  });
  world.run_until_idle(10s);
  const auto& endpoint = world.service<echo::Server>(server).endpoint();
  CHECK(endpoint.stats<echo::Echo>().served == 3);
  CHECK(endpoint.stats<echo::Increment>().served == 1);
  CHECK_THAT(world.service<echo::Server>(server).endpoint().stats_line(),
             Catch::StartsWith("RPC STATS:") &&
                 Catch::Contains("echo.echo(100.1) calls=0 failed=0 served=3"));
}
