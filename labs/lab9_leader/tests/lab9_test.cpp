// Lab 9's graded tests. Points and time limits are the [points:N] and [timeout:S] tags.
// Run them all with `./dsys grade lab9`, one with `./dsys grade lab9 --only "<name>"`.
//
// Parts 1 and 2 are tested alone: the failure detector with a scripted feed of heartbeat replies
// and timeouts (a recorder stands for its subscriber and for the network), the leader detector
// with scripted suspicions. Part 3 runs groups of LeaderNodes in the simulated world and checks,
// at every event from the moment the network has been stable for long enough (see
// stabilisation_bound below, and the handout's "partial synchrony"), the three properties:
//  - strong completeness: every crashed (or cut off) node is suspected by every correct node;
//  - eventual strong accuracy: no correct node suspects a correct node;
//  - eventual leadership: every correct node trusts the highest correct node, and keeps it.
// Before that moment anything goes, but no node may fail. The real-process tests start
// leader_node programs.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dsys/core/rng.hpp"
#include "dsys/leader/protocol.hpp"
#include "dsys/testing/lab.hpp"
#include "dsys/testing/process.hpp"
#include "dsys/testing/scenario.hpp"
#include "failure_detector.hpp"
#include "leader_detector.hpp"
#include "leader_node.hpp"

using namespace std::chrono_literals;
using dsys::core::Duration;
using dsys::core::Time;
using dsys::lab9::FailureDetector;
using dsys::lab9::Leader;
using dsys::lab9::LeaderDetector;
using dsys::lab9::LeaderNode;
using dsys::lab9::NodeId;
using dsys::lab9::Subscription;
using dsys::testing::TestWorld;

namespace {

// ------------------------------------------------------------ parts 1 and 2 alone

// Stands for the failure detector's subscriber and for its network: records every verdict and
// every request, in order.
struct Recorder final : dsys::lab9::SuspectRestorer {
  std::vector<std::string> told;  // "suspect 3", "restore 3"
  std::vector<NodeId> asked;      // the requests sent, in order
  void suspect(NodeId id) override { told.push_back(fmt::format("suspect {}", id)); }
  void restore(NodeId id) override { told.push_back(fmt::format("restore {}", id)); }
  // What was told and asked since the last call, and forget it.
  // (The verdicts of one timeout come in no promised order: sorted.)
  std::vector<std::string> take_told() {
    std::sort(told.begin(), told.end());
    return std::exchange(told, {});
  }
  std::multiset<NodeId> take_asked() {
    std::multiset<NodeId> out(asked.begin(), asked.end());
    asked.clear();
    return out;
  }
};

const std::multiset<NodeId> all_three = {1, 2, 3};
constexpr Duration kDelay = 100ms, kDelta = 30ms;  // a timing of the tests' own

struct Detector {
  Recorder recorder;
  FailureDetector fd{
      1, {1, 2, 3}, recorder, [this](NodeId to) { recorder.asked.push_back(to); }, kDelay, kDelta};
  // One period: these nodes' replies arrive, then the timeout.
  void period(const std::vector<NodeId>& replies) {
    for (NodeId id : replies) fd.reply_received(id);
    fd.timeout();
  }
};

}  // namespace

TEST_CASE(
    "lab 9: the failure detector's first timeout suspects no one and asks every node, "
    "itself included",
    "[lab9][part1][points:5][timeout:30]") {
  Detector d;
  INFO("nothing is told or sent before the first timeout");
  CHECK(d.recorder.told.empty());
  CHECK(d.recorder.asked.empty());
  CHECK(d.fd.delay() == kDelay);
  CHECK(d.fd.suspected().empty());
  // The book's init: everyone counts as alive, so the first timeout suspects no one, even though
  // no reply came.
  d.fd.timeout();
  CHECK(d.recorder.take_told().empty());
  INFO("the first timeout asks nodes 1 (itself), 2 and 3, once each");
  CHECK(d.recorder.take_asked() == all_three);
  CHECK(d.fd.delay() == kDelay);
  CHECK(d.fd.suspected().empty());
  for (NodeId id : {1, 2, 3}) CHECK_FALSE(d.fd.suspects(id));
}

TEST_CASE(
    "lab 9: the failure detector suspects a node silent for a period, tells it once, and "
    "keeps asking it",
    "[lab9][part1][points:8][timeout:30]") {
  Detector d;
  d.fd.timeout();
  d.recorder.take_asked();
  // Period 2: 1 and 2 answer, 3 is silent.
  d.period({1, 2});
  CHECK(d.recorder.take_told() == std::vector<std::string>{"suspect 3"});
  CHECK(d.fd.suspected() == std::set<NodeId>{3});
  CHECK(d.fd.suspects(3));
  CHECK_FALSE(d.fd.suspects(1));
  INFO("a suspected node is asked too: it may come back");
  CHECK(d.recorder.take_asked() == all_three);
  INFO("no false suspicion yet: the period stays");
  CHECK(d.fd.delay() == kDelay);
  // Period 3: the same. 3 is suspected already: it is not told again.
  d.period({2, 1});
  CHECK(d.recorder.take_told().empty());
  CHECK(d.recorder.take_asked() == all_three);
  CHECK(d.fd.suspected() == std::set<NodeId>{3});
  CHECK(d.fd.delay() == kDelay);
  // Period 4: a reply from an id that is not of the group changes nothing; 2 goes silent too.
  d.period({1, 9});
  CHECK(d.recorder.take_told() == std::vector<std::string>{"suspect 2"});
  CHECK(d.fd.suspected() == std::set<NodeId>{2, 3});
  CHECK(d.recorder.take_asked() == all_three);
  // Period 5: no one answers, itself neither: 1 suspects itself.
  d.period({});
  CHECK(d.recorder.take_told() == std::vector<std::string>{"suspect 1"});
  CHECK(d.fd.suspected() == std::set<NodeId>{1, 2, 3});
}

TEST_CASE(
    "lab 9: a suspected node heard from again is restored, and the period grows by delta, "
    "once per timeout",
    "[lab9][part1][points:8][timeout:30]") {
  Detector d;
  d.fd.timeout();
  d.period({1});  // 2 and 3 suspected
  CHECK(d.recorder.take_told() == std::vector<std::string>{"suspect 2", "suspect 3"});
  d.recorder.take_asked();
  // 3 answers again: restored, and it was a false suspicion: the period grows by delta.
  d.period({1, 3});
  CHECK(d.recorder.take_told() == std::vector<std::string>{"restore 3"});
  CHECK(d.fd.suspected() == std::set<NodeId>{2});
  CHECK(d.fd.delay() == kDelay + kDelta);
  CHECK(d.recorder.take_asked() == all_three);
  // Everyone answers: nothing more is told, no false suspicion is left... but 2 was one: it
  // grows again, by delta, once.
  d.period({1, 2, 3});
  CHECK(d.recorder.take_told() == std::vector<std::string>{"restore 2"});
  CHECK(d.fd.delay() == kDelay + 2 * kDelta);
  // All answer again: nothing is told and the period stays.
  d.period({3, 2, 1});
  CHECK(d.recorder.take_told().empty());
  CHECK(d.fd.delay() == kDelay + 2 * kDelta);
  // Two silent, then both back in one period: two restores, one delta.
  d.period({1});
  CHECK(d.recorder.take_told() == std::vector<std::string>{"suspect 2", "suspect 3"});
  CHECK(d.fd.delay() == kDelay + 2 * kDelta);
  d.period({1, 2, 3});
  CHECK(d.recorder.take_told() == std::vector<std::string>{"restore 2", "restore 3"});
  INFO("two false suspicions found at one timeout grow the period by delta once");
  CHECK(d.fd.delay() == kDelay + 3 * kDelta);
}

TEST_CASE("lab 9: a reply counts for the period it arrives in, and no longer",
          "[lab9][part1][points:4][timeout:30]") {
  Detector d;
  d.fd.timeout();
  // 3's reply arrives in period 2 (however late: a reply is not tied to its request's period).
  d.period({1, 2, 3});
  CHECK(d.recorder.take_told().empty());
  // Period 3: nothing from 3. The reply of period 2 does not count for it.
  d.period({1, 2});
  CHECK(d.recorder.take_told() == std::vector<std::string>{"suspect 3"});
  // Two replies from 3 in one period count as one.
  d.period({3, 1, 2, 3});
  CHECK(d.recorder.take_told() == std::vector<std::string>{"restore 3"});
  CHECK(d.fd.delay() == kDelay + kDelta);
}

namespace {

std::vector<std::optional<Leader>> drain(Subscription& s) {
  std::vector<std::optional<Leader>> out;
  while (auto change = s.take()) out.push_back(change);
  return out;
}

// How a change reads in a failed assertion: "5" or "unknown".
std::vector<std::string> names(const std::vector<std::optional<Leader>>& changes) {
  std::vector<std::string> out;
  out.reserve(changes.size());
  for (const auto& c : changes) out.push_back(c ? dsys::leader::to_string(*c) : "(none)");
  return out;
}

}  // namespace

TEST_CASE(
    "lab 9: the leader detector trusts the highest id not suspected, and no one when every "
    "node is",
    "[lab9][part2][points:8][timeout:30]") {
  // The ids need not be consecutive, nor in order.
  LeaderDetector ld({3, 10, 1, 7});
  CHECK(ld.leader() == Leader(10));
  ld.suspect(10);
  CHECK(ld.leader() == Leader(7));
  ld.suspect(1);  // below the leader
  CHECK(ld.leader() == Leader(7));
  ld.suspect(7);
  CHECK(ld.leader() == Leader(3));
  ld.restore(10);
  CHECK(ld.leader() == Leader(10));
  ld.suspect(42);  // not of the group: ignored
  CHECK(ld.leader() == Leader(10));
  ld.suspect(10);
  ld.suspect(3);
  INFO("1 is suspected too: every node is suspected");
  CHECK(ld.leader() == Leader(std::nullopt));
  ld.restore(1);
  CHECK(ld.leader() == Leader(1));
  ld.restore(42);
  ld.restore(7);
  CHECK(ld.leader() == Leader(7));
}

TEST_CASE(
    "lab 9: the leader detector tells each subscriber each change of leader once, and "
    "nothing else",
    "[lab9][part2][points:7][timeout:30]") {
  LeaderDetector ld({1, 2, 3, 4});
  auto a = ld.subscribe();
  REQUIRE(a != nullptr);
  INFO("a new subscriber is not told the leader it can read: only the changes after it");
  CHECK(names(drain(*a)).empty());
  ld.suspect(2);  // not the leader: no change
  ld.suspect(2);
  ld.restore(3);  // not suspected: no change
  ld.restore(2);
  CHECK(names(drain(*a)).empty());
  ld.suspect(4);
  auto b = ld.subscribe();
  ld.suspect(3);
  ld.suspect(4);  // twice: no change
  ld.restore(4);
  CHECK(names(drain(*a)) == std::vector<std::string>{"3", "2", "4"});
  CHECK(names(drain(*b)) == std::vector<std::string>{"2", "4"});
  // A subscriber dropped by its owner is forgotten; the others are still told.
  b.reset();
  for (NodeId id : {4, 3, 2, 1}) ld.suspect(id);  // 3 was suspected already
  CHECK(names(drain(*a)) == std::vector<std::string>{"2", "1", "unknown"});
  ld.restore(1);
  CHECK(names(drain(*a)) == std::vector<std::string>{"1"});
  CHECK(a->lost() == 0);
}

TEST_CASE(
    "lab 9: a subscriber that does not keep up loses only its oldest changes, and the "
    "detector never waits for it",
    "[lab9][part2][points:5][timeout:30]") {
  const std::size_t capacity = Subscription::kCapacity;
  // A group of 2 * capacity + 1 nodes; its leaders step down one by one.
  std::vector<NodeId> ids;
  for (NodeId id = 1; id <= 2 * capacity + 1; ++id) ids.push_back(id);
  LeaderDetector ld(ids);
  auto slow = ld.subscribe();
  auto quick = ld.subscribe();
  std::vector<std::string> quick_saw;
  for (NodeId id = 2 * capacity + 1; id > 1; --id) {
    ld.suspect(id);
    for (const auto& s : names(drain(*quick))) quick_saw.push_back(s);
  }
  INFO("the quick subscriber saw all " << 2 * capacity << " changes, in order");
  REQUIRE(quick_saw.size() == 2 * capacity);
  CHECK(quick_saw.back() == "1");
  INFO("the slow one holds the last " << capacity << " of them and counts the rest as lost");
  CHECK(slow->waiting() == capacity);
  CHECK(slow->lost() == capacity);
  const auto kept = names(drain(*slow));
  CHECK(kept == std::vector<std::string>(quick_saw.end() - capacity, quick_saw.end()));
  CHECK(slow->waiting() == 0);
  CHECK_FALSE(slow->take().has_value());
  // Having caught up, it loses nothing more.
  ld.restore(5);
  CHECK(names(drain(*slow)) == std::vector<std::string>{"5"});
  CHECK(slow->lost() == capacity);
}

// ------------------------------------------------------------ part 3: groups, simulated

namespace {

// How long after the network becomes synchronous the properties must hold:
// leader::stabilisation_bound (dsys/leader/protocol.hpp), which the handout explains.
using dsys::leader::stabilisation_bound;

// The world's options: links of 1 to 10 ms, no loss: the network after GST.
constexpr Duration kSyncDelay = 10ms;
dsys::sim::Options options(std::uint64_t seed, std::string label) {
  return {.seed = seed,
          .faults = {.min_delay = 1ms, .max_delay = kSyncDelay},
          .label = std::move(label)};
}
// The longest a message may take in a synchronous period: a link's delay and a slowed reply
// (testing::slowed_replies: up to 50 ms), and a margin.
constexpr Duration kSyncDrain = kSyncDelay + 50ms + 10ms;

// Nodes 1..n of a group, in a world, with the three properties checked at every event once an
// expectation is set: from `from` on, every node of `observers` (all up) suspects exactly the
// nodes not in `correct` and trusts the highest of `correct`. Also at every event, from the
// start: what each node told its owner (its OnLeader) is each change of its leader once, in
// order, and is its leader now (a node may take a moment to tell: kTellWithin).
class Group {
 public:
  static constexpr Duration kTellWithin = 10ms;
  // `peers_of`: a node's own --peers list, when it is not the group's (a misconfigured node).
  Group(TestWorld& world, NodeId n, std::map<NodeId, dsys::lab9::Peers> peers_of = {})
      : world_(world) {
    const auto first = static_cast<dsys::sim::NodeId>(world.node_count());
    for (NodeId id = 1; id <= n; ++id) peers_[id] = world.address(first + id - 1);
    for (NodeId id = 1; id <= n; ++id) {
      const dsys::lab9::Peers& peers = peers_of.contains(id) ? peers_of.at(id) : peers_;
      LeaderNode::OnLeader tell = [this, id](Leader leader) { told_[id].push_back(leader); };
      node_[id] = world.add_node(fmt::format("n{}", id),
                                 dsys::core::make_node<LeaderNode>(id, peers, tell));
      up_.insert(id);
    }
    world.add_invariant("lab 9: completeness, accuracy and leadership", [this] { return check(); });
  }

  void crash(NodeId id) {
    world_.note(fmt::format("test: crash n{}", id));
    world_.crash(node_.at(id));
    up_.erase(id);
  }
  void restart(NodeId id) {
    world_.note(fmt::format("test: restart n{}", id));
    told_.erase(id);  // a new incarnation tells its own changes
    mismatch_since_.erase(id);
    world_.restart(node_.at(id));
    up_.insert(id);
  }
  bool up(NodeId id) const { return up_.contains(id); }
  const std::set<NodeId>& up() const { return up_; }
  dsys::sim::NodeId node(NodeId id) const { return node_.at(id); }
  const LeaderNode& of(NodeId id) { return world_.service<LeaderNode>(node_.at(id)); }

  // From `gst` + the stabilisation bound on, `observers` must agree that exactly `correct` is up.
  // Returns that moment.
  Time expect(Time gst, Duration drain, std::set<NodeId> observers, std::set<NodeId> correct) {
    const Duration bound =
        stabilisation_bound(gst, drain, FailureDetector::kInitialDelay, FailureDetector::kDelta);
    world_.note(fmt::format(
        "test: from {} ms on, n{} must suspect exactly {} and trust n{}",
        std::chrono::duration_cast<std::chrono::milliseconds>((gst + bound).time_since_epoch())
            .count(),
        fmt::join(observers, ",n"), suspected_of(correct), *correct.rbegin()));
    expectations_.push_back({gst + bound, std::move(observers), std::move(correct)});
    return gst + bound;
  }
  // Everyone up now, from now on (the network is synchronous from now): returns when the
  // properties hold from.
  Time expect_all_up(Duration drain = kSyncDrain) { return expect(world_.now(), drain, up_, up_); }
  void forget_expectations() { expectations_.clear(); }
  // Runs until `stable`, then three times as long as it took from now: the properties are
  // checked at every event of that last stretch.
  void run_checked(Time stable) { world_.run_for((stable - world_.now()) * 4); }

  // What each node up thinks now (for failure messages).
  std::string views() {
    std::string out;
    for (const auto& [id, node] : node_) {
      if (!up_.contains(id)) {
        out += fmt::format("  n{}: down\n", id);
        continue;
      }
      const auto& ln = of(id);
      out += fmt::format(
          "  n{}: suspects {{{}}}, trusts {}, period {} ms\n", id,
          fmt::join(ln.failure_detector().suspected(), ","), dsys::leader::to_string(ln.leader()),
          std::chrono::duration_cast<std::chrono::milliseconds>(ln.failure_detector().delay())
              .count());
    }
    return out;
  }

 private:
  struct Expectation {
    Time from;
    std::set<NodeId> observers, correct;
  };
  std::string suspected_of(const std::set<NodeId>& correct) const {
    std::set<NodeId> out;
    for (const auto& [id, node] : node_)
      if (!correct.contains(id)) out.insert(id);
    return fmt::format("{{{}}}", fmt::join(out, ","));
  }
  // What node `id` told its owner: each change once, in order, the last one its leader now.
  std::string check_told(NodeId id, const LeaderNode& ln) {
    const std::vector<Leader>& told = told_[id];
    Leader before = Leader(peers_.rbegin()->first);  // at first: the highest id
    for (std::size_t k = 0; k < told.size(); ++k) {
      if (told[k] == before) {
        return fmt::format(
            "n{} told its owner leader {} twice in a row (change {}): a change is told once", id,
            dsys::leader::to_string(told[k]), k + 1);
      }
      before = told[k];
    }
    if (before == ln.leader()) {
      mismatch_since_.erase(id);
    } else if (!mismatch_since_.contains(id)) {
      mismatch_since_[id] = world_.now();
    } else if (world_.now() - mismatch_since_.at(id) > kTellWithin) {
      return fmt::format(
          "n{} trusts {} but last told its owner {} (for {} ms): each change of leader must be "
          "told "
          "when timeout() makes it",
          id, dsys::leader::to_string(ln.leader()), dsys::leader::to_string(before),
          std::chrono::duration_cast<std::chrono::milliseconds>(world_.now() -
                                                                mismatch_since_.at(id))
              .count());
    }
    return "";
  }
  std::string check() {
    for (NodeId p : up_) {
      if (auto wrong = check_told(p, of(p)); !wrong.empty()) return wrong;
    }
    for (const auto& e : expectations_) {
      if (world_.now() < e.from) continue;
      const std::string want = suspected_of(e.correct);
      const NodeId leader = *e.correct.rbegin();
      for (NodeId p : e.observers) {
        if (!up_.contains(p)) continue;
        const auto& ln = of(p);
        const std::string has =
            fmt::format("{{{}}}", fmt::join(ln.failure_detector().suspected(), ","));
        for (const auto& [q, node] : node_) {
          const bool should = !e.correct.contains(q);
          if (ln.failure_detector().suspects(q) != should) {
            return fmt::format(
                "n{} {} n{} (it suspects {}; it should suspect {}): {} broken, {} ms after the "
                "network became stable enough",
                p, should ? "does not suspect" : "suspects", q, has, want,
                should ? "strong completeness" : "eventual strong accuracy",
                std::chrono::duration_cast<std::chrono::milliseconds>(world_.now() - e.from)
                    .count());
          }
        }
        if (ln.leader() != Leader(leader)) {
          return fmt::format("n{} trusts {}, not n{}: eventual leadership broken", p,
                             dsys::leader::to_string(ln.leader()), leader);
        }
      }
    }
    return "";
  }

  TestWorld& world_;
  dsys::lab9::Peers peers_;
  std::map<NodeId, dsys::sim::NodeId> node_;
  std::set<NodeId> up_;
  std::vector<Expectation> expectations_;
  std::map<NodeId, std::vector<Leader>> told_;  // what each incarnation told its owner
  std::map<NodeId, Time> mismatch_since_;
};

// Heartbeat requests that node `from` sends to `to` (each call once, whatever its resends).
class RequestCounter {
 public:
  RequestCounter(TestWorld& world, dsys::sim::NodeId from, dsys::sim::NodeId to) {
    world.set_tap([this, from, to](dsys::sim::NodeId f, dsys::sim::NodeId t,
                                   const dsys::core::Bytes& message) {
      const auto h = dsys::rpc::read_header(message);
      if (f == from && t == to && h && h->kind == dsys::rpc::Kind::request &&
          h->service == dsys::leader::kService) {
        calls_.insert({h->client_nonce, h->xid});
      }
    });
  }
  std::size_t calls() const { return calls_.size(); }

 private:
  std::set<std::pair<std::uint64_t, std::uint64_t>> calls_;
};

}  // namespace

TEST_CASE("lab 9: a group of five trusts node 5, and when it crashes, node 4",
          "[lab9][part3][points:10][timeout:60]") {
  TestWorld world(options(901, "lab9-crash-highest"));
  Group g(world, 5);
  g.run_checked(g.expect_all_up());
  INFO(g.views());
  for (NodeId id : g.up()) CHECK(g.of(id).leader() == Leader(5));
  g.forget_expectations();
  g.crash(5);
  g.run_checked(g.expect_all_up());
  INFO(g.views());
  for (NodeId id : g.up()) CHECK(g.of(id).leader() == Leader(4));
}

TEST_CASE("lab 9: a crashed leader that restarts leads again, and so does the next one",
          "[lab9][part3][points:8][timeout:60]") {
  TestWorld world(options(902, "lab9-restart"));
  Group g(world, 3);
  world.run_for(2s);
  g.crash(3);
  world.run_for(2s);
  g.crash(2);
  g.run_checked(g.expect_all_up());
  g.forget_expectations();
  g.restart(2);
  g.run_checked(g.expect_all_up());
  g.forget_expectations();
  g.restart(3);
  g.run_checked(g.expect_all_up());
  INFO(g.views());
  for (NodeId id : g.up()) CHECK(g.of(id).leader() == Leader(3));
}

TEST_CASE(
    "lab 9: in a partition each side trusts its own highest node; once healed, all trust "
    "node 5, with periods grown by delta",
    "[lab9][part3][points:8][timeout:60]") {
  TestWorld world(options(903, "lab9-partition"));
  Group g(world, 5);
  world.run_for(2s);
  world.note("test: partition {n1,n2} | {n3,n4,n5}");
  world.partition({{g.node(1), g.node(2)}, {g.node(3), g.node(4), g.node(5)}});
  g.expect(world.now(), kSyncDrain, {1, 2}, {1, 2});
  g.run_checked(g.expect(world.now(), kSyncDrain, {3, 4, 5}, {3, 4, 5}));
  g.forget_expectations();
  world.note("test: heal");
  world.heal();
  g.run_checked(g.expect_all_up());
  INFO(g.views());
  for (NodeId id : g.up()) CHECK(g.of(id).leader() == Leader(5));
  // Each node restored the other side after the heal: a false suspicion, so its period grew by
  // delta (once or more); and it keeps to it: over 30 periods, it asks itself 30 times (one
  // more or less, for where the window falls).
  for (NodeId id : g.up()) {
    const Duration period = g.of(id).failure_detector().delay();
    INFO("n" << id << "'s period is "
             << std::chrono::duration_cast<std::chrono::milliseconds>(period).count() << " ms");
    CHECK(period >= FailureDetector::kInitialDelay + FailureDetector::kDelta);
    RequestCounter counter(world, g.node(id), g.node(id));
    world.run_for(30 * period);
    INFO("heartbeat calls n" << id << " made to itself in 30 periods: " << counter.calls());
    CHECK(counter.calls() >= 29);
    CHECK(counter.calls() <= 31);
    world.set_tap(nullptr);
  }
}

TEST_CASE(
    "lab 9: a reply that names another node than the one called is ignored (a node given a "
    "wrong --peers list)",
    "[lab9][part3][points:4][timeout:60]") {
  TestWorld world(options(904, "lab9-wrong-peers"));
  // n1 has the addresses of n4 and n5 swapped: the node it calls 4 answers "5", and the other
  // way round. It must believe neither: it suspects both and trusts n3. The others are right.
  dsys::lab9::Peers swapped;
  for (NodeId id = 1; id <= 5; ++id) swapped[id] = world.address(id - 1);
  std::swap(swapped[4], swapped[5]);
  Group g(world, 5, {{1, swapped}});
  g.expect(world.now(), kSyncDrain, {1}, {1, 2, 3});
  g.run_checked(g.expect(world.now(), kSyncDrain, {2, 3, 4, 5}, {1, 2, 3, 4, 5}));
  INFO(g.views());
  CHECK(g.of(1).leader() == Leader(3));
  CHECK(g.of(2).leader() == Leader(5));
}

namespace {

// One random run under partial synchrony: 3 to 5 nodes. Until GST (10 to 20 s), the network is
// asynchronous and unreliable: each link loses up to 30 % of messages, duplicates and reorders
// some, and delays them up to 200 ms (held back 200 ms more when reordered), and every 0.3 to 3 s
// a node crashes or restarts, or the group is split at random or healed. At GST the partition
// heals, each crashed node is restarted or stays down (at random, one node at least is up),
// and links become reliable and fast (1 to 10 ms). The properties are checked at every event from
// GST + the bound on, for three times the bound.
void random_scenario(std::uint64_t seed, bool trace) {
  auto opts = options(seed, "lab9-random");
  opts.trace = trace;
  TestWorld world(opts);
  dsys::core::Rng rng(world.seed() * 31 + 9);
  const auto n = static_cast<NodeId>(3 + rng.below(3));
  const Duration max_delay = std::chrono::milliseconds(20 + rng.below(181));
  const dsys::sim::LinkFaults asynchronous{.drop = static_cast<double>(rng.below(31)) / 100.0,
                                           .duplicate = 0.05,
                                           .reorder = 0.05,
                                           .min_delay = 1ms,
                                           .max_delay = max_delay,
                                           .reorder_delay = 200ms};
  world.set_faults(asynchronous);
  Group g(world, n);
  const Time gst = Time(std::chrono::milliseconds(10'000 + rng.below(10'001)));
  dsys::testing::faults_until(world, rng, gst,
                              {.n = n,
                               .up = [&](NodeId id) { return g.up(id); },
                               .crash = [&](NodeId id) { g.crash(id); },
                               .restart = [&](NodeId id) { g.restart(id); },
                               .node = [&](NodeId id) { return g.node(id); }});
  world.note("test: GST: heal, no more loss, links of 1 to 10 ms");
  world.heal();
  world.set_faults(options(seed, "").faults);
  for (NodeId id = 1; id <= n; ++id) {
    if (!g.up(id) && rng.below(2) == 0) g.restart(id);
  }
  if (g.up().empty()) g.restart(1 + static_cast<NodeId>(rng.below(n)));
  // A message sent before GST arrives by GST + max_delay + the reorder delay (+ a slowed reply).
  g.run_checked(g.expect(gst, max_delay + 200ms + kSyncDrain, g.up(), g.up()));
  INFO(n << " nodes, seed " << world.seed() << ", GST at "
         << gst.time_since_epoch().count() / 1000000 << " ms; now:\n"
         << g.views());
  for (NodeId id : g.up()) REQUIRE(g.of(id).leader() == Leader(*g.up().rbegin()));
}

}  // namespace

TEST_CASE(
    "lab 9: partial synchrony: after random crashes, restarts, partitions, loss and delays "
    "until GST, the properties hold from GST + the bound on (20 seeds)",
    "[lab9][part3][scenario][points:12][timeout:300]") {
  // ./dsys explore lab9 runs this scenario for many more seeds, in one process
  // (dsys/testing/scenario.hpp).
  CHECK(dsys::testing::run_scenario_seeds(20, random_scenario,
                                          "a property did not hold after stabilisation") == 0);
}

// ------------------------------------------------------------ real processes

namespace {

using dsys::testing::free_ports;

// leader_node processes 1..n on loopback, each cut off from the ones its partition file lists
// (the runtime's DSYS_PARTITION_FILE, reread at SIGUSR1).
class LeaderProcesses {
 public:
  explicit LeaderProcesses(NodeId n) {
    for (int attempt = 1;; ++attempt) {
      const auto ports = free_ports(n);
      peers_.clear();
      for (NodeId id = 1; id <= n; ++id) {
        ports_[id] = ports[id - 1];
        peers_ += fmt::format("{}{}=127.0.0.1:{}", id == 1 ? "" : ",", id, ports[id - 1]);
      }
      bool all = true;
      for (NodeId id = 1; id <= n && all; ++id) all = start(id, attempt < 3);
      if (all) break;
      processes_.clear();  // a port was taken meanwhile: again, with others
    }
  }
  LeaderProcesses(const LeaderProcesses&) = delete;
  LeaderProcesses& operator=(const LeaderProcesses&) = delete;

  // Starts node `id`; false when its port was taken by someone else (and `may_fail`).
  bool start(NodeId id, bool may_fail = false) {
    std::ofstream(partition_file(id), std::ios::trunc).flush();
    auto p = std::make_unique<dsys::testing::Process>(
        std::vector<std::string>{std::string(DSYS_APPS_DIR) + "/leader_node", "--id",
                                 std::to_string(id), "--peers", peers_},
        // (TMPDIR: where its runtime makes its disk, removed with dir_ even when it is
        // killed.)
        std::vector<std::string>{"DSYS_PARTITION_FILE=" + partition_file(id),
                                 "TMPDIR=" + dir_.path()});
    const auto line = p->wait_for_line("listening on", 20s);
    if (!line && may_fail && p->output().find("in use") != std::string::npos) return false;
    INFO("leader_node " << id << ":\n" << p->output());
    REQUIRE(line);
    processes_[id] = std::move(p);
    return true;
  }
  void kill(NodeId id) {
    processes_.at(id)->signal(SIGKILL);
    processes_.at(id)->wait(20s);
    processes_.erase(id);
  }
  // Node `id` drops every message to and from the nodes `others`.
  void cut_off(NodeId id, const std::set<NodeId>& others) {
    {
      std::ofstream out(partition_file(id), std::ios::trunc);
      for (NodeId o : others) out << "127.0.0.1:" << ports_.at(o) << "\n";
    }
    processes_.at(id)->signal(SIGUSR1);
    INFO("leader_node " << id << ":\n" << processes_.at(id)->output());
    REQUIRE(processes_.at(id)->wait_for_line("partition: cut off from", 20s));
  }
  // Reads node `id`'s output until it prints "leader: <want>" (the line it printed last, if it
  // is that one, counts too); false when it does not within `limit`.
  bool wait_for_leader(NodeId id, Leader want, Duration limit) {
    auto& p = *processes_.at(id);
    const std::string line = "leader: " + dsys::leader::to_string(want);
    if (last_leader_line(p.output()) == line) return true;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left =
          std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
      if (!p.wait_for_line("leader: ", left)) return false;
      if (last_leader_line(p.output()) == line) return true;
    }
    return false;
  }
  std::string outputs() const {
    std::string out;
    for (const auto& [id, p] : processes_)
      out += fmt::format("--- leader_node {}:\n{}", id, p->output());
    return out;
  }
  const std::map<NodeId, std::unique_ptr<dsys::testing::Process>>& processes() const {
    return processes_;
  }

 private:
  static std::string last_leader_line(const std::string& output) {
    std::string last;
    std::size_t at = 0;
    while ((at = output.find("leader: ", at)) != std::string::npos) {
      if (at == 0 || output[at - 1] == '\n') {
        const auto end = output.find('\n', at);
        if (end == std::string::npos) break;  // not a whole line yet
        last = output.substr(at, end - at);
      }
      ++at;
    }
    return last;
  }
  std::string partition_file(NodeId id) const {
    return fmt::format("{}/n{}.partition", dir_.path(), id);
  }
  dsys::testing::TempDir dir_{"dsys-leaders"};  // first: removed last, after the processes
  std::string peers_;
  std::map<NodeId, std::uint16_t> ports_;
  std::map<NodeId, std::unique_ptr<dsys::testing::Process>> processes_;
};

}  // namespace

TEST_CASE(
    "lab 9: real leader_node processes trust the highest node, follow its kill, and trust "
    "it again once it restarts",
    "[lab9][processes][points:8][timeout:120]") {
  LeaderProcesses group(3);
  for (NodeId id : {1, 2, 3}) {
    INFO(group.outputs());
    REQUIRE(group.wait_for_leader(id, Leader(3), 20s));
  }
  group.kill(3);
  for (NodeId id : {1, 2}) {
    INFO(group.outputs());
    REQUIRE(group.wait_for_leader(id, Leader(2), 20s));
  }
  group.start(3);
  for (NodeId id : {1, 2, 3}) {
    INFO(group.outputs());
    REQUIRE(group.wait_for_leader(id, Leader(3), 20s));
  }
}

TEST_CASE(
    "lab 9: real leader_node processes: cut off, the highest node trusts itself and the "
    "others the next; healed, all trust it again",
    "[lab9][processes][points:5][timeout:120]") {
  LeaderProcesses group(3);
  for (NodeId id : {1, 2, 3}) {
    INFO(group.outputs());
    REQUIRE(group.wait_for_leader(id, Leader(3), 20s));
  }
  group.cut_off(3, {1, 2});
  group.cut_off(1, {3});
  group.cut_off(2, {3});
  for (NodeId id : {1, 2}) {
    INFO(group.outputs());
    REQUIRE(group.wait_for_leader(id, Leader(2), 20s));
  }
  {
    // n3 still hears itself: it suspects 1 and 2 and goes on trusting itself, so it prints no
    // change (watched for 1 s: five periods).
    INFO(group.outputs());
    CHECK_FALSE(group.processes().at(3)->wait_for_line("leader: ", 1s));
  }
  for (NodeId id : {1, 2, 3}) group.cut_off(id, {});
  for (NodeId id : {1, 2, 3}) {
    INFO(group.outputs());
    REQUIRE(group.wait_for_leader(id, Leader(3), 20s));
  }
}

// (Not graded: the program's argument parsing is given code.)
TEST_CASE("lab 9: leader_node refuses bad arguments with a usage message", "[lab9][processes]") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{},
        {"--id", "1"},
        {"--peers", "1=127.0.0.1:5000"},
        {"--id", "0", "--peers", "1=127.0.0.1:5000"},
        {"--id", "x", "--peers", "1=127.0.0.1:5000"},
        {"--id", "2", "--peers", "1=127.0.0.1:5000"},
        {"--id", "1", "--peers", "1=127.0.0.1:5000,1=127.0.0.1:5001"},
        {"--id", "1", "--peers", "1=127.0.0.1:5000,2=127.0.0.1:5000"},
        {"--id", "1", "--peers", "1=127.0.0.1:0"},
        {"--id", "1", "--peers", "1:127.0.0.1:5000"},
        {"--id", "1", "--peers", "1=300.0.0.1:5000"},
        {"--id", "1", "--peers", "1=0.0.0.0:5000"},
        {"--id", "1", "--peers", "1=127.0.0.1:5000,"},
        {"--id", "1", "--id", "1", "--peers", "1=127.0.0.1:5000"},
        {"--id", "1", "--peers", "1=127.0.0.1:5000", "--bogus", "1"},
        {"--id", "1", "--peers"},
        {"--bogus=1"},
        {"--id", "1", "--peers", "1=127.0.0.1:5000", "--x=1"},
        {"--id", "1", "--peers", "1=127.0.0.1:5000", "extra"}}) {
    std::vector<std::string> argv = {DSYS_APPS_DIR "/leader_node"};
    argv.insert(argv.end(), args.begin(), args.end());
    dsys::testing::Process p(argv);
    const auto status = p.wait(20s);
    INFO("leader_node " << fmt::format("{}", fmt::join(args, " ")) << ":\n" << p.output());
    REQUIRE(status);
    CHECK(*status == 2);
    CHECK_THAT(p.output(), Catch::Contains("usage: leader_node --id I --peers"));
  }
}
