// Lab 10's graded tests. Points and time limits are the [points:N] and [timeout:S] tags.
// Run them all with `./dsys grade lab10`, one with `./dsys grade lab10 --only "<name>"`.
//
// Parts 1 to 3 are tested alone, with scripted messages: the acceptor on a simulated disk that
// the tests crash between its calls (keeping only what was synced, perhaps with a torn last
// append), the proposer with scripted promise sets (as DAT520's proposer tests do), and the
// learner with learns that arrive out of order and twice.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "acceptor.hpp"
#include "dsys/core/rng.hpp"
#include "dsys/multipaxos/protocol.hpp"
#include "dsys/sim/world.hpp"
#include "dsys/testing/lab.hpp"
#include "learner.hpp"
#include "proposer.hpp"

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
