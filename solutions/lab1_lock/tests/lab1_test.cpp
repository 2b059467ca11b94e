// Lab 1's graded tests. Points and time limits are the [points:N] and [timeout:S] tags.
// Run them all with `./dsys grade lab1`, one with `./dsys grade lab1 --only "<name>"`.
#include <catch2/catch.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "dsys/testing/lab.hpp"
#include "dsys/testing/linearizability.hpp"
#include "dsys/testing/process.hpp"
#include "lock_client.hpp"
#include "lock_server.hpp"

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Task;
using dsys::lab1::LockClient;
using dsys::lab1::LockServer;
using dsys::lab1::ReplyWindow;
using dsys::lock::Status;
using dsys::rpc::Admission;
using dsys::testing::TestWorld;

namespace {

// A lock server node: part 1 tests switch the duplicate filter off.
dsys::sim::NodeId add_server(TestWorld& world, bool at_most_once) {
  return world.add_node("lock_server", [at_most_once](Context& ctx) {
    return std::static_pointer_cast<void>(std::make_shared<LockServer>(
        ctx, dsys::lab1::LockServerOptions{.at_most_once = at_most_once}));
  });
}

// How a test's clients call. Part 1's tests run on a network that loses nothing, so their
// clients never resend a request: without part 2's filter a resent acquire would run twice,
// and a correct part 1 must not depend on answering before a retransmission timer fires.
enum class Calls { resend, once };

// A client node: one LockClient on the node's endpoint, driven by the test's coroutine `body`.
template <class F>
dsys::sim::NodeId add_client(TestWorld& world, dsys::sim::NodeId server, dsys::lock::ClientId id,
                             F body, Calls calls = Calls::resend,
                             dsys::core::Duration timeout = 60s) {
  auto node = world.add_node(fmt::format("client{}", id));
  Context& ctx = world.context(node);
  if (calls == Calls::once) {
    auto options = dsys::rpc::Endpoint::of(ctx).options();
    options.first_retransmit = options.max_retransmit = 24h;  // longer than any call waits
    dsys::rpc::Endpoint::of(ctx).set_options(options);
  }
  ctx.spawn(
      [&ctx, id, timeout, body = std::move(body), to = world.address(server)]() -> Task<void> {
        LockClient client(dsys::rpc::Endpoint::of(ctx), to, id, timeout);
        co_await body(ctx, client);
      });
  return node;
}

// Waits until `done()` holds (checked each simulated millisecond; at most `limit`): for a client
// that must act after another client's call has returned, however long its reply takes.
template <class Done>
Task<void> wait_until(Context& ctx, Done done, dsys::core::Duration limit = 30s) {
  const auto deadline = ctx.now() + limit;
  while (!done() && ctx.now() < deadline) co_await ctx.sleep_for(1ms);
}

// True when `events` holds `event`.
bool seen(const std::vector<std::string>& events, const std::string& event) {
  return std::find(events.begin(), events.end(), event) != events.end();
}

std::string show(const dsys::rpc::CallResult<Status>& r) {
  return r ? std::string(to_string(*r)) : fmt::format("rpc error: {}", to_string(r.error()));
}

// A status as the lock model of dsys::testing names it (its "ok" and "not_held").
std::string_view model_word(Status s) {
  switch (s) {
    case Status::ok:
      return "ok";
    case Status::not_held:
      return "not_held";
    case Status::retry:
      return "retry";
  }
  return "?";
}

// At-most-once, checked after every event: the server never runs more acquires (or releases)
// than distinct requests have been sent to it (a resent or duplicated copy has the same client
// nonce and xid). Fails at the event where a copy ran again, instead of as a hang much later.
// `also` sees every message too (a test's own tap).
void check_at_most_once(TestWorld& world, dsys::sim::NodeId server,
                        dsys::sim::World::Tap also = nullptr) {
  auto sent = std::make_shared<
      std::map<dsys::rpc::ProcedureId, std::set<std::pair<dsys::rpc::Nonce, dsys::rpc::Xid>>>>();
  world.set_tap([sent, server, also](auto from, auto to, const dsys::core::Bytes& message) {
    if (also) also(from, to, message);
    auto h = dsys::rpc::read_header(message);
    if (to == server && h && h->kind == dsys::rpc::Kind::request &&
        h->service == dsys::lock::kService) {
      (*sent)[h->procedure].insert({h->client_nonce, h->xid});
    }
  });
  world.add_invariant("at most once", [&world, sent, server]() -> std::string {
    if (!world.is_up(server)) return "";
    auto& endpoint = world.service<LockServer>(server).endpoint();
    const auto acquires = endpoint.stats<dsys::lock::Acquire>().served;
    const auto releases = endpoint.stats<dsys::lock::Release>().served;
    const auto distinct_acquires = (*sent)[dsys::lock::Acquire::kId].size();
    const auto distinct_releases = (*sent)[dsys::lock::Release::kId].size();
    if (acquires > distinct_acquires || releases > distinct_releases) {
      return fmt::format(
          "the server ran {} acquires and {} releases for {} and {} distinct requests: a copy of "
          "a request ran again (a copy of a running request must be in_progress, a copy of a "
          "finished one done, with its saved reply)",
          acquires, releases, distinct_acquires, distinct_releases);
    }
    return "";
  });
}

// Client 2 (B) asks for `lock`, waiting at most 2 s, and the world runs until it is done:
// `events` gets "LABEL: RESULT".
void second_client_asks(TestWorld& world, dsys::sim::NodeId server, dsys::lock::LockId lock,
                        std::string label, std::vector<std::string>& events) {
  add_client(
      world, server, 2,
      [&events, lock, label](Context&, LockClient& client) -> Task<void> {
        events.push_back(label + ": " + show(co_await client.acquire(lock)));
      },
      Calls::resend, 2s);
  world.run_until_idle(1min);
}

// Who the clients believe holds each lock; any overlap is a violation of mutual exclusion.
struct Holders {
  std::map<dsys::lock::LockId, int> inside;
  std::string violation;
  void enter(dsys::lock::LockId lock, dsys::lock::ClientId who) {
    if (++inside[lock] > 1 && violation.empty()) {
      violation =
          fmt::format("client {} was granted lock {} while another client held it", who, lock);
    }
  }
  void leave(dsys::lock::LockId lock) { --inside[lock]; }
};

// `clients` clients each acquire and release random locks among `locks`, `rounds` times, holding
// each for a few milliseconds; an invariant checks mutual exclusion after every event.
void mutual_exclusion(TestWorld& world, bool at_most_once, int clients, int locks, int rounds) {
  auto server = add_server(world, at_most_once);
  if (at_most_once) check_at_most_once(world, server);
  Holders holders;
  int finished = 0;
  std::vector<std::string> errors;
  // Every acquire and release as the clients saw it, checked against a lock at the end.
  std::vector<dsys::testing::Operation> history;
  std::map<dsys::lock::ClientId, dsys::sim::NodeId> node_of;
  world.add_invariant("one holder per lock", [&] { return holders.violation; });
  for (int c = 1; c <= clients; ++c) {
    node_of[c] = add_client(
        world, server, c,
        [&, locks, rounds](Context& ctx, LockClient& client) -> Task<void> {
          const auto record = [&](const char* action, dsys::lock::LockId lock,
                                  dsys::core::Time call, const dsys::rpc::CallResult<Status>& r) {
            history.push_back(
                {.client = node_of[client.id()],
                 .key = std::to_string(lock),
                 .action = action,
                 .call = call,
                 .response = r ? std::optional(ctx.now()) : std::nullopt,
                 .result = r ? std::optional(std::string(model_word(*r))) : std::nullopt});
          };
          for (int i = 0; i < rounds; ++i) {
            const auto lock = static_cast<dsys::lock::LockId>(ctx.rng().below(locks));
            const dsys::core::Time asked = ctx.now();
            auto got = co_await client.acquire(lock);
            record("acquire", lock, asked, got);
            if (!got || *got != Status::ok) {
              const bool timed_out = !got && got.error() == dsys::rpc::Error::timeout;
              errors.push_back(fmt::format(
                  "client {} acquire({}): {}{}", client.id(), lock, show(got),
                  timed_out ? " (no grant in 20 s, though no lock is held for more than 5 "
                              "ms: a lock granted twice, or a copy of a request dropped as "
                              "in_progress forever, or answered without its saved reply?)"
                            : ""));
              co_return;
            }
            holders.enter(lock, client.id());
            co_await ctx.sleep_for(std::chrono::milliseconds(ctx.rng().between(1, 5)));
            holders.leave(lock);
            const dsys::core::Time releasing = ctx.now();
            auto freed = co_await client.release(lock);
            record("release", lock, releasing, freed);
            if (!freed || *freed != Status::ok) {
              errors.push_back(
                  fmt::format("client {} release({}): {}", client.id(), lock, show(freed)));
              co_return;
            }
          }
          ++finished;
        },
        at_most_once ? Calls::resend : Calls::once, 20s);
  }
  world.run_until([&] { return finished + static_cast<int>(errors.size()) == clients; }, 30min);
  // What the clients saw is what one lock per name gives. The check runs before any assertion,
  // so that the counterexample, if any, is drawn in the diagram the first failure writes.
  const auto checked = dsys::testing::check_linearizable(dsys::testing::lock_model(), history);
  dsys::testing::add_to_diagram(checked, world.trace());
  for (const auto& e : errors) UNSCOPED_INFO(e);
  CHECK(errors.empty());
  CHECK(finished == clients);
  INFO(checked.explain());
  CHECK(checked.linearizable);
}

}  // namespace

// ------------------------------------------------------------------ part 1: the lock server

TEST_CASE("acquire grants a free lock at once, and a second acquire waits until release",
          "[lab1][part1][points:10][timeout:60]") {
  TestWorld world({.seed = 101, .label = "lab1-acquire"});
  auto server = add_server(world, false);
  std::vector<std::string> events;
  add_client(
      world, server, 1,
      [&](Context& ctx, LockClient& client) -> Task<void> {
        events.push_back("1 acquire: " + show(co_await client.acquire(7)));
        co_await ctx.sleep_for(100ms);  // client 2 is waiting now
        events.push_back("1 releasing");
        events.push_back("1 release: " + show(co_await client.release(7)));
      },
      Calls::once);
  add_client(
      world, server, 2,
      [&](Context& ctx, LockClient& client) -> Task<void> {
        co_await ctx.sleep_for(20ms);
        events.push_back("2 acquire: " + show(co_await client.acquire(7)));
        events.push_back("2 release: " + show(co_await client.release(7)));
      },
      Calls::once);
  world.run_until_idle(1min);
  // Client 1 gets the free lock at once; client 2 is granted it only after client 1 has asked
  // to release it. (Which of "1 release: ok" and "2 acquire: ok" arrives first depends on the
  // network: both replies leave the server at the same moment.)
  auto at = [&](const std::string& e) {
    return std::find(events.begin(), events.end(), e) - events.begin();
  };
  INFO("events: " << fmt::format("{}", fmt::join(events, "; ")));
  REQUIRE(events.size() == 5);
  CHECK(events[0] == "1 acquire: ok");
  CHECK(events[1] == "1 releasing");
  CHECK(at("1 release: ok") < 5);
  CHECK(at("2 acquire: ok") < 5);
  CHECK(at("2 acquire: ok") > at("1 releasing"));
  CHECK(at("2 release: ok") > at("2 acquire: ok"));
}

TEST_CASE("locks are independent: holding one does not block another",
          "[lab1][part1][points:5][timeout:60]") {
  TestWorld world({.seed = 102, .label = "lab1-independent"});
  auto server = add_server(world, false);
  std::vector<std::string> events;
  add_client(
      world, server, 1,
      [&](Context&, LockClient& client) -> Task<void> {
        events.push_back("1 acquire 1: " + show(co_await client.acquire(1)));
      },
      Calls::once);
  add_client(
      world, server, 2,
      [&](Context& ctx, LockClient& client) -> Task<void> {
        co_await wait_until(ctx, [&] { return seen(events, "1 acquire 1: ok"); });  // 1 holds it
        events.push_back("2 acquire 2: " + show(co_await client.acquire(2)));
        events.push_back("2 acquire 3: " + show(co_await client.acquire(3)));
      },
      Calls::once);
  world.run_until_idle(1min);
  CHECK(events ==
        std::vector<std::string>{"1 acquire 1: ok", "2 acquire 2: ok", "2 acquire 3: ok"});
}

TEST_CASE("releasing a lock the client does not hold is answered with Status::not_held",
          "[lab1][part1][points:5][timeout:60]") {
  TestWorld world({.seed = 103, .label = "lab1-not-held"});
  auto server = add_server(world, false);
  std::vector<std::string> events;
  add_client(
      world, server, 1,
      [&](Context&, LockClient& client) -> Task<void> {
        events.push_back("release never used: " + show(co_await client.release(5)));
        events.push_back("acquire: " + show(co_await client.acquire(5)));
      },
      Calls::once);
  add_client(
      world, server, 2,
      [&](Context& ctx, LockClient& client) -> Task<void> {
        co_await wait_until(ctx, [&] { return seen(events, "acquire: ok"); });  // client 1's now
        events.push_back("release someone else's: " + show(co_await client.release(5)));
        events.push_back("release twice: " + show(co_await client.release(5)));
      },
      Calls::once);
  world.run_until_idle(1min);
  CHECK(events == std::vector<std::string>{"release never used: not held", "acquire: ok",
                                           "release someone else's: not held",
                                           "release twice: not held"});
}

TEST_CASE("mutual exclusion: 10 clients over 3 locks on a reliable network",
          "[lab1][part1][points:10][timeout:120]") {
  TestWorld world({.seed = 104, .label = "lab1-mutex-reliable"});
  mutual_exclusion(world, false, 10, 3, 20);
}

// ------------------------------------------------------------------ part 2: at-most-once

TEST_CASE("filter: a request never seen is fresh, and a copy of it while it runs is in progress",
          "[lab1][part2][points:4][timeout:30]") {
  ReplyWindow window;
  dsys::core::Bytes saved;
  CHECK(window.admit(1, 1, 0, saved) == Admission::fresh);
  CHECK(window.admit(1, 1, 0, saved) == Admission::in_progress);  // no reply recorded yet
  CHECK(window.admit(1, 2, 0, saved) == Admission::fresh);        // another request, concurrent
  CHECK(window.remembered() == 2);
}

TEST_CASE("filter: a copy of a finished request gets the saved reply",
          "[lab1][part2][points:4][timeout:30]") {
  ReplyWindow window;
  dsys::core::Bytes saved;
  REQUIRE(window.admit(1, 1, 0, saved) == Admission::fresh);
  window.record(1, 1, "reply one");
  CHECK(window.admit(1, 1, 0, saved) == Admission::done);
  CHECK(saved == "reply one");
  CHECK(window.admit(1, 1, 0, saved) == Admission::done);  // as often as it comes
}

TEST_CASE("filter: requests the client acknowledged with xid_rep are forgotten",
          "[lab1][part2][points:4][timeout:30]") {
  ReplyWindow window;
  dsys::core::Bytes saved;
  REQUIRE(window.admit(1, 1, 0, saved) == Admission::fresh);
  window.record(1, 1, "r1");
  REQUIRE(window.admit(1, 2, 0, saved) == Admission::fresh);
  window.record(1, 2, "r2");
  CHECK(window.remembered() == 2);
  // Request 3 says: I have every reply up to 2. Both may go.
  CHECK(window.admit(1, 3, 2, saved) == Admission::fresh);
  CHECK(window.remembered() == 1);
  // A late copy of request 1 or 2 is now answered "forgotten", never run again.
  CHECK(window.admit(1, 1, 0, saved) == Admission::forgotten);
  CHECK(window.admit(1, 2, 1, saved) == Admission::forgotten);
}

TEST_CASE("filter: requests may arrive out of order, and a reply recorded after the ack is dropped",
          "[lab1][part2][points:4][timeout:30]") {
  ReplyWindow window;
  dsys::core::Bytes saved;
  CHECK(window.admit(1, 3, 0, saved) == Admission::fresh);
  CHECK(window.admit(1, 2, 0, saved) == Admission::fresh);
  window.record(1, 2, "r2");
  window.record(1, 3, "r3");
  CHECK(window.admit(1, 3, 0, saved) == Admission::done);
  CHECK(saved == "r3");
  REQUIRE(window.admit(1, 5, 4, saved) == Admission::fresh);  // acknowledges everything up to 4
  window.record(1, 4, "r4");                                  // 4 was acknowledged: not kept
  CHECK(window.remembered() == 1);
}

TEST_CASE("filter: clients are independent of each other", "[lab1][part2][points:4][timeout:30]") {
  ReplyWindow window;
  dsys::core::Bytes saved;
  REQUIRE(window.admit(1, 1, 0, saved) == Admission::fresh);
  window.record(1, 1, "for client 1");
  CHECK(window.admit(2, 1, 0, saved) == Admission::fresh);  // same xid, other client
  window.record(2, 1, "for client 2");
  CHECK(window.admit(1, 1, 0, saved) == Admission::done);
  CHECK(saved == "for client 1");
  CHECK(window.admit(2, 5, 4, saved) == Admission::fresh);  // client 2's ack...
  CHECK(window.admit(1, 1, 0, saved) == Admission::done);   // ...forgets nothing of client 1
}

TEST_CASE(
    "filter: clients that have gone quiet are forgotten, so memory is bounded over many "
    "clients",
    "[lab1][part2][points:4][timeout:30]") {
  dsys::core::Time now{};
  ReplyWindow window([&] { return now; });
  dsys::core::Bytes saved;
  // 10000 clients each make one call and leave: their replies are never acknowledged.
  for (dsys::rpc::Nonce client = 1; client <= 10000; ++client) {
    REQUIRE(window.admit(client, 1, 0, saved) == Admission::fresh);
    window.record(client, 1, "one call");
    now += 10ms;  // 100 s in all
  }
  CHECK(window.remembered() == 10000);
  // A client that stays busy is never forgotten: its old reply is still saved.
  REQUIRE(window.admit(20000, 1, 0, saved) == Admission::fresh);
  window.record(20000, 1, "busy");
  for (int minute = 0; minute < 12; ++minute) {
    now += 1min;
    REQUIRE(window.admit(20000, 2 + minute, 0, saved) == Admission::fresh);
    window.record(20000, 2 + minute, "busy");
  }
  // 12 minutes on, the one-shot clients are long gone: at most the busy one's requests remain.
  INFO("remembered: " << window.remembered());
  CHECK(window.remembered() <= 13);
  CHECK(window.admit(20000, 1, 0, saved) == Admission::done);
  CHECK(saved == "busy");
}

TEST_CASE("a copy of an acquire that arrives after its reply runs nothing and gets the saved reply",
          "[lab1][part2][points:5][timeout:60]") {
  TestWorld world({.seed = 206, .label = "lab1-dup-acquire-done"});
  auto server = add_server(world, true);
  std::optional<dsys::core::Bytes> first_acquire;
  dsys::sim::NodeId a = 0;
  check_at_most_once(world, server, [&](auto from, auto to, const dsys::core::Bytes& message) {
    if (from == a && to == server && !first_acquire) first_acquire = message;
  });
  std::vector<std::string> events;
  bool a_holds = false, a_done = false;
  a = add_client(world, server, 1, [&](Context& ctx, LockClient& client) -> Task<void> {
    events.push_back("A acquire: " + show(co_await client.acquire(9)));
    a_holds = true;
    co_await ctx.sleep_for(200ms);  // the copy arrives now, before A's next request
    events.push_back("A release: " + show(co_await client.release(9)));
    a_done = true;
  });
  world.run_until([&] { return a_holds; }, 1min);
  // A has its reply and has not sent another request: the filter still has that reply saved.
  REQUIRE(first_acquire);
  world.inject(a, server, *first_acquire);
  world.run_until([&] { return a_done; }, 1min);
  second_client_asks(world, server, 9, "B acquire", events);
  // Had the copy run, A would hold lock 9 a second time and B could never get it.
  CHECK(events == std::vector<std::string>{"A acquire: ok", "A release: ok", "B acquire: ok"});
}

TEST_CASE("a copy of an acquire that arrives after the client acknowledged it runs nothing",
          "[lab1][part2][points:5][timeout:60]") {
  TestWorld world({.seed = 201, .label = "lab1-dup-acquire"});
  auto server = add_server(world, true);
  std::optional<dsys::core::Bytes> first_acquire;
  dsys::sim::NodeId a = 0;
  check_at_most_once(world, server, [&](auto from, auto to, const dsys::core::Bytes& message) {
    if (from == a && to == server && !first_acquire) first_acquire = message;
  });
  std::vector<std::string> events;
  bool a_done = false;
  a = add_client(world, server, 1, [&](Context&, LockClient& client) -> Task<void> {
    events.push_back("A acquire: " + show(co_await client.acquire(9)));
    events.push_back("A release: " + show(co_await client.release(9)));
    a_done = true;
  });
  world.run_until([&] { return a_done; }, 1min);
  // A's release acknowledged its acquire (xid_rep). A late copy of that acquire now arrives: it
  // must not grant lock 9 to A again.
  REQUIRE(first_acquire);
  world.inject(a, server, *first_acquire);
  world.run_for(100ms);
  second_client_asks(world, server, 9, "B acquire", events);
  CHECK(events == std::vector<std::string>{"A acquire: ok", "A release: ok", "B acquire: ok"});
}

TEST_CASE("a late duplicate of a release never frees someone else's lock",
          "[lab1][part2][points:10][timeout:60]") {
  TestWorld world({.seed = 202, .label = "lab1-dup-release"});
  auto server = add_server(world, true);
  std::optional<dsys::core::Bytes> first_release;
  dsys::sim::NodeId a = 0;
  check_at_most_once(world, server, [&](auto from, auto to, const dsys::core::Bytes& message) {
    auto header = dsys::rpc::read_header(message);
    if (from == a && to == server && header && header->procedure == dsys::lock::Release::kId &&
        !first_release) {
      first_release = message;
    }
  });
  std::vector<std::string> events;
  int phase = 0;
  a = add_client(world, server, 1, [&](Context&, LockClient& client) -> Task<void> {
    events.push_back("A acquire: " + show(co_await client.acquire(4)));
    events.push_back("A release: " + show(co_await client.release(4)));
    events.push_back("A acquire again: " + show(co_await client.acquire(4)));
    phase = 1;
  });
  world.run_until([&] { return phase == 1; }, 1min);
  // A holds lock 4 again. A late copy of A's first release arrives: A's lock must stay held.
  REQUIRE(first_release);
  world.inject(a, server, *first_release);
  world.run_for(100ms);
  second_client_asks(world, server, 4, "B acquire while A holds", events);
  CHECK(events == std::vector<std::string>{"A acquire: ok", "A release: ok", "A acquire again: ok",
                                           "B acquire while A holds: rpc error: timeout"});
}

TEST_CASE("mutual exclusion over a network that drops, duplicates and reorders",
          "[lab1][part2][points:10][timeout:120]") {
  TestWorld world({.seed = 203,
                   .faults = {.drop = 0.1, .duplicate = 0.1, .reorder = 0.1},
                   .label = "lab1-mutex-lossy"});
  mutual_exclusion(world, true, 10, 3, 20);
}

TEST_CASE("reply memory stays bounded over a long run", "[lab1][part2][points:3][timeout:120]") {
  TestWorld world({.seed = 204,
                   .faults = {.drop = 0.05, .duplicate = 0.05},
                   .trace = false,
                   .label = "lab1-memory"});
  const int clients = 5;
  std::size_t most = 0;
  world.add_invariant("reply memory bounded", [&]() -> std::string {
    most = std::max(most, world.service<LockServer>(0).reply_window().remembered());
    // Each client has at most one call in flight, plus the reply it has not acknowledged yet.
    return most <= 2 * clients ? ""
                               : fmt::format("{} replies remembered for {} clients", most, clients);
  });
  mutual_exclusion(world, true, clients, 2, 300);
  CHECK(most >= 1);
}

TEST_CASE("a restarted lock server is detected by its clients",
          "[lab1][part2][points:3][timeout:60]") {
  TestWorld world({.seed = 205, .label = "lab1-restart"});
  auto server = add_server(world, true);
  std::vector<std::string> events;
  add_client(world, server, 1, [&](Context&, LockClient& client) -> Task<void> {
    events.push_back("acquire: " + show(co_await client.acquire(3)));
    world.crash(server);  // the server loses everything, lock 3 included...
    world.restart(server);
    events.push_back("release after restart: " + show(co_await client.release(3)));
  });
  world.run_until_idle(1min);
  CHECK(events == std::vector<std::string>{"acquire: ok",
                                           "release after restart: rpc error: server restarted"});
}

// ------------------------------------------------------------------ the real programs

namespace {
// If `process` has exited, says so with its last words, on a line the grader puts in its table.
void report_if_dead(dsys::testing::Process& process, std::string_view name) {
  const auto status = process.wait(0ms);
  if (!status) return;
  std::string last;
  std::istringstream lines(process.output());
  for (std::string line; std::getline(lines, line);) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  std::cout << "dsys: child process " << name << " exited with status " << *status << ": " << last
            << std::endl;
}

void run_lock_tester(unsigned lossy) {
  const std::string bin = DSYS_APPS_DIR;
  const std::vector<std::string> env = {fmt::format("DSYS_RPC_LOSSY={}", lossy)};
  dsys::testing::Process server({bin + "/lock_server", "0"}, env);
  auto line = server.wait_for_line("listening on", 20s);
  INFO("lock_server output:\n" << server.output());
  if (!line) report_if_dead(server, "lock_server");
  REQUIRE(line);
  const std::string port = line->substr(line->rfind(':') + 1);

  // Garbage on the lock server's port first: it must close that connection and keep serving.
  std::string garbage;
  for (int i = 0; i < 5000; ++i) garbage.push_back(static_cast<char>((i * 7919 + 17) % 251));
  CHECK(dsys::testing::send_raw(*dsys::core::Address::parse(port), garbage));

  dsys::testing::Process tester({bin + "/lock_tester", port}, env);
  auto status = tester.wait(100s);
  report_if_dead(server, "lock_server");  // a server that died explains the tester's failure
  INFO("lock_tester output:\n" << tester.output());
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK_THAT(tester.output(), Catch::Contains("passed all tests successfully"));
}
}  // namespace

TEST_CASE("lock_server and lock_tester pass on a reliable network",
          "[lab1][processes][points:5][timeout:120]") {
  run_lock_tester(0);
}

TEST_CASE("lock_server and lock_tester pass with DSYS_RPC_LOSSY=5",
          "[lab1][processes][points:5][timeout:120]") {
  run_lock_tester(5);
}
