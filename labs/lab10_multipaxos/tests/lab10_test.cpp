// Lab 10's graded tests. Points and time limits are the [points:N] and [timeout:S] tags.
// Run them all with `./dsys grade lab10`, one with `./dsys grade lab10 --only "<name>"`.
//
// Parts 1 to 3 are tested alone, with scripted messages: the acceptor on a simulated disk that
// the tests crash between its calls (keeping only what was synced, perhaps with a torn last
// append), the proposer with scripted promise sets (as DAT520's proposer tests do), and the
// learner with learns that arrive out of order and twice. Part 4 runs groups of PaxosNodes in the
// simulated world, with clients appending commands, and checks safety at every event (at most one
// value a slot, every delivered log a prefix of the others, only appended commands delivered,
// no promise broken nor acceptance undone across restarts) and, once the network has been stable
// for long enough (liveness_bound below, and the handout's "liveness"), that every command is
// delivered in time.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "acceptor.hpp"
#include "dsys/core/rng.hpp"
#include "dsys/multipaxos/client.hpp"
#include "dsys/multipaxos/protocol.hpp"
#include "dsys/rpc/marshal.hpp"
#include "dsys/rpc/wire.hpp"
#include "dsys/sim/world.hpp"
#include "dsys/testing/lab.hpp"
#include "dsys/testing/process.hpp"
#include "dsys/testing/scenario.hpp"
#include "learner.hpp"
#include "paxos_node.hpp"
#include "proposer.hpp"

using namespace std::chrono_literals;
using dsys::lab10::Acceptor;
using dsys::lab10::Learner;
using dsys::lab10::Proposer;
using dsys::multipaxos::AcceptedReply;
using dsys::multipaxos::AcceptedSlot;
using dsys::multipaxos::AcceptRequest;
using dsys::multipaxos::Command;
using dsys::multipaxos::LearnRequest;
using dsys::multipaxos::NodeId;
using dsys::multipaxos::PrepareRequest;
using dsys::multipaxos::PromiseReply;
using dsys::multipaxos::Round;
using dsys::multipaxos::Slot;
using dsys::multipaxos::Value;
using dsys::sim::MemoryDisk;
using dsys::sim::UnsyncedWrites;

namespace {

// ------------------------------------------------------------ helpers

// A value of commands (client 1's sequence numbers), or a no-op with none.
Value value_of(std::initializer_list<std::uint64_t> sequences, std::uint64_t client = 1) {
  std::vector<Command> commands;
  for (auto s : sequences) commands.emplace_back(client, s, fmt::format("c{}.{}", client, s));
  return Value(std::move(commands));
}

Command command(std::uint64_t sequence, std::uint64_t client = 1) {
  return {client, sequence, fmt::format("c{}.{}", client, sequence)};
}

std::string describe(const AcceptedSlot& a) {
  return fmt::format("slot {} round {} {}", a.slot, to_string(a.round), to_string(a.value));
}

// "slot 3 round 2.1 [1:4]": what the tests compare, so that a failure prints what differs.
std::vector<std::string> describe(const std::vector<AcceptRequest>& accepts) {
  std::vector<std::string> out;
  for (const auto& a : accepts)
    out.push_back(
        fmt::format("slot {} round {} {}", a.slot, to_string(a.round), to_string(a.value)));
  return out;
}

std::vector<std::string> describe(const std::vector<AcceptedSlot>& accepted) {
  std::vector<std::string> out;
  for (const auto& a : accepted) out.push_back(describe(a));
  return out;
}

std::vector<std::string> describe(const std::vector<std::pair<Slot, Value>>& delivered) {
  std::vector<std::string> out;
  for (const auto& [slot, value] : delivered)
    out.push_back(fmt::format("slot {} {}", slot, to_string(value)));
  return out;
}

// An acceptor of node 1 on a disk that outlives it; restart() crashes the disk (what was not
// synced is lost, the last append perhaps torn, as the seed chooses) and reads it back.
struct AcceptorOnDisk {
  MemoryDisk disk;
  dsys::core::Rng rng{dsys::testing::seed(1001)};
  std::optional<Acceptor> acceptor;
  AcceptorOnDisk() { acceptor.emplace(1, disk); }
  Acceptor& operator*() { return *acceptor; }
  Acceptor* operator->() { return &*acceptor; }
  void restart(UnsyncedWrites policy = UnsyncedWrites::torn) {
    acceptor.reset();
    disk.crash(policy, rng);
    acceptor.emplace(1, disk);
  }
};

// Every acceptance of slots 1..last, as describe() prints them.
std::vector<std::string> acceptances(Acceptor& a, Slot last) {
  std::vector<std::string> out;
  for (Slot s = 1; s <= last; ++s)
    if (auto accepted = a.accepted(s)) out.push_back(describe(*accepted));
  return out;
}

constexpr Round r11{1, 1}, r12{1, 2}, r21{2, 1}, r22{2, 2}, r31{3, 1}, r33{3, 3};

}  // namespace

// ------------------------------------------------------------ part 1: the acceptor

TEST_CASE(
    "lab 10: the acceptor promises a round at least its promise, refuses a lower one naming "
    "its promise, and a promise carries the accepted slots from the prepare's slot on",
    "[lab10][part1][points:4][timeout:30]") {
  AcceptorOnDisk a;
  CHECK(a->promised().none());
  auto p = a->prepare(PrepareRequest(2, r12, 1));
  CHECK(p.ok);
  CHECK(p.from == 1);
  CHECK(p.round == r12);
  CHECK(p.promised == r12);
  CHECK(p.accepted.empty());
  CHECK(a->promised() == r12);
  INFO("the same prepare again (its reply was lost): promised again");
  CHECK(a->prepare(PrepareRequest(2, r12, 1)).ok);
  INFO("a lower round is refused, naming the promise; the promise stays");
  auto low = a->prepare(PrepareRequest(1, r11, 1));
  CHECK_FALSE(low.ok);
  CHECK(low.round == r11);
  CHECK(low.promised == r12);
  CHECK(a->promised() == r12);
  // Slots 1, 2, 4 and 7 accepted in round 1.2, slot 4 again in round 2.1 (after a prepare).
  for (Slot s : {1, 2, 4, 7}) CHECK(a->accept(AcceptRequest(2, r12, s, value_of({s}))).ok);
  CHECK(a->prepare(PrepareRequest(1, r21, 3)).ok);
  CHECK(a->accept(AcceptRequest(1, r21, 4, value_of({40}))).ok);
  INFO(
      "a prepare from slot 3 carries slots 4 and 7 (not 1 and 2), in order, each with the "
      "round and value of its last acceptance");
  auto q = a->prepare(PrepareRequest(2, r22, 3));
  REQUIRE(q.ok);
  CHECK(describe(q.accepted) ==
        std::vector<std::string>{"slot 4 round 2.1 [1:40]", "slot 7 round 1.2 [1:7]"});
  CHECK(q.promised == r22);
  INFO("from slot 1: every accepted slot");
  auto all = a->prepare(PrepareRequest(3, r33, 1));
  REQUIRE(all.ok);
  CHECK(all.accepted.size() == 4);
  CHECK(all.compacted == 0);
}

TEST_CASE(
    "lab 10: the acceptor accepts unless a higher round was promised, an accept raises its "
    "promise, and a refusal changes nothing",
    "[lab10][part1][points:4][timeout:30]") {
  AcceptorOnDisk a;
  INFO("an accept with no prepare before it is taken (nothing higher was promised)");
  auto first = a->accept(AcceptRequest(2, r12, 1, value_of({1})));
  CHECK(first.ok);
  CHECK(first.from == 1);
  CHECK(first.slot == 1);
  CHECK(first.round == r12);
  CHECK(first.promised == r12);
  CHECK(a->promised() == r12);
  REQUIRE(a->accepted(1));
  CHECK(describe(*a->accepted(1)) == "slot 1 round 1.2 [1:1]");
  INFO("a promise of round 3.1 refuses accepts below it, and they change nothing");
  CHECK(a->prepare(PrepareRequest(1, r31, 1)).ok);
  auto refused = a->accept(AcceptRequest(2, r22, 1, value_of({2})));
  CHECK_FALSE(refused.ok);
  CHECK(refused.promised == r31);
  CHECK(refused.slot == 1);
  CHECK(describe(*a->accepted(1)) == "slot 1 round 1.2 [1:1]");
  CHECK_FALSE(a->accept(AcceptRequest(2, r22, 2, value_of({2}))).ok);
  CHECK_FALSE(a->accepted(2));
  INFO("an accept of the promised round is taken; a higher one raises the promise");
  CHECK(a->accept(AcceptRequest(1, r31, 1, value_of({3}))).ok);
  CHECK(describe(*a->accepted(1)) == "slot 1 round 3.1 [1:3]");
  CHECK(a->accept(AcceptRequest(3, r33, 5, Value())).ok);
  CHECK(a->promised() == r33);
  CHECK(describe(*a->accepted(5)) == "slot 5 round 3.3 noop");
  CHECK_FALSE(a->prepare(PrepareRequest(1, r31, 1)).ok);
}

TEST_CASE(
    "lab 10: the acceptor keeps every promise and acceptance it revealed across crashes of "
    "its disk, a torn tail included",
    "[lab10][part1][points:4][timeout:30]") {
  AcceptorOnDisk a;
  std::vector<std::string> expected;
  Round promise;
  auto same_after_crash = [&](UnsyncedWrites policy) {
    a.restart(policy);
    CHECK(a->promised() == promise);
    CHECK(acceptances(*a, 20) == expected);
  };
  // Each reply, once returned, may have left: what it revealed must survive any crash after it,
  // even one that loses every write not synced.
  REQUIRE(a->prepare(PrepareRequest(2, r12, 1)).ok);
  promise = r12;
  same_after_crash(UnsyncedWrites::lost);
  for (Slot s = 1; s <= 6; ++s) {
    REQUIRE(a->accept(AcceptRequest(2, r12, s, value_of({s}))).ok);
    expected.push_back(fmt::format("slot {} round 1.2 [1:{}]", s, s));
    same_after_crash(s % 2 ? UnsyncedWrites::lost : UnsyncedWrites::torn);
  }
  REQUIRE(a->prepare(PrepareRequest(1, r21, 1)).ok);
  promise = r21;
  same_after_crash(UnsyncedWrites::lost);
  INFO("an accept of a higher round with no prepare raises the promise durably too");
  REQUIRE(a->accept(AcceptRequest(3, r33, 3, value_of({33}))).ok);
  promise = r33;
  expected[2] = "slot 3 round 3.3 [1:33]";
  same_after_crash(UnsyncedWrites::lost);
  INFO(
      "a torn record after the last good one (a crash in the middle of an append) is dropped, "
      "and the log goes on after the good ones");
  a.acceptor.reset();
  a.disk.append(Acceptor::kLogKey, std::string("\x13\x00\x00\x00torn", 8));
  a.disk.sync();
  a.acceptor.emplace(1, a.disk);
  CHECK(a->promised() == promise);
  CHECK(acceptances(*a, 20) == expected);
  REQUIRE(a->accept(AcceptRequest(3, r33, 7, value_of({7}))).ok);
  expected.push_back("slot 7 round 3.3 [1:7]");
  same_after_crash(UnsyncedWrites::lost);
  INFO("a refused request leaves the disk as it was");
  CHECK_FALSE(a->prepare(PrepareRequest(1, r21, 1)).ok);
  same_after_crash(UnsyncedWrites::kept);
}

TEST_CASE(
    "lab 10: compaction forgets decided slots, durably, keeps the acceptor's log bounded, and "
    "a promise then reports what was compacted",
    "[lab10][part1][points:4][timeout:30]") {
  AcceptorOnDisk a;
  REQUIRE(a->prepare(PrepareRequest(2, r12, 1)).ok);
  for (Slot s = 1; s <= 100; ++s) REQUIRE(a->accept(AcceptRequest(2, r12, s, value_of({s}))).ok);
  CHECK(a->log_records() == 100);
  a->compact(60);
  CHECK(a->compacted() == 60);
  CHECK_FALSE(a->accepted(60));
  CHECK(a->accepted(61));
  INFO("the log no longer holds the slots compacted");
  CHECK(a->log_records() == 40);
  INFO("the compaction is durable when compact() returns");
  a.restart(UnsyncedWrites::lost);
  CHECK(a->compacted() == 60);
  CHECK(a->log_records() == 40);
  CHECK(a->promised() == r12);
  INFO("a lower mark changes nothing");
  a->compact(10);
  CHECK(a->compacted() == 60);
  auto p = a->prepare(PrepareRequest(3, r33, 1));
  REQUIRE(p.ok);
  CHECK(p.compacted == 60);
  REQUIRE(p.accepted.size() == 40);
  CHECK(p.accepted.front().slot == 61);
  INFO("an accept for a compacted slot is answered ok, and nothing about it is stored");
  CHECK(a->accept(AcceptRequest(3, r33, 5, value_of({5}))).ok);
  CHECK_FALSE(a->accepted(5));
  INFO("after a crash: the same mark, the same slots, the same log");
  a.restart(UnsyncedWrites::lost);
  CHECK(a->compacted() == 60);
  CHECK_FALSE(a->accepted(59));
  CHECK(describe(*a->accepted(61)) == "slot 61 round 1.2 [1:61]");
  CHECK(a->log_records() == 40);
  CHECK(a->promised() == r33);
  INFO("a long run that compacts what it delivers keeps the log small");
  std::size_t most = 0;
  for (Slot s = 101; s <= 2000; ++s) {
    REQUIRE(a->accept(AcceptRequest(3, r33, s, value_of({s}))).ok);
    if (s % 10 == 0) a->compact(s - 5);
    if (s > 110) most = std::max(most, a->log_records());  // after the first of these
  }
  CHECK(most <= 20);
}

// ------------------------------------------------------------ part 2: the proposer

namespace {

// A promise of `from` for `round`, reporting these acceptances.
PromiseReply promise_of(NodeId from, Round round, std::vector<AcceptedSlot> accepted = {},
                        Slot compacted = 0) {
  PromiseReply p;
  p.from = from;
  p.ok = true;
  p.round = round;
  p.promised = round;
  p.accepted = std::move(accepted);
  p.compacted = compacted;
  return p;
}

PromiseReply refusal(NodeId from, Round round, Round promised) {
  PromiseReply p;
  p.from = from;
  p.ok = false;
  p.round = round;
  p.promised = promised;
  return p;
}

// Node 2 of three, made leader: its phase 1 is under way (round 1.2, or above `seen`).
Proposer preparing(std::size_t alpha = Proposer::kAlpha, std::size_t batch = Proposer::kBatch,
                   Round seen = {}) {
  Proposer p(2, {1, 2, 3}, alpha, batch);
  if (!seen.none()) p.round_seen(seen);
  REQUIRE(p.leader_changed(2));
  REQUIRE(p.state() == Proposer::State::preparing);
  return p;
}

// Node 2, leading in round 1.2 after empty promises from 2 and 3.
Proposer leading(std::size_t alpha = Proposer::kAlpha, std::size_t batch = Proposer::kBatch) {
  Proposer p = preparing(alpha, batch);
  REQUIRE(p.round() == Round{1, 2});
  REQUIRE(p.promise(promise_of(2, p.round())).empty());
  REQUIRE(p.promise(promise_of(3, p.round())).empty());
  REQUIRE(p.state() == Proposer::State::leading);
  return p;
}

}  // namespace

TEST_CASE(
    "lab 10: the proposer starts phase 1 when its node is trusted, with a round above every "
    "round seen, for every slot it has not delivered, and stops when another node is",
    "[lab10][part2][points:3][timeout:30]") {
  Proposer p(2, {1, 2, 3});
  CHECK(p.state() == Proposer::State::idle);
  INFO("another node trusted: nothing to do");
  CHECK_FALSE(p.leader_changed(3));
  CHECK_FALSE(p.leader_changed(std::nullopt));
  CHECK(p.state() == Proposer::State::idle);
  p.round_seen(Round{4, 3});
  CHECK(p.delivered(6).empty());
  auto prepare = p.leader_changed(2);
  REQUIRE(prepare);
  CHECK(prepare->from == 2);
  CHECK(prepare->round == Round{5, 2});
  CHECK(prepare->from_slot == 7);
  CHECK(p.state() == Proposer::State::preparing);
  CHECK(p.round() == Round{5, 2});
  INFO("trusted again while preparing: no second phase 1");
  CHECK_FALSE(p.leader_changed(2));
  INFO("another node trusted: idle; trusted again: a new round, above its own");
  CHECK_FALSE(p.leader_changed(1));
  CHECK(p.state() == Proposer::State::idle);
  auto again = p.leader_changed(2);
  REQUIRE(again);
  CHECK(again->round == Round{6, 2});
}

TEST_CASE(
    "lab 10: a proposer that gets a majority of promises proposes each reported slot with the "
    "value of the highest round reported for it, and fills the gaps with no-ops",
    "[lab10][part2][points:5][timeout:30]") {
  SECTION("no acceptor accepted anything: leading, nothing to propose") {
    Proposer p = preparing();
    CHECK(p.promise(promise_of(1, p.round())).empty());
    CHECK(p.state() == Proposer::State::preparing);
    CHECK(p.promise(promise_of(3, p.round())).empty());
    CHECK(p.state() == Proposer::State::leading);
    CHECK(p.next_slot() == 1);
  }
  SECTION("the highest round per slot wins, whichever promise reports it") {
    Proposer p = preparing(Proposer::kAlpha, Proposer::kBatch, Round{2, 3});
    const Round r = p.round();
    REQUIRE(r == Round{3, 2});
    CHECK(p.promise(promise_of(1, r,
                               {{1, Round{1, 1}, value_of({1})},
                                {2, Round{2, 3}, value_of({20})},
                                {3, Round{1, 1}, value_of({3})}}))
              .empty());
    INFO("a promise repeated counts once");
    CHECK(p.promise(promise_of(1, r)).empty());
    CHECK(p.state() == Proposer::State::preparing);
    auto accepts = p.promise(promise_of(3, r,
                                        {{1, Round{2, 3}, value_of({10})},
                                         {2, Round{1, 1}, value_of({2})},
                                         {3, Round{1, 1}, value_of({3})}}));
    CHECK(describe(accepts) == std::vector<std::string>{"slot 1 round 3.2 [1:10]",
                                                        "slot 2 round 3.2 [1:20]",
                                                        "slot 3 round 3.2 [1:3]"});
    CHECK(p.state() == Proposer::State::leading);
    CHECK(p.next_slot() == 4);
    INFO("a promise after the majority changes nothing");
    CHECK(p.promise(promise_of(2, r, {{9, Round{2, 3}, value_of({9})}})).empty());
  }
  SECTION("gaps become no-ops, up to the highest slot reported") {
    Proposer p = preparing();
    const Round r = p.round();
    CHECK(p.promise(promise_of(1, r, {{2, Round{1, 1}, value_of({2})}})).empty());
    auto accepts = p.promise(promise_of(3, r, {{5, Round{1, 1}, value_of({5})}}));
    CHECK(describe(accepts) ==
          std::vector<std::string>{"slot 1 round 1.2 noop", "slot 2 round 1.2 [1:2]",
                                   "slot 3 round 1.2 noop", "slot 4 round 1.2 noop",
                                   "slot 5 round 1.2 [1:5]"});
    CHECK(p.next_slot() == 6);
  }
  SECTION("promises for another round, or from outside the group, do not count") {
    Proposer p = preparing();
    CHECK(p.promise(promise_of(1, Round{9, 9})).empty());
    CHECK(p.promise(promise_of(7, p.round())).empty());
    CHECK(p.promise(promise_of(1, p.round())).empty());
    CHECK(p.state() == Proposer::State::preparing);
  }
}

TEST_CASE(
    "lab 10: a proposer does not propose slots its node delivered, nor slots a promise says "
    "were compacted",
    "[lab10][part2][points:3][timeout:30]") {
  SECTION("slots at or below the delivered prefix") {
    Proposer p(2, {1, 2, 3});
    p.delivered(3);
    auto prepare = p.leader_changed(2);
    REQUIRE(prepare);
    CHECK(prepare->from_slot == 4);
    // An acceptor that reports old slots anyway: they are not proposed again.
    CHECK(p.promise(promise_of(1, p.round(),
                               {{2, Round{1, 1}, value_of({2})}, {5, Round{1, 1}, value_of({5})}}))
              .empty());
    auto accepts = p.promise(promise_of(3, p.round(), {{3, Round{1, 1}, value_of({3})}}));
    CHECK(describe(accepts) ==
          std::vector<std::string>{"slot 4 round 1.2 noop", "slot 5 round 1.2 [1:5]"});
  }
  SECTION("slots an acceptor compacted: decided, fetched, not proposed") {
    Proposer p = preparing();
    CHECK(p.promise(promise_of(1, p.round(), {{9, Round{1, 1}, value_of({9})}}, 8)).empty());
    auto accepts = p.promise(promise_of(3, p.round(), {{4, Round{1, 1}, value_of({4})}}));
    CHECK(describe(accepts) == std::vector<std::string>{"slot 9 round 1.2 [1:9]"});
    CHECK(p.next_slot() == 10);
  }
}

TEST_CASE(
    "lab 10: a proposer steps down when a higher round is seen, and its next phase 1 goes "
    "above that round",
    "[lab10][part2][points:3][timeout:30]") {
  SECTION("a refused promise") {
    Proposer p = preparing();
    CHECK(p.promise(refusal(1, p.round(), Round{4, 3})).empty());
    CHECK(p.state() == Proposer::State::idle);
    INFO("still trusted: the next retry starts phase 1 again, above round 4.3");
    auto resend = p.retry();
    REQUIRE(resend.prepare);
    CHECK(resend.prepare->round == Round{5, 2});
  }
  SECTION("a refused accept while leading") {
    Proposer p = leading();
    CHECK(describe(p.submit(command(1))) == std::vector<std::string>{"slot 1 round 1.2 [1:1]"});
    AcceptedReply refused;
    refused.from = 3;
    refused.ok = false;
    refused.round = Round{1, 2};
    refused.slot = 1;
    refused.promised = Round{2, 1};
    p.accepted(refused);
    CHECK(p.state() == Proposer::State::idle);
    INFO("idle: a command is not queued");
    CHECK(p.submit(command(2)).empty());
    CHECK(p.queued() == 0);
  }
  SECTION("a round seen elsewhere; a lower one changes nothing") {
    Proposer p = leading();
    p.round_seen(Round{1, 1});
    CHECK(p.state() == Proposer::State::leading);
    p.round_seen(Round{1, 3});
    CHECK(p.state() == Proposer::State::idle);
    INFO("another node trusted now: the retry does not start phase 1");
    CHECK_FALSE(p.leader_changed(3));
    auto resend = p.retry();
    CHECK_FALSE(resend.prepare);
    CHECK(resend.accepts.empty());
  }
}

TEST_CASE(
    "lab 10: a leading proposer has at most alpha slots beyond what its node delivered, and "
    "puts the commands that wait in one slot, up to its batch",
    "[lab10][part2][points:4][timeout:30]") {
  SECTION("alpha 2, batch 1: one command a slot, two slots at a time") {
    Proposer p = leading(2, 1);
    CHECK(describe(p.submit(command(1))) == std::vector<std::string>{"slot 1 round 1.2 [1:1]"});
    CHECK(describe(p.submit(command(2))) == std::vector<std::string>{"slot 2 round 1.2 [1:2]"});
    CHECK(p.submit(command(3)).empty());
    CHECK(p.submit(command(4)).empty());
    CHECK(p.queued() == 2);
    CHECK(describe(p.delivered(1)) == std::vector<std::string>{"slot 3 round 1.2 [1:3]"});
    CHECK(describe(p.delivered(3)) == std::vector<std::string>{"slot 4 round 1.2 [1:4]"});
    CHECK(p.queued() == 0);
    CHECK(p.delivered(2).empty());
  }
  SECTION("alpha 1, batch 3: what waits goes in one slot, three at most") {
    Proposer p = leading(1, 3);
    CHECK(describe(p.submit(command(1))) == std::vector<std::string>{"slot 1 round 1.2 [1:1]"});
    for (std::uint64_t s = 2; s <= 6; ++s) CHECK(p.submit(command(s)).empty());
    CHECK(describe(p.delivered(1)) == std::vector<std::string>{"slot 2 round 1.2 [1:2 1:3 1:4]"});
    CHECK(describe(p.delivered(2)) == std::vector<std::string>{"slot 3 round 1.2 [1:5 1:6]"});
  }
  SECTION("commands that come during phase 1 wait for it, then go after the reported slots") {
    Proposer p = preparing(8, 16);
    CHECK(p.submit(command(1)).empty());
    CHECK(p.submit(command(2)).empty());
    CHECK(p.promise(promise_of(1, p.round(), {{2, Round{1, 1}, value_of({7}, 9)}})).empty());
    auto accepts = p.promise(promise_of(2, p.round()));
    CHECK(describe(accepts) == std::vector<std::string>{"slot 1 round 1.2 noop",
                                                        "slot 2 round 1.2 [9:7]",
                                                        "slot 3 round 1.2 [1:1 1:2]"});
  }
}

TEST_CASE(
    "lab 10: a proposer resends its prepare while preparing, and every proposal not yet "
    "delivered while leading",
    "[lab10][part2][points:2][timeout:30]") {
  Proposer p = preparing();
  auto resend = p.retry();
  REQUIRE(resend.prepare);
  CHECK(resend.prepare->round == p.round());
  CHECK(resend.prepare->from_slot == 1);
  CHECK(resend.accepts.empty());
  CHECK(p.promise(promise_of(1, p.round(), {{1, Round{1, 1}, value_of({1})}})).size() == 0);
  CHECK(p.promise(promise_of(3, p.round())).size() == 1);
  CHECK(p.submit(command(2)).size() == 1);
  CHECK(p.submit(command(3)).size() == 1);
  resend = p.retry();
  CHECK_FALSE(resend.prepare);
  CHECK(describe(resend.accepts) == std::vector<std::string>{"slot 1 round 1.2 [1:1]",
                                                             "slot 2 round 1.2 [1:2]",
                                                             "slot 3 round 1.2 [1:3]"});
  p.delivered(2);
  CHECK(describe(p.retry().accepts) == std::vector<std::string>{"slot 3 round 1.2 [1:3]"});
  p.delivered(3);
  CHECK(p.retry().accepts.empty());
}

// ------------------------------------------------------------ part 3: the learner

namespace {

LearnRequest learn(NodeId from, Round round, Slot slot, Value value) {
  return LearnRequest(from, round, slot, std::move(value));
}

}  // namespace

TEST_CASE(
    "lab 10: the learner decides a slot on a majority of learns for one round, each acceptor "
    "counted once, never on learns of different rounds",
    "[lab10][part3][points:4][timeout:30]") {
  Learner l({1, 2, 3, 4, 5});
  CHECK(l.delivered() == 0);
  l.learn(learn(1, r11, 1, value_of({1})));
  l.learn(learn(1, r11, 1, value_of({1})));
  l.learn(learn(2, r11, 1, value_of({1})));
  INFO("two of five, one of them twice: not decided");
  CHECK_FALSE(l.decided_value(1));
  CHECK(l.take_deliverable().empty());
  INFO("a learn from outside the group does not count");
  l.learn(learn(9, r11, 1, value_of({1})));
  CHECK_FALSE(l.decided_value(1));
  INFO("three learns, but of two rounds: not decided");
  l.learn(learn(3, r21, 1, value_of({1})));
  CHECK_FALSE(l.decided_value(1));
  l.learn(learn(4, r11, 1, value_of({1})));
  REQUIRE(l.decided_value(1));
  CHECK(to_string(*l.decided_value(1)) == "[1:1]");
  CHECK(l.highest_decided() == 1);
  CHECK(describe(l.take_deliverable()) == std::vector<std::string>{"slot 1 [1:1]"});
  CHECK(l.delivered() == 1);
  INFO("the same slot learned again in a later round is not delivered again");
  for (NodeId n : {1, 2, 3}) l.learn(learn(n, r31, 1, value_of({1})));
  CHECK(l.take_deliverable().empty());
  CHECK(l.delivered() == 1);
}

TEST_CASE(
    "lab 10: the learner delivers decided values in slot order, each exactly once, when "
    "decisions come out of order and twice, and starts after what was delivered before",
    "[lab10][part3][points:4][timeout:30]") {
  Learner l({1, 2, 3});
  auto decide = [&](Slot s, Value v, Round r = r12) {
    l.learn(learn(1, r, s, v));
    l.learn(learn(3, r, s, v));
  };
  decide(3, value_of({3}));
  decide(2, Value());
  INFO("slot 1 is not decided: nothing is delivered");
  CHECK(l.take_deliverable().empty());
  CHECK(l.highest_decided() == 3);
  decide(2, Value());
  decide(1, value_of({1}));
  CHECK(describe(l.take_deliverable()) ==
        std::vector<std::string>{"slot 1 [1:1]", "slot 2 noop", "slot 3 [1:3]"});
  CHECK(l.take_deliverable().empty());
  decide(3, value_of({3}), r22);
  decide(5, value_of({5}));
  CHECK(l.take_deliverable().empty());
  INFO("a value fetched from another node (state transfer) fills slot 4");
  l.decided(4, value_of({4}));
  l.decided(4, value_of({4}));
  CHECK(describe(l.take_deliverable()) == std::vector<std::string>{"slot 4 [1:4]", "slot 5 [1:5]"});
  CHECK(l.delivered() == 5);
  INFO("a learner made after a restart starts after what its node delivered");
  Learner again({1, 2, 3}, 5);
  again.learn(learn(1, r12, 5, value_of({5})));
  again.learn(learn(2, r12, 5, value_of({5})));
  again.decided(4, value_of({4}));
  CHECK(again.take_deliverable().empty());
  again.learn(learn(1, r12, 6, value_of({6})));
  again.learn(learn(2, r12, 6, value_of({6})));
  CHECK(describe(again.take_deliverable()) == std::vector<std::string>{"slot 6 [1:6]"});
}

// ------------------------------------------------------------ part 4: groups, simulated

namespace {

using dsys::lab10::PaxosNode;
using dsys::multipaxos::AppendStatus;
using Duration = dsys::core::Duration;
using Time = dsys::core::Time;
using dsys::testing::TestWorld;

// The world's options: links of 1 to 10 ms, no loss (the network after GST).
constexpr Duration kSyncDelay = 10ms;
dsys::sim::Options options(std::uint64_t seed, std::string label) {
  return {.seed = seed,
          .faults = {.min_delay = 1ms, .max_delay = kSyncDelay},
          .label = std::move(label)};
}
// The longest a message takes once the network is synchronous: a link's delay, a slowed reply
// (testing::slowed_replies: up to 50 ms), and a margin.
constexpr Duration kSyncDrain = kSyncDelay + 50ms + 10ms;

// The tests' clients (multipaxos::LogClient) retry a command after kBackoff, waiting up to
// kCallTimeout for each reply.
constexpr Duration kClientTimeout = dsys::multipaxos::LogClient::kCallTimeout;
constexpr Duration kClientBackoff = dsys::multipaxos::LogClient::kBackoff;

// How long after the network becomes synchronous (at `gst`, messages sent before it arriving by
// gst + drain) a group of n nodes with these options delivers every command a client appends:
//  - lab 9's detectors agree on the leader by L = gst + leader::stabilisation_bound;
//  - by L + retry the leader starts a phase 1 above every round (a first one may be refused by a
//    higher round: a second one, a retry later), each a round trip: 2 (retry + 2 drain);
//  - phase 2 of a slot and the learns: a retry and two round trips, 2 drain each;
//  - a client that was waiting on a dead node or a stepped-down leader finds the leader within
//    n tries (kClientTimeout each, append_wait for a busy answer) and its backoffs.
Duration liveness_bound(Time gst, Duration drain, std::size_t n, const PaxosNode::Options& o) {
  using dsys::lab9::FailureDetector;
  const Duration leader = dsys::leader::stabilisation_bound(
      gst, drain, FailureDetector::kInitialDelay, FailureDetector::kDelta);
  const Duration paxos = 2 * (o.retry + 2 * drain) + o.retry + 4 * drain;
  const Duration client =
      static_cast<long>(n) * (std::max(kClientTimeout, o.append_wait) + kClientBackoff);
  return leader + paxos + client;
}

std::string show(const Command& c) {
  return fmt::format("{}:{}", c.client, c.sequence);
}

// Nodes n1..nN of a Multi-Paxos group in a world, with the safety properties checked at every
// event: at most one value per slot over all nodes and incarnations (every delivered log a
// prefix of the longest one), no node losing what it delivered at a restart nor delivering a slot
// twice, only appended commands delivered, and no acceptor breaking a promise or undoing an
// acceptance that one of its replies revealed. The clients' progress is checked too, once an
// expectation is set (expect_progress).
class Cluster {
 public:
  Cluster(TestWorld& world, NodeId n, PaxosNode::Options options = {})
      : world_(world), options_(options) {
    const auto first = static_cast<dsys::sim::NodeId>(world.node_count());
    for (NodeId id = 1; id <= n; ++id) peers_[id] = world.address(first + id - 1);
    for (NodeId id = 1; id <= n; ++id) {
      PaxosNode::OnDeliver told = [this, id](Slot slot, const Value&) {
        // (A node crashed in the middle of an event, at its sync, runs on to the event's end,
        // but as far as the world is concerned it died at the sync: what it does after is not.)
        if (!world_.is_up(node_.at(id))) return;
        if (!told_[id].insert(slot).second)
          twice_ = fmt::format("n{} delivered slot {} twice", id, slot);
      };
      node_[id] = world.add_node(fmt::format("n{}", id),
                                 dsys::core::make_node<PaxosNode>(id, peers_, options_, told));
      up_.insert(id);
    }
    world.set_tap([this](dsys::sim::NodeId from, dsys::sim::NodeId, const dsys::core::Bytes& m) {
      tap(from, m);
    });
    world.add_invariant("lab 10: safety", [this] { return check(); });
  }

  NodeId size() const { return static_cast<NodeId>(node_.size()); }
  const PaxosNode::Options& options() const { return options_; }
  void crash(NodeId id) {
    world_.note(fmt::format("test: crash n{}", id));
    world_.crash(node_.at(id));
    up_.erase(id);
  }
  void restart(NodeId id) {
    world_.note(fmt::format("test: restart n{}", id));
    world_.restart(node_.at(id));
    up_.insert(id);
    checked_[id] = 0;
    checked_at_.erase(id);
    restarted_.insert(id);
  }
  // A node the world crashed (world.crash_at_step): no longer up.
  void crashed_by_world(NodeId id) { up_.erase(id); }
  bool up(NodeId id) const { return up_.contains(id); }
  const std::set<NodeId>& up() const { return up_; }
  dsys::sim::NodeId node(NodeId id) const { return node_.at(id); }
  const dsys::lab9::Peers& peers() const { return peers_; }
  const PaxosNode& of(NodeId id) { return world_.service<PaxosNode>(node_.at(id)); }

  // A command a client appends (before it sends it): only those may be delivered.
  void appended(const Command& c) { appended_.insert({c.client, c.sequence, c.payload}); }
  // The values every node agrees on so far: slot k's is chosen()[k - 1].
  const std::vector<Value>& chosen() const { return chosen_; }

  // Every node up has delivered every slot chosen so far, and those hold `commands`.
  bool converged(std::size_t commands) const {
    for (NodeId id : up_)
      if (world_.service<PaxosNode>(node_.at(id)).log().size() < commands) return false;
    return true;
  }

  // What each node has (for failure messages).
  std::string views() {
    std::string out;
    for (const auto& [id, node] : node_) {
      if (!up_.contains(id)) {
        out += fmt::format("  n{}: down\n", id);
        continue;
      }
      const PaxosNode& p = of(id);
      const char* state[] = {"idle", "preparing", "leading"};
      out += fmt::format(
          "  n{}: trusts {}, proposer {} in round {}, delivered {} slots ({} commands), acceptor "
          "promised {} and compacted {}\n",
          id, dsys::leader::to_string(p.leader()), state[static_cast<int>(p.proposer().state())],
          to_string(p.proposer().round()), p.delivered_values().size(), p.log().size(),
          to_string(p.acceptor().promised()), p.acceptor().compacted());
    }
    return out;
  }

 private:
  void tap(dsys::sim::NodeId from, const dsys::core::Bytes& m) {
    auto h = dsys::rpc::read_header(m);
    if (!h || h->kind != dsys::rpc::Kind::reply || h->service != dsys::multipaxos::kService ||
        h->status != 0)
      return;
    const auto body = std::string_view(m).substr(dsys::rpc::kHeaderSize);
    if (h->procedure == dsys::multipaxos::Prepare::kId) {
      PromiseReply r;
      if (dsys::rpc::decode(body, r) && r.ok)
        promised_[r.from] = std::max(promised_[r.from], r.promised);
    } else if (h->procedure == dsys::multipaxos::Accept::kId) {
      AcceptedReply r;
      if (dsys::rpc::decode(body, r) && r.ok) {
        auto& round = accepted_[r.from][r.slot];
        round = std::max(round, r.round);
      }
    }
    (void)from;
  }

  std::string check() {
    if (!twice_.empty()) return twice_;
    for (NodeId id : up_) {
      if (!world_.is_up(node_.at(id))) continue;  // crashed at a step, not noticed yet
      // A node's state, and what its replies revealed, change only in its own events: one that
      // took no event since its last check (and did not restart) is as it was then.
      const std::uint64_t steps = world_.steps(node_.at(id));
      if (auto seen = checked_at_.find(id); seen != checked_at_.end() && seen->second == steps)
        continue;
      checked_at_[id] = steps;
      const PaxosNode& p = of(id);
      const auto& values = p.delivered_values();
      if (restarted_.erase(id) && values.size() < delivered_before_[id]) {
        // (delivered_before_: what it had delivered when last seen up)
        return fmt::format(
            "n{} restarted with {} slots delivered, but had delivered {} before its crash: what "
            "a node delivers must be on its disk first",
            id, values.size(), delivered_before_[id]);
      }
      for (std::size_t k = checked_[id]; k < values.size(); ++k) {
        const Value& v = values[k];
        if (k == chosen_.size()) {
          for (const auto& c : v.commands) {
            if (!appended_.contains({c.client, c.sequence, c.payload}))
              return fmt::format(
                  "n{} delivered command {} (\"{}\") in slot {}, which no client appended", id,
                  show(c), c.payload, k + 1);
          }
          chosen_.push_back(v);
          who_[k] = id;
        } else if (!(chosen_[k] == v)) {
          return fmt::format(
              "slot {}: n{} delivered {} but n{} delivered {}: two values decided for one slot "
              "(the delivered logs are not prefixes of one another)",
              k + 1, id, to_string(v), who_[k], to_string(chosen_[k]));
        }
      }
      checked_[id] = values.size();
      delivered_before_[id] = values.size();
      const auto& acceptor = p.acceptor();
      if (acceptor.promised() < promised_[id]) {
        return fmt::format("acceptor n{} promised round {} in a reply, and now its promise is {}",
                           id, to_string(promised_[id]), to_string(acceptor.promised()));
      }
      auto& revealed = accepted_[id];
      for (auto it = revealed.begin(); it != revealed.end();) {
        if (it->first <= acceptor.compacted()) {
          it = revealed.erase(it);
          continue;
        }
        auto now = acceptor.accepted(it->first);
        if (!now || now->round < it->second) {
          return fmt::format(
              "acceptor n{} accepted slot {} in round {} in a reply, and now has {} for it", id,
              it->first, to_string(it->second),
              now ? "round " + to_string(now->round) : std::string("no acceptance"));
        }
        ++it;
      }
    }
    return "";
  }

  TestWorld& world_;
  PaxosNode::Options options_;
  dsys::lab9::Peers peers_;
  std::map<NodeId, dsys::sim::NodeId> node_;
  std::set<NodeId> up_, restarted_;
  std::map<NodeId, std::set<Slot>> told_;  // the slots each node's OnDeliver told, all incarnations
  std::string twice_;
  std::map<NodeId, std::size_t> checked_, delivered_before_;
  std::map<NodeId, std::uint64_t> checked_at_;  // the node's world steps at its last check
  std::vector<Value> chosen_;
  std::map<std::size_t, NodeId> who_;  // who delivered chosen_[k] first
  std::set<std::tuple<std::uint64_t, std::uint64_t, std::string>> appended_;
  std::map<NodeId, Round> promised_;                  // revealed by the acceptor's replies
  std::map<NodeId, std::map<Slot, Round>> accepted_;  // likewise, per slot
};

// A client of the cluster on a node of its own (multipaxos::LogClient): appends commands id:1 ..
// id:count (payload "c<id>.<sequence>") one at a time, each until a node answers delivered.
class Client {
 public:
  Client(TestWorld& world, Cluster& cluster, std::uint64_t id, std::uint64_t count)
      : world_(world), id_(id), count_(count) {
    node_ = world.add_node(fmt::format("c{}", id),
                           dsys::core::make_node<Node>(cluster.peers(), id, &cluster, this));
  }
  // Its node goes first, with the task that writes here (a test's world outlives its clients).
  ~Client() {
    if (world_.is_up(node_)) world_.crash(node_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool done() const { return acked_ == count_; }
  dsys::sim::NodeId node() const { return node_; }
  std::uint64_t acked() const { return acked_; }
  std::uint64_t id() const { return id_; }
  // Since when the command under way has waited (nullopt when done).
  std::optional<Time> waiting_since() const {
    return done() ? std::nullopt : std::optional<Time>(started_);
  }

 private:
  // The client's node: its LogClient, and the task that appends.
  struct Node {
    Node(dsys::core::Context& ctx, dsys::lab9::Peers peers, std::uint64_t id, Cluster* cluster,
         Client* owner)
        : log(ctx, std::move(peers), id, 0, [cluster](const Command& c) { cluster->appended(c); }) {
      ctx.spawn([this, &ctx, owner]() -> dsys::core::Task<void> {
        for (std::uint64_t s = 1; s <= owner->count_; ++s) {
          owner->started_ = ctx.now();
          co_await log.append(fmt::format("c{}.{}", owner->id_, s));
          ++owner->acked_;
        }
      });
    }
    dsys::multipaxos::LogClient log;
  };

  TestWorld& world_;
  std::uint64_t id_, count_;
  dsys::sim::NodeId node_ = 0;
  std::uint64_t acked_ = 0;
  Time started_{};
};

// The clients of a test, and the liveness check: from `from` on, no command waits longer than
// `bound` to be delivered.
struct Clients {
  std::vector<std::unique_ptr<Client>> all;
  Cluster* cluster;
  Clients(TestWorld& world, Cluster& cluster, std::uint64_t n, std::uint64_t count)
      : cluster(&cluster) {
    for (std::uint64_t id = 1; id <= n; ++id)
      all.push_back(std::make_unique<Client>(world, cluster, id, count));
  }
  bool done() const {
    return std::all_of(all.begin(), all.end(), [](const auto& c) { return c->done(); });
  }
  std::uint64_t acked() const {
    std::uint64_t sum = 0;
    for (const auto& c : all) sum += c->acked();
    return sum;
  }
  void expect_progress(TestWorld& world, Time from, Duration bound) {
    world.note(fmt::format(
        "test: from {} ms on, every command is delivered within {} ms",
        std::chrono::duration_cast<std::chrono::milliseconds>(from.time_since_epoch()).count(),
        std::chrono::duration_cast<std::chrono::milliseconds>(bound).count()));
    world.add_invariant("lab 10: liveness", [this, &world, from, bound]() -> std::string {
      if (world.now() < from) return "";
      for (const auto& c : all) {
        auto since = c->waiting_since();
        if (since && world.now() - std::max(*since, from) > bound) {
          return fmt::format(
              "client c{}'s command {} has waited {} ms, more than the bound of {} ms after the "
              "network became stable: liveness broken; the nodes now:\n{}",
              c->id(), c->acked() + 1,
              std::chrono::duration_cast<std::chrono::milliseconds>(world.now() - *since).count(),
              std::chrono::duration_cast<std::chrono::milliseconds>(bound).count(),
              cluster->views());
        }
      }
      return "";
    });
  }
};

// Runs until every client is done and every node up has every command (within `limit`).
void finish(TestWorld& world, Cluster& c, Clients& clients, Duration limit) {
  const bool done = world.run_until([&] { return clients.done(); }, limit);
  INFO(c.views());
  REQUIRE(done);
  const bool converged = world.run_until([&] { return c.converged(clients.acked()); }, limit);
  REQUIRE(converged);
  for (NodeId id : c.up()) {
    INFO("n" << id);
    CHECK(c.of(id).log().size() == clients.acked());
  }
}

// Every client's commands appear in the log once each, in its order.
void check_log(const std::vector<Command>& log, std::uint64_t clients, std::uint64_t count) {
  std::map<std::uint64_t, std::uint64_t> last;
  for (const auto& c : log) {
    INFO("command " << show(c));
    CHECK(c.sequence == last[c.client] + 1);
    last[c.client] = c.sequence;
  }
  for (std::uint64_t id = 1; id <= clients; ++id) CHECK(last[id] == count);
}

}  // namespace

TEST_CASE(
    "lab 10: a group of three delivers every command of three clients once, in one order, at "
    "every node",
    "[lab10][part4][points:8][timeout:60]") {
  TestWorld world(options(1013, "lab10-three"));
  Cluster c(world, 3);
  Clients clients(world, c, 3, 20);
  finish(world, c, clients, 60s);
  check_log(c.of(1).log(), 3, 20);
  CHECK(c.of(2).log() == c.of(1).log());
  CHECK(c.of(3).log() == c.of(1).log());
  INFO("n3, the highest node, leads");
  CHECK(c.of(3).proposer().state() == Proposer::State::leading);
}

TEST_CASE(
    "lab 10: when the leader crashes mid-stream the next one recovers what was accepted, fills "
    "the gaps with no-ops, and every command is delivered once",
    "[lab10][part4][points:8][timeout:60]") {
  TestWorld world(options(1014, "lab10-leader-crash"));
  Cluster c(world, 3, {.alpha = 8, .batch = 4});
  Clients clients(world, c, 4, 25);
  REQUIRE(world.run_until([&] { return clients.acked() >= 20; }, 30s));
  c.crash(3);
  REQUIRE(
      world.run_until([&] { return c.of(2).proposer().state() == Proposer::State::leading; }, 30s));
  REQUIRE(world.run_until([&] { return clients.acked() >= 60; }, 30s));
  c.restart(3);
  finish(world, c, clients, 60s);
  check_log(c.of(1).log(), 4, 25);
  CHECK(c.of(3).log() == c.of(1).log());
  CHECK(c.of(2).log() == c.of(1).log());
}

TEST_CASE(
    "lab 10: a node that was down catches up on what it missed, compacted meanwhile, and a "
    "restart delivers nothing twice",
    "[lab10][part4][points:8][timeout:60]") {
  TestWorld world(options(1015, "lab10-catch-up"));
  Cluster c(world, 3, {.alpha = 4, .batch = 2, .compact_every = 4});
  c.crash(1);
  Clients clients(world, c, 2, 30);
  REQUIRE(world.run_until([&] { return clients.done(); }, 60s));
  INFO(c.views());
  INFO("the acceptors up have compacted what they delivered");
  CHECK(c.of(2).acceptor().compacted() >= 4);
  CHECK(c.of(3).acceptor().log_records() <= 20);
  c.restart(1);
  c.crash(2);
  c.restart(2);
  finish(world, c, clients, 60s);
  check_log(c.of(1).log(), 2, 30);
  CHECK(c.of(1).log() == c.of(3).log());
  CHECK(c.of(2).log() == c.of(3).log());
}

TEST_CASE(
    "lab 10: a majority goes on without a cut-off leader, and after the heal every node has "
    "every command",
    "[lab10][part4][points:4][timeout:60]") {
  TestWorld world(options(1016, "lab10-partition"));
  Cluster c(world, 5);
  Clients clients(world, c, 3, 20);
  REQUIRE(world.run_until([&] { return clients.acked() >= 10; }, 30s));
  world.note("test: partition {n1, n2, n3, the clients} | {n4, n5}");
  std::vector<dsys::sim::NodeId> majority{c.node(1), c.node(2), c.node(3)};
  for (const auto& client : clients.all) majority.push_back(client->node());
  world.partition({majority, {c.node(4), c.node(5)}});
  const std::uint64_t before = clients.acked();
  REQUIRE(
      world.run_until([&] { return c.of(3).proposer().state() == Proposer::State::leading; }, 30s));
  INFO(c.views());
  REQUIRE(world.run_until([&] { return clients.acked() >= before + 15 || clients.done(); }, 60s));
  INFO("n5, cut off, delivers nothing new meanwhile");
  CHECK(c.of(5).log().size() <= before + 3);
  world.note("test: heal");
  world.heal();
  finish(world, c, clients, 60s);
  check_log(c.of(5).log(), 3, 20);
  CHECK(c.of(5).log() == c.of(1).log());
}

TEST_CASE(
    "lab 10: a leader cut off with nothing to propose still learns, after the heal, what a "
    "higher round decided meanwhile",
    "[lab10][part4][points:4][timeout:60]") {
  // n3 leads before any command. Cut off, it keeps leading in its round with no proposal out
  // (no refusal will tell it of the higher round), while n2 leads the majority and decides
  // every command. After the heal n3 is trusted again and no command is left to propose: it
  // must still catch up (the handout's "every retry period").
  TestWorld world(options(1020, "lab10-stale-leader"));
  Cluster c(world, 3);
  REQUIRE(
      world.run_until([&] { return c.of(3).proposer().state() == Proposer::State::leading; }, 30s));
  world.note("test: partition {n1, n2, the clients} | {n3}");
  world.partition({{c.node(1), c.node(2)}, {c.node(3)}});
  Clients clients(world, c, 2, 10);
  std::vector<dsys::sim::NodeId> majority{c.node(1), c.node(2)};
  for (const auto& client : clients.all) majority.push_back(client->node());
  world.partition({majority, {c.node(3)}});
  REQUIRE(world.run_until([&] { return clients.done(); }, 60s));
  // Long enough that no call of n2's round is still being resent to n3 at the heal.
  world.run_for(2 * PaxosNode::kCallTimeout);
  INFO(c.views());
  CHECK(c.of(3).log().empty());
  world.note("test: heal");
  world.heal();
  REQUIRE(world.run_until([&] { return c.of(2).leader() == dsys::lab10::Leader(3); }, 30s));
  finish(world, c, clients, 60s);
  check_log(c.of(3).log(), 2, 10);
  CHECK(c.of(3).log() == c.of(1).log());
}

// ------------------------------------------------------------ crashes at every step

namespace {

// One run of the sweep: a group of three, one client appending 8 commands; the leader n3 crashes
// at its `step`-th event (0: the baseline, which counts the steps n3 takes until 5 commands are
// delivered), restarts 1 s after it is down, and every command must be delivered at every node.
void leader_crash_at(std::uint64_t step, std::uint64_t* window_steps) {
  TestWorld world(options(1017, "lab10-sweep"));
  Cluster c(world, 3, {.alpha = 4, .batch = 2});
  Clients clients(world, c, 1, 8);
  const std::uint64_t from = world.steps(c.node(3));
  if (step == 0) {
    REQUIRE(world.run_until([&] { return clients.acked() >= 5; }, 30s));
    *window_steps = world.steps(c.node(3)) - from;
    return;
  }
  world.crash_at_step(c.node(3), from + step);
  const bool crashed = world.run_until([&] { return !world.is_up(c.node(3)); }, 30s);
  REQUIRE(crashed);
  c.crashed_by_world(3);
  world.run_for(1s);
  c.restart(3);
  INFO("n3 crashed at its step " << step);
  finish(world, c, clients, 60s);
  check_log(c.of(3).log(), 1, 8);
}

}  // namespace

TEST_CASE(
    "lab 10: the leader crashes at every step of its first slots, restarts, and every command "
    "is still delivered once at every node",
    "[lab10][part4][points:8][timeout:300]") {
  std::uint64_t steps = 0;
  leader_crash_at(0, &steps);
  INFO("the window has " << steps << " steps of n3");
  REQUIRE(steps > 0);
  for (std::uint64_t s = 1; s <= steps; ++s) leader_crash_at(s, nullptr);
  std::cout << fmt::format("dsys: crashed n3 at each of its {} steps", steps) << std::endl;
}

// ------------------------------------------------------------ partial synchrony

namespace {

// One random run under partial synchrony: 3 to 5 nodes, 2 clients of 30 commands. Until GST (3
// to 8 s) the network is asynchronous and unreliable: each link loses up to 30 % of messages,
// duplicates and reorders some, and delays them up to 200 ms (held back 200 ms more when
// reordered), and every 0.3 to 3 s a node crashes or restarts, or the group (clients included)
// is split at random or healed. At GST the partition heals, crashed nodes restart or stay down
// (at random, a majority up), and links become reliable and fast (1 to 10 ms). From GST + T on
// (T: liveness_bound), no command waits longer than T; the run lasts at least 3T after GST, and
// every node up ends with every command.
void random_scenario(std::uint64_t seed, bool trace) {
  auto opts = options(seed, "lab10-random");
  opts.trace = trace;
  TestWorld world(opts);
  dsys::core::Rng rng(world.seed() * 37 + 10);
  const auto n = static_cast<NodeId>(3 + rng.below(3));
  const Duration max_delay = std::chrono::milliseconds(20 + rng.below(181));
  world.set_faults({.drop = static_cast<double>(rng.below(31)) / 100.0,
                    .duplicate = 0.05,
                    .reorder = 0.05,
                    .min_delay = 1ms,
                    .max_delay = max_delay,
                    .reorder_delay = 200ms});
  Cluster c(world, n, {.alpha = 1 + rng.below(8), .batch = 1 + rng.below(4), .compact_every = 8});
  Clients clients(world, c, 2, 30);
  const Time gst = Time(std::chrono::milliseconds(3'000 + rng.below(5'001)));
  std::vector<dsys::sim::NodeId> client_nodes;
  for (const auto& client : clients.all) client_nodes.push_back(client->node());
  dsys::testing::faults_until(world, rng, gst,
                              {.n = n,
                               .up = [&](NodeId id) { return c.up(id); },
                               .crash = [&](NodeId id) { c.crash(id); },
                               .restart = [&](NodeId id) { c.restart(id); },
                               .node = [&](NodeId id) { return c.node(id); },
                               .others = client_nodes});
  world.note("test: GST: heal, no more loss, links of 1 to 10 ms");
  world.heal();
  world.set_faults(options(seed, "").faults);
  for (NodeId id = 1; id <= n; ++id)
    if (!c.up(id) && rng.below(2) == 0) c.restart(id);
  for (NodeId id = 1; c.up().size() * 2 <= n; ++id)
    if (!c.up(id)) c.restart(id);
  // A message sent before GST arrives by GST + max_delay + the reorder delay (+ a slowed reply).
  const Duration drain = max_delay + 200ms + kSyncDrain;
  const Duration bound = liveness_bound(gst, drain, n, c.options());
  clients.expect_progress(world, gst + bound, bound);
  world.run_for(gst + 3 * bound - world.now());
  INFO(n << " nodes, seed " << world.seed() << ", GST at "
         << gst.time_since_epoch().count() / 1000000 << " ms, bound " << bound.count() / 1000000
         << " ms");
  finish(world, c, clients, 3 * bound);
}

}  // namespace

TEST_CASE(
    "lab 10: partial synchrony: after random crashes, restarts, partitions, loss and delays "
    "until GST, every command is delivered within the bound from GST + the bound on, and safety "
    "holds at every event (20 seeds)",
    "[lab10][part4][scenario][points:10][timeout:300]") {
  // ./dsys explore lab10 runs this scenario for many more seeds, in one process
  // (dsys/testing/scenario.hpp).
  CHECK(dsys::testing::run_scenario_seeds(20, random_scenario,
                                          "a command was not delivered in time after GST") == 0);
}

// ------------------------------------------------------------ real processes

namespace {

// paxos_node processes 1..n on loopback, each with its disk in a directory of the test's own
// (--dir, kept across a restart), and paxos_client runs against them.
class PaxosProcesses {
 public:
  explicit PaxosProcesses(NodeId n) : n_(n) {
    for (int attempt = 1;; ++attempt) {
      const auto ports = dsys::testing::free_ports(n);
      peers_.clear();
      for (NodeId id = 1; id <= n; ++id)
        peers_ += fmt::format("{}{}=127.0.0.1:{}", id == 1 ? "" : ",", id, ports[id - 1]);
      bool all = true;
      for (NodeId id = 1; id <= n && all; ++id) all = start(id, attempt < 3);
      if (all) break;
      nodes_.clear();  // a port was taken meanwhile: again, with others
    }
  }
  PaxosProcesses(const PaxosProcesses&) = delete;
  PaxosProcesses& operator=(const PaxosProcesses&) = delete;

  // Starts node `id` on its --dir; false when its port was taken by someone else (and `may_fail`).
  bool start(NodeId id, bool may_fail = false) {
    auto p = std::make_unique<dsys::testing::Process>(
        std::vector<std::string>{std::string(DSYS_APPS_DIR) + "/paxos_node", "--id",
                                 std::to_string(id), "--peers", peers_, "--dir",
                                 fmt::format("{}/n{}", dir_.path(), id)},
        std::vector<std::string>{"TMPDIR=" + dir_.path()});
    const auto line = p->wait_for_line("listening on", 20s);
    if (!line && may_fail && p->output().find("in use") != std::string::npos) return false;
    INFO("paxos_node " << id << ":\n" << p->output());
    REQUIRE(line);
    nodes_[id] = std::move(p);
    return true;
  }
  void kill(NodeId id) {
    nodes_.at(id)->signal(SIGKILL);
    nodes_.at(id)->wait(20s);
    nodes_.erase(id);
  }
  // paxos_client with these arguments after --peers.
  std::unique_ptr<dsys::testing::Process> client(std::vector<std::string> args) {
    args.insert(args.begin(), {std::string(DSYS_APPS_DIR) + "/paxos_client", "--peers", peers_});
    return std::make_unique<dsys::testing::Process>(
        std::move(args), std::vector<std::string>{"TMPDIR=" + dir_.path()});
  }
  // Node `id`'s log as paxos_client reads it: "1:1 c1.1" lines; waits until it has `count`
  // commands (or `limit` passes: what it has then).
  std::vector<std::string> log_of(NodeId id, std::size_t count, Duration limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::vector<std::string> lines;
    do {
      auto reader = client({"read", "--node", std::to_string(id), "--timeout", "5"});
      reader->wait(20s);
      lines.clear();
      std::istringstream in(reader->output());
      for (std::string line; std::getline(in, line);)
        if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0])))
          lines.push_back(line);
      if (lines.size() >= count) break;
      std::this_thread::sleep_for(100ms);  // polling another process, with a deadline
    } while (std::chrono::steady_clock::now() < deadline);
    return lines;
  }
  std::string outputs() const {
    std::string out;
    for (const auto& [id, p] : nodes_)
      out += fmt::format("--- paxos_node {}:\n{}", id, p->output());
    return out;
  }

 private:
  dsys::testing::TempDir dir_{"dsys-paxos"};  // first: removed last, after the processes
  NodeId n_;
  std::string peers_;
  std::map<NodeId, std::unique_ptr<dsys::testing::Process>> nodes_;
};

// n nodes; a client appends 30 commands; the leader (node n) is SIGKILLed after the 10th, and
// `also` more nodes after it (a majority stays); the client finishes; the leader restarts on its
// --dir and ends with the whole log, in order.
void kill_leader_mid_stream(NodeId n, NodeId also) {
  PaxosProcesses group(n);
  auto writer = group.client({"append", "--client", "1", "--count", "30", "--timeout", "60"});
  INFO("paxos_client:\n" << writer->output());
  REQUIRE(writer->wait_for_line("appended 1:10 ", 30s));
  group.kill(n);
  for (NodeId k = 1; k <= also; ++k) group.kill(n - k);
  const auto status = writer->wait(90s);
  INFO(group.outputs());
  REQUIRE(status == std::optional<int>(0));
  CHECK(writer->output().find("appended 1:30 at slot") != std::string::npos);
  group.start(n);
  std::vector<std::string> want;
  for (int s = 1; s <= 30; ++s) want.push_back(fmt::format("1:{} c1.{}", s, s));
  INFO("node " << n << ", restarted on its --dir");
  CHECK(group.log_of(n, 30, 30s) == want);
  CHECK(group.log_of(1, 30, 30s) == want);
}

}  // namespace

TEST_CASE(
    "lab 10: real paxos_node processes, 3 and then 5, survive a leader SIGKILLed mid-stream, "
    "and the leader restarted on its --dir has the whole log",
    "[lab10][part4][processes][points:6][timeout:300]") {
  SECTION("three nodes, the leader killed") {
    kill_leader_mid_stream(3, 0);
  }
  SECTION("five nodes, the leader and the next killed") {
    kill_leader_mid_stream(5, 1);
  }
}

TEST_CASE("lab 10: paxos_node and paxos_client refuse bad arguments with a usage message",
          "[lab10][processes]") {
  const std::string node = std::string(DSYS_APPS_DIR) + "/paxos_node";
  const std::string client = std::string(DSYS_APPS_DIR) + "/paxos_client";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{node}, "--id is missing"},
      {{node, "--id", "1"}, "--peers is missing"},
      {{node, "--id", "4", "--peers", "1=127.0.0.1:1,2=127.0.0.1:2"}, "is not in --peers"},
      {{node, "--id", "1", "--peers", "1=127.0.0.1:1", "--alpha", "0"}, "--alpha '0' is not"},
      {{node, "--id", "1", "--peers", "1=127.0.0.1:1", "--batch", "65"}, "--batch '65' is not"},
      {{node, "--id", "1", "--peers", "1=127.0.0.1:1", "--fsync", "maybe"}, "neither on nor off"},
      {{node, "--id", "1", "--peers", "1=nowhere"}, "--peers: 1=nowhere"},
      {{node, "--id", "1", "--peers", "1=127.0.0.1:1", "--dir"}, "--dir needs a value"},
      {{node, "--frob"}, "unknown argument '--frob'"},
      {{client, "--peers", "1=127.0.0.1:1"}, "say append or read"},
      {{client, "--peers", "1=127.0.0.1:1", "append"}, "append needs --client"},
      {{client, "--peers", "1=127.0.0.1:1", "append", "--client", "0"}, "--client is a number"},
      {{client, "--peers", "1=127.0.0.1:1", "read", "--node", "2"}, "--node 2 is not in --peers"},
      {{client, "read"}, "--peers is missing"},
  };
  for (const auto& [argv, why] : cases) {
    dsys::testing::Process p(argv);
    const auto status = p.wait(20s);
    INFO(fmt::format("{}", fmt::join(argv, " ")) << "\n" << p.output());
    CHECK(status == std::optional<int>(2));
    CHECK(p.output().find(why) != std::string::npos);
    CHECK(p.output().find("usage:") != std::string::npos);
  }
  INFO("a --dir that is a file: a clear error, status 1");
  dsys::testing::TempDir dir("dsys-paxos-args");
  const std::string file = dir.path() + "/a-file";
  std::ofstream(file) << "x";
  const auto port = dsys::testing::free_ports(1).at(0);
  dsys::testing::Process p(
      {node, "--id", "1", "--peers", fmt::format("1=127.0.0.1:{}", port), "--dir", file});
  const auto status = p.wait(20s);
  INFO(p.output());
  CHECK(status.has_value());
  CHECK(status != std::optional<int>(0));
  CHECK(p.output().find("paxos_node:") != std::string::npos);
}
