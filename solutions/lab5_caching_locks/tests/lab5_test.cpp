// Lab 5's graded tests. Points and time limits are the [points:N] and [timeout:S] tags.
// Run them all with `./dsys grade lab5`, one with `./dsys grade lab5 --only "<name>"`.
//
// The lock tests run your CachingLockServer and a CachingLockClient per client node; where it
// applies, an invariant checks after every event that no two clients hold a lock at once, judged
// from the clients' own states (locked or free: the node has it). The race tests hold back the
// server's messages to one client and deliver them in the order that makes the race happen. The
// yfs tests run lab 4's file system over your caching locks and count the acquire RPCs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "caching_lock_client.hpp"
#include "caching_lock_server.hpp"
#include "dsys/testing/lab.hpp"
#include "dsys/testing/process.hpp"
#include "dsys/testing/yfs.hpp"
#include "extent_server.hpp"
#include "lab4_node.hpp"
#include "lab5_node.hpp"
#include "lock_server.hpp"

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Task;
using dsys::lab5::CachingLockClient;
using dsys::lab5::CachingLockServer;
using dsys::lab5::LockState;
using dsys::lock::LockId;
using dsys::sim::NodeId;
using dsys::testing::TestWorld;

namespace {

// A node with one caching lock client, and the test's coroutines on it.
struct LockNode {
  LockNode(Context& ctx, dsys::core::Address server, dsys::lock::ClientId id)
      : client(ctx, server, id) {}
  CachingLockClient client;
};

struct Locks {
  explicit Locks(TestWorld& w, int clients) : world(w) {
    server = world.add_node("lock_server", dsys::core::make_node<CachingLockServer>());
    for (int i = 1; i <= clients; ++i) {
      nodes.push_back(world.add_node(
          fmt::format("client{}", i),
          dsys::core::make_node<LockNode>(world.address(server), dsys::lock::ClientId(i))));
    }
  }
  CachingLockClient& client(int i) { return world.service<LockNode>(nodes.at(i - 1)).client; }
  Context& ctx(int i) { return world.context(nodes.at(i - 1)); }
  // No two clients have a lock at once (locked, or free in their cache), after every event.
  void check_exclusion(std::vector<LockId> locks) {
    world.add_invariant("one client has a lock at a time", [this, locks]() -> std::string {
      for (LockId lock : locks) {
        std::vector<int> having;
        for (int i = 1; i <= static_cast<int>(nodes.size()); ++i) {
          if (!world.is_up(nodes[i - 1])) continue;
          const LockState s = client(i).state(lock);
          if (s == LockState::locked || s == LockState::free) having.push_back(i);
        }
        if (having.size() > 1) {
          return fmt::format("lock {} is held by clients {} and {} at once", lock, having[0],
                             having[1]);
        }
      }
      return "";
    });
  }
  // Acquire RPCs the clients made.
  std::uint64_t acquire_calls() {
    std::uint64_t n = 0;
    for (auto node : nodes) {
      if (world.is_up(node)) {
        n += dsys::rpc::Endpoint::of(world.context(node)).stats<dsys::lock::Acquire>().calls;
      }
    }
    return n;
  }
  TestWorld& world;
  NodeId server;
  std::vector<NodeId> nodes;
};

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Holds back every message from `from` to `to` (the link drops them; a tap keeps a copy of each)
// until deliver() puts the chosen ones on the wire, in the chosen order.
class HeldLink {
 public:
  HeldLink(TestWorld& world, NodeId from, NodeId to) : world_(world), from_(from), to_(to) {
    world.set_link_faults(from, to, {.drop = 1.0});
    world.set_tap([this](NodeId f, NodeId t, const dsys::core::Bytes& m) {
      if (f == from_ && t == to_ && holding_) held_.push_back(m);
    });
  }
  // The first held message that `match` accepts, if any.
  template <class Match>
  std::optional<dsys::core::Bytes> find(Match match) const {
    for (const auto& m : held_) {
      if (match(m)) return m;
    }
    return std::nullopt;
  }
  // Opens the link again (no faults) and delivers `messages`, in this order.
  void deliver(const std::vector<dsys::core::Bytes>& messages) {
    holding_ = false;
    world_.set_link_faults(from_, to_, {});
    for (const auto& m : messages) world_.inject(from_, to_, m);
  }

 private:
  TestWorld& world_;
  NodeId from_;
  NodeId to_;
  bool holding_ = true;
  std::vector<dsys::core::Bytes> held_;
};

bool is_request(const dsys::core::Bytes& m, dsys::rpc::ProcedureId procedure) {
  auto h = dsys::rpc::read_header(m);
  return h && h->kind == dsys::rpc::Kind::request && h->service == dsys::lock::kCallbackService &&
         h->procedure == procedure;
}
// A reply to lock.acquire that says `status`.
bool is_acquire_reply(const dsys::core::Bytes& m, dsys::lock::Status status) {
  auto h = dsys::rpc::read_header(m);
  if (!h || h->kind != dsys::rpc::Kind::reply || h->service != dsys::lock::kService ||
      h->procedure != dsys::lock::Acquire::kId) {
    return false;
  }
  dsys::lock::Status s{};
  return dsys::rpc::decode(std::string_view(m).substr(dsys::rpc::kHeaderSize), s) && s == status;
}

}  // namespace

// ------------------------------------------------------------ part 1: caching

TEST_CASE("lab 5: a client that acquires and releases a lock 100 times asks the server once",
          "[lab5][part1][points:10][timeout:60]") {
  TestWorld world({.seed = 501, .faults = dsys::testing::lossy_network(), .label = "lab5-cache"});
  Locks locks(world, 1);
  int done = 0;
  std::vector<std::string> errors;
  locks.ctx(1).spawn([&]() -> Task<void> {
    for (int i = 0; i < 100; ++i) {
      if (!co_await locks.client(1).acquire(7)) errors.push_back(fmt::format("acquire {}", i));
      if (!co_await locks.client(1).release(7)) errors.push_back(fmt::format("release {}", i));
      ++done;
    }
  });
  world.run_until([&] { return done == 100; }, 10min);
  INFO(join(errors));
  CHECK(errors.empty());
  REQUIRE(done == 100);
  // The lock stays cached (free) on the client: one acquire RPC, no release.
  auto& stats = dsys::rpc::Endpoint::of(locks.ctx(1));
  CHECK(stats.stats<dsys::lock::Acquire>().calls == 1);
  CHECK(stats.stats<dsys::lock::Release>().calls == 0);
  CHECK(locks.client(1).state(7) == LockState::free);
}

TEST_CASE("lab 5: local users share a cached lock, one at a time",
          "[lab5][part1][points:10][timeout:60]") {
  TestWorld world({.seed = 502, .faults = dsys::testing::lossy_network(), .label = "lab5-local"});
  Locks locks(world, 1);
  int inside = 0;
  int most_inside = 0;
  int finished = 0;
  for (int user = 0; user < 8; ++user) {
    locks.ctx(1).spawn([&]() -> Task<void> {
      for (int i = 0; i < 20; ++i) {
        {
          const bool ok =
              bool(co_await locks.client(1).acquire(3));  // (never co_await inside a Catch macro)
          REQUIRE(ok);
        }
        most_inside = std::max(most_inside, ++inside);
        co_await locks.ctx(1).sleep_for(1ms);
        --inside;
        {
          const bool ok =
              bool(co_await locks.client(1).release(3));  // (never co_await inside a Catch macro)
          REQUIRE(ok);
        }
      }
      ++finished;
    });
  }
  world.run_until([&] { return finished == 8; }, 10min);
  REQUIRE(finished == 8);
  CHECK(most_inside == 1);  // never two local users inside at once
  CHECK(dsys::rpc::Endpoint::of(locks.ctx(1)).stats<dsys::lock::Acquire>().calls == 1);
}

TEST_CASE("lab 5: revoke and retry: two clients take turns with one lock, never both",
          "[lab5][part1][points:10][timeout:60]") {
  TestWorld world({.seed = 503, .faults = dsys::testing::lossy_network(), .label = "lab5-turns"});
  Locks locks(world, 2);
  locks.check_exclusion({9});
  std::vector<int> finished(3, 0);
  std::vector<std::string> errors;
  for (int c = 1; c <= 2; ++c) {
    locks.ctx(c).spawn([&, c]() -> Task<void> {
      for (int i = 0; i < 20; ++i) {
        if (!co_await locks.client(c).acquire(9)) {
          errors.push_back(fmt::format("client {} acquire {} failed", c, i));
          co_return;
        }
        co_await locks.ctx(c).sleep_for(2ms);
        co_await locks.client(c).release(9);
      }
      finished[c] = 1;
    });
  }
  world.run_until([&] { return finished[1] + finished[2] == 2 || !errors.empty(); }, 10min);
  INFO(join(errors));
  CHECK(errors.empty());
  CHECK(finished[1] + finished[2] == 2);
  // The server had to take the lock back from each client to give it to the other.
  CHECK(dsys::rpc::Endpoint::of(world.context(locks.server)).stats<dsys::lock::Revoke>().calls > 0);
}

TEST_CASE(
    "lab 5: mutual exclusion and liveness: 5 clients, 4 locks, a network that drops, "
    "duplicates and reorders",
    "[lab5][part1][part2][points:10][timeout:120]") {
  TestWorld world({.seed = 504,
                   .faults = {.drop = 0.1, .duplicate = 0.1, .reorder = 0.1},
                   .label = "lab5-mutex"});
  Locks locks(world, 5);
  locks.check_exclusion({0, 1, 2, 3});
  int finished = 0;
  std::vector<std::string> errors;
  for (int c = 1; c <= 5; ++c) {
    for (int user = 0; user < 2; ++user) {
      locks.ctx(c).spawn([&, c]() -> Task<void> {
        Context& ctx = locks.ctx(c);
        for (int i = 0; i < 15; ++i) {
          const auto lock = static_cast<LockId>(ctx.rng().below(4));
          if (!co_await locks.client(c).acquire(lock)) {
            errors.push_back(
                fmt::format("client {}: acquire({}) failed (no grant in 10 s while "
                            "no one holds a lock for more than 5 ms)",
                            c, lock));
            co_return;
          }
          co_await ctx.sleep_for(std::chrono::milliseconds(ctx.rng().between(1, 5)));
          co_await locks.client(c).release(lock);
        }
        ++finished;
      });
    }
  }
  world.run_until([&] { return finished + static_cast<int>(errors.size()) == 10; }, 30min);
  INFO(join(errors));
  CHECK(errors.empty());
  CHECK(finished == 10);
}

// ------------------------------------------------------------ the races, forced

TEST_CASE("lab 5: race: a revoke that arrives before the grant's reply is not forgotten",
          "[lab5][part1][points:10][timeout:60]") {
  TestWorld world({.seed = 505, .label = "lab5-revoke-first"});
  Locks locks(world, 2);
  locks.check_exclusion({1});
  HeldLink to_a(world, locks.server, locks.nodes[0]);
  bool a_granted = false;
  bool a_released = false;
  locks.ctx(1).spawn([&]() -> Task<void> {
    {
      const bool ok =
          bool(co_await locks.client(1).acquire(1));  // (never co_await inside a Catch macro)
      REQUIRE(ok);
    }
    a_granted = true;
    co_await locks.ctx(1).sleep_for(10ms);
    {
      const bool ok =
          bool(co_await locks.client(1).release(1));  // (never co_await inside a Catch macro)
      REQUIRE(ok);
    }
    a_released = true;
  });
  // Client 1's grant is held back; client 2 then asks, so the server revokes client 1's lock.
  world.run_for(50ms);
  std::optional<dsys::core::Time> b_granted;
  locks.ctx(2).spawn([&]() -> Task<void> {
    {
      const bool ok =
          bool(co_await locks.client(2).acquire(1));  // (never co_await inside a Catch macro)
      REQUIRE(ok);
    }
    b_granted = locks.ctx(2).now();
    {
      const bool ok =
          bool(co_await locks.client(2).release(1));  // (never co_await inside a Catch macro)
      REQUIRE(ok);
    }
  });
  world.run_for(200ms);
  auto revoke = to_a.find([](auto& m) { return is_request(m, dsys::lock::Revoke::kId); });
  auto grant = to_a.find([](auto& m) { return is_acquire_reply(m, dsys::lock::Status::ok); });
  REQUIRE(revoke);
  REQUIRE(grant);
  REQUIRE_FALSE(a_granted);
  to_a.deliver({*revoke, *grant});  // the revoke first
  world.run_until([&] { return a_released; }, 1min);
  REQUIRE(a_released);
  // Client 1 remembered the revoke: its release gave the lock back at once, instead of caching
  // it until the server asked again (kRevokeEvery later).
  CHECK(locks.client(1).state(1) != LockState::free);
  const auto released_at = world.now();
  world.run_until([&] { return b_granted.has_value(); }, 1min);
  REQUIRE(b_granted);
  CHECK(*b_granted - released_at < 1s);
}

TEST_CASE("lab 5: race: a retry that arrives before the \"retry\" reply is not forgotten",
          "[lab5][part1][points:10][timeout:60]") {
  TestWorld world({.seed = 506, .label = "lab5-retry-first"});
  Locks locks(world, 2);
  locks.check_exclusion({4});
  // Client 2 holds the lock (a user holds it for 30 ms).
  bool b_done = false;
  locks.ctx(2).spawn([&]() -> Task<void> {
    {
      const bool ok =
          bool(co_await locks.client(2).acquire(4));  // (never co_await inside a Catch macro)
      REQUIRE(ok);
    }
    co_await locks.ctx(2).sleep_for(30ms);
    {
      const bool ok =
          bool(co_await locks.client(2).release(4));  // (never co_await inside a Catch macro)
      REQUIRE(ok);
    }
    b_done = true;
  });
  world.run_for(10ms);
  HeldLink to_a(world, locks.server, locks.nodes[0]);
  std::optional<dsys::core::Time> a_granted;
  locks.ctx(1).spawn([&]() -> Task<void> {
    {
      const bool ok =
          bool(co_await locks.client(1).acquire(4));  // (never co_await inside a Catch macro)
      REQUIRE(ok);
    }
    a_granted = locks.ctx(1).now();
  });
  // Client 1 is told "retry" (held); the server revokes client 2's lock, gets it back when client
  // 2's user is done, and sends client 1 a Retry (held too).
  world.run_until(
      [&] {
        return b_done && to_a.find([](auto& m) { return is_request(m, dsys::lock::Retry::kId); });
      },
      1min);
  auto retry = to_a.find([](auto& m) { return is_request(m, dsys::lock::Retry::kId); });
  auto later = to_a.find([](auto& m) { return is_acquire_reply(m, dsys::lock::Status::retry); });
  REQUIRE(retry);
  REQUIRE(later);
  REQUIRE(b_done);
  const auto delivered_at = world.now();
  to_a.deliver({*retry, *later});  // the Retry first
  world.run_until([&] { return a_granted.has_value(); }, 1min);
  REQUIRE(a_granted);
  // Client 1 asked again as soon as the "retry" reply came, because the Retry had come: not a
  // second later, when it would have asked again anyway.
  CHECK(*a_granted - delivered_at < 500ms);
}

TEST_CASE(
    "lab 5: race: local users that keep taking a revoked lock do not starve the other "
    "client",
    "[lab5][part1][points:5][timeout:60]") {
  {
    // First, step by step on a reliable network: user 1 of client 1 holds the lock, users 2 and
    // 3 wait for it, and the server's Revoke arrives. At user 1's release the lock goes back to
    // the server (client 2 asked first), however many local users wait.
    TestWorld world({.seed = 517, .label = "lab5-starve-steps"});
    Locks locks(world, 2);
    locks.check_exclusion({3});
    bool revoked = false;
    world.set_tap([&](NodeId from, NodeId to, const dsys::core::Bytes& m) {
      if (from == locks.server && to == locks.nodes[0] && is_request(m, dsys::lock::Revoke::kId)) {
        revoked = true;
      }
    });
    std::vector<std::string> granted;  // who got the lock, in order
    bool release_now = false;
    locks.ctx(1).spawn([&]() -> Task<void> {
      if (!co_await locks.client(1).acquire(3)) co_return;
      granted.push_back("client 1 user 1");
      while (!release_now) co_await locks.ctx(1).sleep_for(1ms);
      co_await locks.client(1).release(3);
    });
    REQUIRE(world.run_until([&] { return granted.size() == 1; }, 10s));
    for (int user = 2; user <= 3; ++user) {
      locks.ctx(1).spawn([&, user]() -> Task<void> {
        if (!co_await locks.client(1).acquire(3)) co_return;
        granted.push_back(fmt::format("client 1 user {}", user));
        co_await locks.client(1).release(3);
      });
    }
    world.run_for(50ms);  // users 2 and 3 wait for user 1
    locks.ctx(2).spawn([&]() -> Task<void> {
      if (!co_await locks.client(2).acquire(3)) co_return;
      granted.push_back("client 2");
      co_await locks.client(2).release(3);
    });
    REQUIRE(world.run_until([&] { return revoked; }, 10s));
    world.run_for(50ms);  // the Revoke has arrived, and user 1 still holds the lock
    release_now = true;
    const bool all = world.run_until([&] { return granted.size() == 4; }, 30s);
    INFO("who got the lock, in order: " << fmt::format("{}", fmt::join(granted, ", ")));
    REQUIRE(all);
    INFO(
        "a Revoke came while user 1 held the lock: at its release the lock goes back to the "
        "server for client 2, before client 1's waiting users 2 and 3 take it");
    CHECK(granted[1] == "client 2");
  }
  TestWorld world({.seed = 507, .faults = dsys::testing::lossy_network(), .label = "lab5-starve"});
  Locks locks(world, 2);
  locks.check_exclusion({2});
  bool stop = false;
  // Client 1: four users that take the lock again and again, for 20 s.
  for (int user = 0; user < 4; ++user) {
    locks.ctx(1).spawn([&]() -> Task<void> {
      while (!stop) {
        if (!co_await locks.client(1).acquire(2)) continue;
        co_await locks.ctx(1).sleep_for(1ms);
        co_await locks.client(1).release(2);
      }
    });
  }
  world.run_for(100ms);
  std::optional<dsys::core::Duration> waited;
  locks.ctx(2).spawn([&]() -> Task<void> {
    const auto asked = locks.ctx(2).now();
    if (co_await locks.client(2).acquire(2)) {
      waited = locks.ctx(2).now() - asked;
      co_await locks.client(2).release(2);
    }
  });
  world.run_until([&] { return waited.has_value(); }, 20s);
  stop = true;
  INFO(
      "client 2 never got the lock in 20 s: client 1 handed it to its own users after the "
      "revoke instead of giving it back");
  REQUIRE(waited);
  CHECK(*waited < 2s);
  world.run_for(1s);
}

TEST_CASE("lab 5: a restarted client gives back at once a lock its old incarnation held",
          "[lab5][part1][part2][points:5][timeout:60]") {
  TestWorld world({.seed = 508, .label = "lab5-restart"});
  Locks locks(world, 2);
  bool a_has = false;
  locks.ctx(1).spawn([&]() -> Task<void> {
    {
      const bool ok =
          bool(co_await locks.client(1).acquire(5));  // (never co_await inside a Catch macro)
      REQUIRE(ok);
    }
    a_has = true;  // and never releases it: the node crashes holding it
  });
  world.run_until([&] { return a_has; }, 1min);
  world.crash(locks.nodes[0]);
  world.restart(locks.nodes[0]);  // a new incarnation at the same address, knowing nothing
  std::optional<dsys::core::Time> b_granted;
  locks.ctx(2).spawn([&]() -> Task<void> {
    if (co_await locks.client(2).acquire(5)) b_granted = locks.ctx(2).now();
  });
  world.run_until([&] { return b_granted.has_value(); }, 1min);
  INFO(
      "client 2 never got the lock: the restarted client 1 must give back, when revoked, a lock "
      "it does not know it has");
  REQUIRE(b_granted);
  // Client 1's Release may still wait for its reply when client 2 has the lock: then it is done.
  world.run_until([&] { return locks.client(1).state(5) != LockState::releasing; }, 1min);
  CHECK(locks.client(1).state(5) == LockState::none);
}

// ------------------------------------------------------------ part 3: yfs over caching locks

namespace {

using Lab4Yfs =
    dsys::testing::SimYfs<dsys::lab2::ExtentServer, dsys::lab4::Node, dsys::lab1::LockServer>;
using Lab5Yfs =
    dsys::testing::SimYfs<dsys::lab2::ExtentServer, dsys::lab5::Node, CachingLockServer>;

// Each of two clients makes a directory, creates 100 files in it and deletes 99, at once
// (`shared`: all in one directory, made first). Returns the clients' acquire RPCs.
template <class Yfs>
std::uint64_t create_and_delete(std::uint64_t seed, std::string label, bool shared) {
  TestWorld world({.seed = seed, .faults = dsys::testing::lossy_network(), .label = label});
  Yfs yfs(world, 2);
  yfs.check_directories();
  if (shared) REQUIRE(yfs.run(1, [](auto& fs) { return fs.mkdir(dsys::fs::kRootInum, "shared"); }));
  using Errors = std::vector<std::string>;
  std::vector<std::shared_ptr<std::optional<Errors>>> results;
  for (int client = 1; client <= 2; ++client) {
    results.push_back(yfs.start(client, [client, shared](auto& fs) -> Task<Errors> {
      Errors errors;
      auto dir = shared ? co_await fs.lookup(dsys::fs::kRootInum, "shared")
                        : co_await fs.mkdir(dsys::fs::kRootInum, fmt::format("dir-{}", client));
      if (!dir)
        co_return Errors{fmt::format("client {}: directory: {}", client, to_string(dir.error()))};
      for (int i = 0; i < 100; ++i) {
        auto r = co_await fs.create(*dir, fmt::format("c{}-f{}", client, i));
        if (!r)
          errors.push_back(fmt::format("create c{}-f{}: {}", client, i, to_string(r.error())));
      }
      for (int i = 0; i < 99; ++i) {
        auto r = co_await fs.unlink(*dir, fmt::format("c{}-f{}", client, i));
        if (!r)
          errors.push_back(fmt::format("unlink c{}-f{}: {}", client, i, to_string(r.error())));
      }
      co_return errors;
    }));
  }
  const bool done = world.run_until(
      [&] {
        return std::all_of(results.begin(), results.end(), [](auto& r) { return r->has_value(); });
      },
      60min);
  REQUIRE(done);
  for (auto& r : results) {
    INFO(join(**r));
    CHECK((*r)->empty());
  }
  // Exactly the one file left by each client.
  std::set<std::string> left;
  for (const std::string& dir :
       shared ? std::vector<std::string>{"shared"} : std::vector<std::string>{"dir-1", "dir-2"}) {
    auto inum = yfs.run(1, [dir](auto& fs) { return fs.lookup(dsys::fs::kRootInum, dir); });
    REQUIRE(inum);
    auto entries = yfs.run(2, [i = *inum](auto& fs) { return fs.readdir(i); });
    REQUIRE(entries);
    for (const auto& e : *entries) left.insert(e.name);
  }
  CHECK(left == std::set<std::string>{"c1-f99", "c2-f99"});
  std::uint64_t calls = 0;
  for (int client = 1; client <= 2; ++client) {
    dsys::rpc::Endpoint& endpoint = dsys::rpc::Endpoint::of(world.context(yfs.client(client)));
    calls += endpoint.stats<dsys::lock::Acquire>().calls;
  }
  return calls;
}

}  // namespace

TEST_CASE(
    "lab 5: yfs over caching locks: 100 creates and 99 deletes per client, with at least "
    "10 times fewer acquire RPCs than lab 4",
    "[lab5][part3][points:10][timeout:180]") {
  const auto lab4 = create_and_delete<Lab4Yfs>(509, "lab5-lab4-baseline", false);
  const auto lab5 = create_and_delete<Lab5Yfs>(509, "lab5-own-dirs", false);
  std::cout << fmt::format(
                   "dsys: acquire RPCs, each client in its own directory: lab 4 {}, lab "
                   "5 {} ({:.1f}x fewer)",
                   lab4, lab5, static_cast<double>(lab4) / std::max<std::uint64_t>(lab5, 1))
            << std::endl;
  INFO("acquire RPCs: lab 4's client " << lab4 << ", your caching client " << lab5);
  CHECK(lab5 * 10 <= lab4);
}

TEST_CASE("lab 5: yfs over caching locks, both clients in one directory: correct and live",
          "[lab5][part3][points:5][timeout:180]") {
  const auto lab4 = create_and_delete<Lab4Yfs>(510, "lab5-lab4-shared", true);
  const auto lab5 = create_and_delete<Lab5Yfs>(510, "lab5-shared", true);
  std::cout << fmt::format("dsys: acquire RPCs, both clients in one directory: lab 4 {}, lab 5 {}",
                           lab4, lab5)
            << std::endl;
  SUCCEED("acquire RPCs: lab 4 " << lab4 << ", lab 5 " << lab5);
}

// ------------------------------------------------------------ real processes and FUSE mounts

TEST_CASE("lab 5: two real mounts over the caching lock server pass yfs_tester lab4",
          "[lab5][processes][points:5][timeout:200]") {
  dsys::testing::check_yfs_tester(DSYS_APPS_DIR, "lab4", 0);
}

TEST_CASE("lab 5: two real mounts over a lossy caching lock server pass yfs_tester lab4",
          "[lab5][processes][points:5][timeout:200]") {
  dsys::testing::check_yfs_tester(DSYS_APPS_DIR, "lab4", 5);
}

TEST_CASE(
    "lab 5: two lock_testers at once pass, over a reliable and over a lossy caching lock "
    "server",
    "[lab5][processes][points:5][timeout:300]") {
  for (const char* lossy : {"DSYS_RPC_LOSSY=0", "DSYS_RPC_LOSSY=5"}) {
    INFO(lossy << " for the lock server and both testers");
    const std::vector<std::string> env = {lossy};
    dsys::testing::Process server({DSYS_APPS_DIR "/lock_server", "0"}, env);
    auto line = server.wait_for_line("listening on", 20s);
    INFO("lock_server output:\n" << server.output());
    REQUIRE(line);
    const std::string port = line->substr(line->rfind(':') + 1);
    dsys::testing::Process first({DSYS_APPS_DIR "/lock_tester", port}, env);
    dsys::testing::Process second({DSYS_APPS_DIR "/lock_tester", port}, env);
    auto first_status = first.wait(120s);
    auto second_status = second.wait(120s);
    INFO("first lock_tester:\n" << first.output() << "second lock_tester:\n" << second.output());
    REQUIRE(first_status);
    REQUIRE(second_status);
    CHECK(*first_status == 0);
    CHECK(*second_status == 0);
    CHECK_THAT(first.output(), Catch::Contains("passed all tests successfully"));
    CHECK_THAT(second.output(), Catch::Contains("passed all tests successfully"));
  }
}
