// Lab 7's graded tests. Points and time limits are the [points:N] and [timeout:S] tags.
// Run them all with `./dsys grade lab7`, one with `./dsys grade lab7 --only "<name>"`.
//
// Every simulated test runs replicas n1, n2, ... (your Acceptor and Proposer under the given view
// layer) and checks, after every event of the run, what Paxos promises:
//  - agreement: no two nodes decide different values for one instance, across restarts too;
//  - validity: a decided value was proposed (passed to Proposer::propose) by some node;
//  - promises hold: an acceptor's n_h for an instance is never below a proposal number it has
//    promised or accepted in a reply that left it (seen on the wire), across restarts too;
//  - acceptances hold: its n_a is never below a proposal it accepted in a reply that left it
//    (and has that proposal's value when equal), across restarts too;
//  - one value per proposal: no two accept requests with one proposal number carry two values;
//  - quorums: a view (Paxos instance i) is decided only once a majority of the members of view
//    i - 1 have accepted it (accept replies seen on the wire).
// Nodes are killed at chosen moments and at every step of a run; what they had not synced is
// lost, the last append perhaps torn. The real-process tests start `lock_server` programs.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "dsys/core/rng.hpp"
#include "dsys/paxos/protocol.hpp"
#include "dsys/rpc/marshal.hpp"
#include "dsys/rpc/wire.hpp"
#include "dsys/testing/lab.hpp"
#include "dsys/testing/process.hpp"
#include "dsys/testing/replica_process.hpp"
#include "dsys/testing/scenario.hpp"
#include "lab7_node.hpp"
#include "paxos.hpp"
#include "views.hpp"

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Task;
using dsys::lab7::Acceptor;
using dsys::lab7::Node;
using dsys::lab7::View;
using dsys::lab7::Views;
using dsys::paxos::Instance;
using dsys::paxos::Outcome;
using dsys::paxos::ProposalNumber;
using dsys::sim::NodeId;
using dsys::testing::TestWorld;

namespace {

std::string show(ProposalNumber n) {
  return fmt::format("({}, {})", n.round, dsys::core::Address::from_raw(n.proposer).to_string());
}

// The message's body when it is an RPC of the Paxos service with this kind and procedure.
template <class T>
std::optional<T> paxos_body(const dsys::core::Bytes& m, dsys::rpc::Kind kind,
                            dsys::rpc::ProcedureId procedure) {
  auto h = dsys::rpc::read_header(m);
  if (!h || h->kind != kind || h->service != dsys::paxos::kService || h->procedure != procedure ||
      h->status != 0) {
    return std::nullopt;
  }
  T body;
  if (!dsys::rpc::decode(std::string_view(m).substr(dsys::rpc::kHeaderSize), body)) {
    return std::nullopt;
  }
  return body;
}

// Replicas n1..nN (NodeIds 1..N; NodeId 0 is an idle "tester" node, so that a replica's number
// is the one in its address), with n1 the first node, and every invariant above.
class Cluster {
 public:
  explicit Cluster(TestWorld& world) : world_(world) {
    world_.add_node("tester");
    world_.set_tap([this](NodeId from, NodeId, const dsys::core::Bytes& m) { tap(from, m); });
    world_.add_invariant("paxos", [this] { return check(); });
  }

  // Starts replica n<count()+1>; returns its number.
  int add() {
    const int k = count() + 1;
    const dsys::core::Address first = k == 1 ? dsys::core::Address() : world_.address(1);
    world_.add_node(
        fmt::format("n{}", k),
        dsys::core::make_node<Node>(first, Views::OnView(),
                                    Views::OnPropose([this](Instance i, const std::string& value) {
                                      proposed_[i].insert(value);
                                    })));
    return k;
  }
  int count() const { return static_cast<int>(world_.node_count()) - 1; }
  NodeId id(int k) const { return static_cast<NodeId>(k); }
  bool up(int k) const { return world_.is_up(id(k)); }
  void kill(int k) {
    world_.note(fmt::format("test: kill n{}", k));
    world_.crash(id(k));
  }
  void restart(int k) {
    world_.note(fmt::format("test: restart n{}", k));
    world_.restart(id(k));
  }
  Node& node(int k) { return world_.service<Node>(id(k)); }
  const View& view(int k) { return node(k).views().current(); }

  // The replicas of a view, by number.
  std::set<int> members(const View& v) const {
    std::set<int> out;
    for (auto a : v.members) out.insert(static_cast<int>(a.node_index()));
    return out;
  }
  // Every replica in `who` is up, and they all have the same latest view, made of `who`.
  bool agree_on(const std::set<int>& who) {
    std::optional<Instance> number;
    for (int k : who) {
      if (!up(k) || members(view(k)) != who) return false;
      if (number && *number != view(k).number) return false;
      number = view(k).number;
    }
    return true;
  }
  // Waits (up to `limit` of virtual time) until agree_on(who).
  bool converge(const std::set<int>& who, dsys::core::Duration limit) {
    return world_.run_until([&] { return agree_on(who); }, limit);
  }
  std::string views_now() {
    std::string out;
    for (int k = 1; k <= count(); ++k) {
      out +=
          up(k) ? fmt::format("n{}: {}\n", k, view(k).to_string()) : fmt::format("n{}: down\n", k);
    }
    return out;
  }
  // The value decided for `instance`, as the first node that decided it saw it.
  std::optional<std::string> decided(Instance instance) const {
    auto d = decided_.find(instance);
    if (d == decided_.end()) return std::nullopt;
    return d->second.value;
  }
  Instance highest_decided() const { return decided_.empty() ? 1 : decided_.rbegin()->first; }

 private:
  struct Decision {
    std::string value;
    int by = 0;  // the first replica seen to decide it
  };

  void tap(NodeId from, const dsys::core::Bytes& m) {
    using dsys::rpc::Kind;
    if (auto r =
            paxos_body<dsys::paxos::AcceptRequest>(m, Kind::request, dsys::paxos::Accept::kId)) {
      auto [it, fresh] = accept_values_.try_emplace({r->instance, r->n}, r->value);
      if (!fresh && it->second != r->value && problem_.empty()) {
        problem_ = fmt::format(
            "two accept requests for instance {} with proposal number {} carry different values: "
            "a proposal number was used twice (it must be unique, across restarts too)",
            r->instance, show(r->n));
      }
    } else if (auto p = paxos_body<dsys::paxos::PrepareReply>(m, Kind::reply,
                                                              dsys::paxos::Prepare::kId)) {
      if (p->outcome == Outcome::ok) promise(from, p->instance, p->n);
    } else if (auto a =
                   paxos_body<dsys::paxos::AcceptReply>(m, Kind::reply, dsys::paxos::Accept::kId)) {
      if (a->outcome == Outcome::ok) {
        promise(from, a->instance, a->n);
        accepted_by_[{a->instance, a->n}].insert(from);
        auto v = accept_values_.find({a->instance, a->n});
        auto& mine = accepted_[{from, a->instance}];
        if (v != accept_values_.end() && a->n >= mine.first) mine = {a->n, v->second};
      }
    }
  }
  void promise(NodeId acceptor, Instance instance, ProposalNumber n) {
    ProposalNumber& p = promised_[{acceptor, instance}];
    p = std::max(p, n);
  }

  std::string check() {
    if (!problem_.empty()) return problem_;
    for (int k = 1; k <= count(); ++k) {
      if (!up(k)) continue;
      Acceptor& acceptor = node(k).acceptor();
      // Agreement and validity, over every decision it knows (a handful: one per view).
      for (const auto& [instance, value] : acceptor.decisions()) {
        auto [it, fresh] = decided_.try_emplace(instance, Decision{value, k});
        if (!fresh && it->second.value != value) {
          return fmt::format("agreement: n{} decided instance {} as {}, n{} as {}", it->second.by,
                             instance, describe(it->second.value), k, describe(value));
        }
        if (fresh && proposed_[instance].count(value) == 0) {
          return fmt::format("validity: n{} decided instance {} as {}, which no node proposed", k,
                             instance, describe(value));
        }
        if (fresh) unchecked_quorum_.insert(instance);
      }
    }
    // Quorums, once the view before is known.
    for (auto i = unchecked_quorum_.begin(); i != unchecked_quorum_.end();) {
      std::optional<std::vector<dsys::core::Address>> before;
      if (*i == 2) {
        before = std::vector<dsys::core::Address>{world_.address(1)};
      } else if (auto d = decided_.find(*i - 1); d != decided_.end()) {
        before = dsys::lab7::decode_members(d->second.value);
      }
      if (!before) {
        ++i;
        continue;
      }
      // The most members of view i - 1 that accepted one proposal carrying the decided value.
      std::size_t count = 0;
      for (auto a = accepted_by_.lower_bound({*i, ProposalNumber{}});
           a != accepted_by_.end() && a->first.first == *i; ++a) {
        auto v = accept_values_.find(a->first);
        if (v == accept_values_.end() || v->second != decided_.at(*i).value) continue;
        std::size_t members = 0;
        for (auto m : *before) members += a->second.count(static_cast<NodeId>(m.node_index()));
        count = std::max(count, members);
      }
      if (count < before->size() / 2 + 1) {
        return fmt::format(
            "quorum: instance {} was decided as {}, but at most {} of the {} members of view {} "
            "accepted one proposal of it (a majority is {})",
            *i, describe(decided_.at(*i).value), count, before->size(), *i - 1,
            before->size() / 2 + 1);
      }
      i = unchecked_quorum_.erase(i);
    }
    // Acceptances and promises hold (open instances only: a decided instance's state is its
    // durable decision).
    std::string why = check_open(accepted_, [&](int k, Instance i, const auto& seen,
                                                const dsys::lab7::AcceptorState& state) {
      const auto& [n, value] = seen;
      if (state.n_a >= n && (state.n_a != n || state.v_a == value)) return std::string();
      return fmt::format(
          "acceptances hold: n{} accepted proposal {} for instance {} (its reply left), but its "
          "n_a is now {}{}",
          k, show(n), i, show(state.n_a), state.n_a == n ? " with another v_a" : "");
    });
    if (!why.empty()) return why;
    return check_open(promised_, [&](int k, Instance i, const ProposalNumber& n,
                                     const dsys::lab7::AcceptorState& state) {
      if (state.n_h >= n) return std::string();
      return fmt::format(
          "promises hold: n{} promised or accepted proposal {} for instance {} (its reply left), "
          "but its n_h is now {}",
          k, show(n), i, show(state.n_h));
    });
  }

  // Runs `broken(k, instance, what was seen, its state)` for each entry of `seen` (keyed by
  // acceptor and instance) whose acceptor is up, and forgets the entries of instances their
  // acceptor has decided; returns the first thing broken, or "".
  template <class Seen, class Broken>
  std::string check_open(Seen& seen, Broken broken) {
    for (auto p = seen.begin(); p != seen.end();) {
      const int k = static_cast<int>(p->first.first);
      if (!up(k)) {
        ++p;
        continue;
      }
      const auto state = node(k).acceptor().state(p->first.second);
      if (state.decided) {
        p = seen.erase(p);
        continue;
      }
      if (std::string why = broken(k, p->first.second, p->second, state); !why.empty()) {
        return why;
      }
      ++p;
    }
    return "";
  }
  std::string describe(const std::string& value) const {
    auto members = dsys::lab7::decode_members(value);
    if (!members) return fmt::format("a value of {} bytes that is no member list", value.size());
    std::string out = "{";
    for (auto a : *members) {
      if (out.size() > 1) out += ' ';
      out += a.to_string();
    }
    return out + "}";
  }

  TestWorld& world_;
  std::map<Instance, std::set<std::string>> proposed_;
  std::map<std::pair<Instance, ProposalNumber>, std::string> accept_values_;
  std::map<std::pair<Instance, ProposalNumber>, std::set<NodeId>> accepted_by_;
  std::map<std::pair<NodeId, Instance>, ProposalNumber> promised_;
  std::map<Instance, Decision> decided_;
  std::set<Instance> unchecked_quorum_;
  // Per acceptor and instance: the highest proposal it accepted (its reply left), and its value.
  std::map<std::pair<NodeId, Instance>, std::pair<ProposalNumber, std::string>> accepted_;
  std::string problem_;
};

dsys::sim::Options options(std::uint64_t seed, std::string label) {
  return {.seed = seed, .unsynced_on_crash = dsys::sim::UnsyncedWrites::torn, .label = label};
}

// Starts replicas n1..n<count>, one after the other, each once the one before is in a view.
void start_in_order(Cluster& c, int count) {
  std::set<int> who;
  for (int k = 1; k <= count; ++k) {
    c.add();
    who.insert(k);
    const bool formed = c.converge(who, 60s);
    INFO("replicas n1..n" << k << " should agree on a view of them all; the views:\n"
                          << c.views_now());
    REQUIRE(formed);
  }
}

}  // namespace

// ------------------------------------------------------------ the acceptor

TEST_CASE("lab 7: an acceptor keeps its promises, acceptances and decisions across restarts",
          "[lab7][part1][points:10][timeout:60]") {
  {
    // First: a promise and an acceptance are durable before their replies leave. The acceptor
    // crashes right after it answered, losing every write it had not synced.
    TestWorld world({.seed = 711,
                     .unsynced_on_crash = dsys::sim::UnsyncedWrites::lost,
                     .label = "lab7-acceptor-durable"});
    const NodeId tester = world.add_node("tester");
    const NodeId server = world.add_node("acceptor", dsys::core::make_node<Acceptor>());
    Context& ctx = world.context(tester);
    dsys::rpc::Client client(dsys::rpc::Endpoint::of(ctx), world.address(server), false);
    const ProposalNumber n3{3, 1}, n5{5, 2}, n6{6, 1};
    // Calls `request` as procedure P and runs the world until the reply is in.
    const auto ask = [&]<class P>(P, typename P::Request request) {
      std::optional<dsys::rpc::CallResult<typename P::Reply>> reply;
      ctx.spawn([&]() -> Task<void> { reply = co_await client.call<P>(request, 10s); });
      world.run_until([&] { return reply.has_value(); }, 1min);
      return reply;
    };
    auto promised = ask(dsys::paxos::Prepare{}, dsys::paxos::PrepareRequest(4, n5));
    REQUIRE(promised);
    REQUIRE(*promised);
    CHECK((*promised)->outcome == Outcome::ok);
    world.crash(server);
    world.restart(server);
    auto below = ask(dsys::paxos::Prepare{}, dsys::paxos::PrepareRequest(4, n3));
    INFO(
        "prepare(4, (5, 2)) was answered ok, then the acceptor lost its unsynced writes: the "
        "promise must have been synced before the reply left");
    REQUIRE(below);
    REQUIRE(*below);
    CHECK((*below)->outcome == Outcome::rejected);
    auto took = ask(dsys::paxos::Accept{}, dsys::paxos::AcceptRequest(4, n5, "kept"));
    REQUIRE(took);
    REQUIRE(*took);
    CHECK((*took)->outcome == Outcome::ok);
    world.crash(server);
    world.restart(server);
    auto shown = ask(dsys::paxos::Prepare{}, dsys::paxos::PrepareRequest(4, n6));
    INFO(
        "accept(4, (5, 2), \"kept\") was answered ok, then the acceptor lost its unsynced "
        "writes: the acceptance must have been synced before the reply left");
    REQUIRE(shown);
    REQUIRE(*shown);
    CHECK((*shown)->outcome == Outcome::ok);
    CHECK((*shown)->n_a == n5);
    CHECK((*shown)->v_a == "kept");
  }
  TestWorld world(options(701, "lab7-acceptor"));
  const NodeId tester = world.add_node("tester");
  const NodeId server = world.add_node("acceptor", dsys::core::make_node<Acceptor>());
  std::vector<std::string> problems;
  auto expect = [&](bool ok, std::string what) {
    if (!ok) problems.push_back(std::move(what));
  };
  int stage = 0;
  Context& ctx = world.context(tester);
  const ProposalNumber n3{3, 1}, n4{4, 1}, n5{5, 2}, n6{6, 1}, n9{9, 3};
  ctx.spawn([&]() -> Task<void> {
    dsys::rpc::Client client(dsys::rpc::Endpoint::of(ctx), world.address(server), false);
    using dsys::paxos::AcceptRequest;
    using dsys::paxos::PrepareRequest;
    auto p5 = co_await client.call<dsys::paxos::Prepare>(PrepareRequest(1, n5), 10s);
    expect(p5 && p5->outcome == Outcome::ok && p5->n_a.none(),
           "prepare(1, (5, 2)) on a fresh acceptor is ok, with nothing accepted (n_a none)");
    auto p3 = co_await client.call<dsys::paxos::Prepare>(PrepareRequest(1, n3), 10s);
    expect(p3 && p3->outcome == Outcome::rejected && p3->n_h == n5,
           "then prepare(1, (3, 1)) is rejected, with n_h (5, 2)");
    auto a4 = co_await client.call<dsys::paxos::Accept>(AcceptRequest(1, n4, "four"), 10s);
    expect(a4 && a4->outcome == Outcome::rejected && a4->n_h == n5,
           "accept(1, (4, 1)) below the promise (5, 2) is rejected, with n_h (5, 2)");
    auto a5 = co_await client.call<dsys::paxos::Accept>(AcceptRequest(1, n5, "five"), 10s);
    expect(a5 && a5->outcome == Outcome::ok, "accept(1, (5, 2), \"five\") is ok");
    auto other = co_await client.call<dsys::paxos::Prepare>(PrepareRequest(2, n3), 10s);
    expect(other && other->outcome == Outcome::ok && other->n_a.none(),
           "instances are independent: prepare(2, (3, 1)) is ok with nothing accepted");
    auto a7 = co_await client.call<dsys::paxos::Accept>(AcceptRequest(3, {7, 1}, "seven"), 10s);
    expect(a7 && a7->outcome == Outcome::ok,
           "accept(3, (7, 1)) with no promise for instance 3 is ok (n is at least n_h)");
    auto p6_3 = co_await client.call<dsys::paxos::Prepare>(PrepareRequest(3, n6), 10s);
    expect(p6_3 && p6_3->outcome == Outcome::rejected && p6_3->n_h == ProposalNumber{7, 1},
           "then prepare(3, (6, 1)) is rejected with n_h (7, 1): an accept raises n_h to its n");
    stage = 1;  // the test restarts the acceptor here
    while (stage != 2) co_await ctx.sleep_for(10ms);

    auto again = co_await client.call<dsys::paxos::Prepare>(PrepareRequest(1, n5), 10s);
    expect(again && again->outcome == Outcome::rejected,
           "after a restart, prepare(1, (5, 2)) again is rejected (the promise was kept)");
    auto p6 = co_await client.call<dsys::paxos::Prepare>(PrepareRequest(1, n6), 10s);
    expect(p6 && p6->outcome == Outcome::ok && p6->n_a == n5 && p6->v_a == "five",
           "after a restart, prepare(1, (6, 1)) is ok with n_a (5, 2) and v_a \"five\"");
    auto low2 = co_await client.call<dsys::paxos::Accept>(AcceptRequest(2, {2, 9}, "x"), 10s);
    expect(low2 && low2->outcome == Outcome::rejected,
           "after a restart, accept(2, (2, 9)) below instance 2's promise (3, 1) is rejected");
    auto p6_3again = co_await client.call<dsys::paxos::Prepare>(PrepareRequest(3, n6), 10s);
    expect(p6_3again && p6_3again->outcome == Outcome::rejected &&
               p6_3again->n_h == ProposalNumber{7, 1},
           "after a restart, prepare(3, (6, 1)) is still rejected with n_h (7, 1): the accept of "
           "(7, 1), which had no prepare before it, raised n_h, and a restart rebuilds n_h from it "
           "too");
    auto d = co_await client.call<dsys::paxos::Decide>(dsys::paxos::DecideRequest(1, "five"), 10s);
    expect(bool(d), "decide(1, \"five\") is answered");
    stage = 3;  // restarted again, with junk after the log's last record
    while (stage != 4) co_await ctx.sleep_for(10ms);

    auto p9 = co_await client.call<dsys::paxos::Prepare>(PrepareRequest(1, n9), 10s);
    expect(p9 && p9->outcome == Outcome::decided && p9->decided == "five",
           "after a restart, prepare(1, (9, 3)) on the decided instance 1 is answered decided, "
           "\"five\" (the oldinstance reply)");
    auto a9 = co_await client.call<dsys::paxos::Accept>(AcceptRequest(1, n9, "nine"), 10s);
    expect(a9 && a9->outcome == Outcome::decided && a9->decided == "five",
           "accept(1, (9, 3)) on the decided instance 1 is answered decided, \"five\"");
    auto p2 = co_await client.call<dsys::paxos::Prepare>(PrepareRequest(2, n4), 10s);
    expect(p2 && p2->outcome == Outcome::ok,
           "prepare(2, (4, 1)) above instance 2's promise (3, 1) is ok after two restarts");
    stage = 5;
  });
  REQUIRE(world.run_until([&] { return stage == 1; }, 5min));
  world.crash(server);
  world.restart(server);
  stage = 2;
  REQUIRE(world.run_until([&] { return stage == 3; }, 5min));
  CHECK(world.service<Acceptor>(server).state(1).decided == std::optional<std::string>("five"));
  world.crash(server);
  // A torn record after the last good one: the log's frame check drops it.
  world.disk(server).append(Acceptor::kLogKey, std::string("\x13\x00\x00\x00torn", 8));
  world.disk(server).sync();
  world.restart(server);
  CHECK(world.service<Acceptor>(server).state(1).decided == std::optional<std::string>("five"));
  CHECK(world.service<Acceptor>(server).state(2).n_h == n3);
  stage = 4;
  REQUIRE(world.run_until([&] { return stage == 5; }, 5min));
  for (const auto& p : problems) UNSCOPED_INFO("not so: " << p);
  CHECK(problems.empty());
}

// ------------------------------------------------------------ the proposer

namespace {

// A node with only a proposer (and the acceptor it needs), not itself an acceptor of the
// instances it proposes: as a joining replica is.
struct ProposerNode {
  explicit ProposerNode(Context& ctx) : local(ctx), proposer(ctx, local) {}
  Acceptor local;
  dsys::lab7::Proposer proposer;
};

}  // namespace

TEST_CASE(
    "lab 7: a proposer goes above a rejection, takes v_a of the highest n_a, and adopts a "
    "decided value",
    "[lab7][part2][points:10][timeout:60]") {
  TestWorld world(options(702, "lab7-proposer"));
  const NodeId tester = world.add_node("tester");
  std::vector<NodeId> acceptors;
  std::vector<dsys::core::Address> addresses;
  for (int k = 1; k <= 3; ++k) {
    acceptors.push_back(world.add_node(fmt::format("a{}", k), dsys::core::make_node<Acceptor>()));
    addresses.push_back(world.address(acceptors.back()));
  }
  const NodeId proposer = world.add_node("proposer", dsys::core::make_node<ProposerNode>());
  std::vector<std::string> problems;
  auto expect = [&](bool ok, std::string what) {
    if (!ok) problems.push_back(std::move(what));
  };
  bool done = false;
  Context& ctx = world.context(tester);
  ctx.spawn([&]() -> Task<void> {
    using dsys::paxos::AcceptRequest;
    using dsys::paxos::PrepareRequest;
    std::vector<std::unique_ptr<dsys::rpc::Client>> to;
    for (auto a : addresses) {
      to.push_back(std::make_unique<dsys::rpc::Client>(dsys::rpc::Endpoint::of(ctx), a, false));
    }
    // Instance 1: a1 accepted (3, 9) "older", a2 and a3 accepted (5, 9) "newer": every majority
    // holds one that accepted "newer", the highest. Instance 2: "done" accepted by a2 and a3 (a
    // majority: it is chosen), and a3 knows it is decided.
    auto accepted = [&](std::size_t k, Instance i, ProposalNumber n, std::string v) -> Task<bool> {
      auto promised = co_await to[k]->call<dsys::paxos::Prepare>(PrepareRequest(i, n), 10s);
      auto took = co_await to[k]->call<dsys::paxos::Accept>(AcceptRequest(i, n, v), 10s);
      co_return promised && promised->outcome == Outcome::ok&& took && took->outcome == Outcome::ok;
    };
    expect(co_await accepted(0, 1, {3, 9}, "older"), "a1 promises and accepts (3, 9) \"older\"");
    expect(co_await accepted(1, 1, {5, 9}, "newer"), "a2 promises and accepts (5, 9) \"newer\"");
    expect(co_await accepted(2, 1, {5, 9}, "newer"), "a3 promises and accepts (5, 9) \"newer\"");
    expect(co_await accepted(1, 2, {8, 9}, "done"), "a2 promises and accepts (8, 9) \"done\"");
    expect(co_await accepted(2, 2, {8, 9}, "done"), "a3 promises and accepts (8, 9) \"done\"");
    // Instance 3: a1 accepted (3, 9) "older3", a2 accepted (5, 9) "newer3", a3 nothing.
    expect(co_await accepted(0, 3, {3, 9}, "older3"), "a1 promises and accepts (3, 9) \"older3\"");
    expect(co_await accepted(1, 3, {5, 9}, "newer3"), "a2 promises and accepts (5, 9) \"newer3\"");
    auto decided =
        co_await to[2]->call<dsys::paxos::Decide>(dsys::paxos::DecideRequest(2, "done"), 10s);
    expect(bool(decided), "a3 is told that instance 2 is decided");
    done = true;
  });
  REQUIRE(world.run_until([&] { return done; }, 5min));

  auto& p = world.service<ProposerNode>(proposer);
  Context& pctx = world.context(proposer);
  // The acceptors' replies reach the proposer in a fixed order, a1's first: whichever majority
  // of promises it waits for holds a1's, with the lower n_a, and it is the first to arrive.
  const auto replies_in_order = [&](std::vector<int> order) {
    dsys::core::Duration delay = 1ms;
    for (int k : order) {
      world.set_link_faults(proposer, acceptors[k], {.min_delay = 1ms, .max_delay = 1ms});
      world.set_link_faults(acceptors[k], proposer, {.min_delay = delay, .max_delay = delay});
      delay += 60ms;  // more than a slowed reply is held back (50 ms)
    }
  };
  replies_in_order({0, 1, 2});
  // Instance 1: its first number (round 1) is below every promise; a later try must go above
  // them, and find "newer" (the highest n_a) among the promises: P2c.
  std::optional<std::string> first;
  int tries = 0;
  pctx.spawn([&]() -> Task<void> {
    while (!first && tries < 5) {
      ++tries;
      first = co_await p.proposer.propose(1, addresses, "mine");
    }
  });
  REQUIRE(world.run_until([&] { return first.has_value() || tries >= 5; }, 5min));
  INFO("instance 1: a1 accepted (3, 9) \"older\", a2 and a3 accepted (5, 9) \"newer\"");
  REQUIRE(first);
  CHECK(*first == "newer");
  INFO("propose must go above the n_h (5, 9) it was shown: two tries at most");
  CHECK(tries <= 2);
  CHECK(p.local.state(1).decided == std::optional<std::string>("newer"));
  // The decides go out in the background: every acceptor learns instance 1.
  const bool everyone = world.run_until(
      [&] {
        return std::all_of(acceptors.begin(), acceptors.end(), [&](NodeId a) {
          return world.service<Acceptor>(a).state(1).decided == std::optional<std::string>("newer");
        });
      },
      1min);
  CHECK(everyone);

  // Instance 3, with a2's replies first, a1's second and a3's last: a majority of promises is
  // a2's and a1's, and the value is a2's "newer3" (the highest n_a), not the last one to arrive.
  replies_in_order({1, 0, 2});
  std::optional<std::string> third;
  tries = 0;
  pctx.spawn([&]() -> Task<void> {
    while (!third && tries < 5) {
      ++tries;
      third = co_await p.proposer.propose(3, addresses, "mine");
    }
  });
  REQUIRE(world.run_until([&] { return third.has_value() || tries >= 5; }, 5min));
  INFO(
      "instance 3: a1 accepted (3, 9) \"older3\", a2 accepted (5, 9) \"newer3\"; a2's "
      "replies arrive first, then a1's");
  REQUIRE(third);
  CHECK(*third == "newer3");
  for (NodeId a : acceptors) {  // the links as they were
    world.set_link_faults(a, proposer, {});
    world.set_link_faults(proposer, a, {});
  }

  // Instance 2, with a1 and a2 down: a3 answers "decided", and that is enough.
  world.crash(acceptors[0]);
  world.crash(acceptors[1]);
  std::optional<std::optional<std::string>> second;
  pctx.spawn([&]() -> Task<void> { second = co_await p.proposer.propose(2, addresses, "mine"); });
  REQUIRE(world.run_until([&] { return second.has_value(); }, 5min));
  INFO("instance 2 is decided (\"done\") at a3, the only acceptor up: propose adopts it");
  CHECK(*second == std::optional<std::string>("done"));
  CHECK(p.local.state(2).decided == std::optional<std::string>("done"));
  for (const auto& problem : problems) UNSCOPED_INFO("not so: " << problem);
  CHECK(problems.empty());
}

// ------------------------------------------------------------ views over Paxos
// (the classic rsm_tester's tests 0 to 7)

TEST_CASE("lab 7: three replicas started one by one form views {1}, {1,2}, {1,2,3}",
          "[lab7][part1][part2][points:5][timeout:60]") {
  TestWorld world(options(710, "lab7-start"));
  Cluster c(world);
  c.add();
  CHECK(c.view(1).number == 1);
  CHECK(c.members(c.view(1)) == std::set<int>{1});
  c.add();
  REQUIRE(c.converge({1, 2}, 60s));
  CHECK(c.view(1).number == 2);
  c.add();
  REQUIRE(c.converge({1, 2, 3}, 60s));
  CHECK(c.view(3).number == 3);
  CHECK(c.decided(2) == dsys::lab7::encode_members({world.address(1), world.address(2)}));
  CHECK(c.decided(3) ==
        dsys::lab7::encode_members({world.address(1), world.address(2), world.address(3)}));
  world.run_for(10s);  // and nothing changes while all are up
  CHECK(c.agree_on({1, 2, 3}));
  CHECK(c.view(1).number == 3);
}

namespace {

// Replicas n1..n3 in view 3; `victim` is killed; the other two must form view 4, of them alone.
void kill_one_of_three(std::uint64_t seed, std::string label, int victim) {
  TestWorld world(options(seed, std::move(label)));
  Cluster c(world);
  start_in_order(c, 3);
  c.kill(victim);
  std::set<int> rest = {1, 2, 3};
  rest.erase(victim);
  const bool formed = c.converge(rest, 60s);
  INFO(c.views_now());
  REQUIRE(formed);
  CHECK(c.view(*rest.begin()).number == 4);
}

}  // namespace

TEST_CASE("lab 7: when a backup dies, the others form a view without it",
          "[lab7][part1][part2][points:5][timeout:60]") {
  kill_one_of_three(711, "lab7-kill-backup", 3);
}

TEST_CASE("lab 7: when the primary dies, the others form a view without it",
          "[lab7][part1][part2][points:5][timeout:60]") {
  kill_one_of_three(712, "lab7-kill-primary", 1);
}

TEST_CASE("lab 7: a killed replica that restarts rejoins: {1,2,3}, {1,2}, {1,2,3}",
          "[lab7][part1][part2][points:5][timeout:60]") {
  TestWorld world(options(713, "lab7-restart"));
  Cluster c(world);
  start_in_order(c, 3);
  c.kill(3);
  REQUIRE(c.converge({1, 2}, 60s));
  c.restart(3);
  const bool formed = c.converge({1, 2, 3}, 60s);
  INFO(c.views_now());
  REQUIRE(formed);
  CHECK(c.view(3).number == 5);
}

TEST_CASE(
    "lab 7: no view forms without a majority of the last one; the returning replica makes one",
    "[lab7][part1][part2][points:6][timeout:90]") {
  // {1,2,3}, then {1,2} without n3; then n2 dies too and n3 restarts: n1 and n3 are no majority
  // of {1,2}, so no view forms, however long they try. When n2 comes back, all three are one.
  TestWorld world(options(714, "lab7-no-majority"));
  Cluster c(world);
  start_in_order(c, 3);
  c.kill(3);
  REQUIRE(c.converge({1, 2}, 60s));
  const Instance last = c.highest_decided();
  c.kill(2);
  c.restart(3);
  world.run_for(20s);
  INFO(c.views_now());
  CHECK(c.highest_decided() == last);
  CHECK(c.view(1).number == last);
  c.restart(2);
  const bool formed = c.converge({1, 2, 3}, 60s);
  REQUIRE(formed);
}

TEST_CASE(
    "lab 7: the primary dies between prepare and accept, and a backup dies: no view, until the "
    "backup returns and {2,3} forms",
    "[lab7][part1][part2][points:7][timeout:90]") {
  TestWorld world(options(715, "lab7-die-prepared"));
  Cluster c(world);
  start_in_order(c, 3);
  world.crash_at_breakpoint(c.id(1), std::string(dsys::lab7::Proposer::kPrepared));
  c.kill(3);  // n1 proposes {1,2}, and dies once a majority has promised
  REQUIRE(world.run_until([&] { return !c.up(1); }, 60s));
  world.run_for(20s);
  INFO(c.views_now());
  CHECK(c.highest_decided() == 3);  // n2 alone is no majority of {1,2,3}
  c.restart(3);
  const bool formed = c.converge({2, 3}, 60s);
  REQUIRE(formed);
  CHECK(c.view(2).number == 4);
}

TEST_CASE(
    "lab 7: the primary dies between accept and decide: the accepted view is the one decided, "
    "and {2,3,4} forms",
    "[lab7][part1][part2][points:7][timeout:120]") {
  // Four replicas; n4 dies, n1 proposes {1,2,3}, n1, n2 and n3 accept it, and n1 dies before it
  // tells anyone. n2 and n3 are no majority of four: nothing is decided until n4 returns; then
  // the next proposer must find {1,2,3} among the promises (P2c) and decide it; later views drop
  // n1 and take n4 back.
  TestWorld world(options(716, "lab7-die-accepted"));
  Cluster c(world);
  start_in_order(c, 4);
  world.crash_at_breakpoint(c.id(1), std::string(dsys::lab7::Proposer::kAccepted));
  c.kill(4);
  REQUIRE(world.run_until([&] { return !c.up(1); }, 60s));
  world.run_for(10s);
  CHECK(c.highest_decided() == 4);
  c.restart(4);
  const bool formed = c.converge({2, 3, 4}, 120s);
  INFO(c.views_now());
  REQUIRE(formed);
  INFO("instance 5 was accepted by a majority as {1,2,3} before n1 died: it must be decided so");
  CHECK(c.decided(5) ==
        dsys::lab7::encode_members({world.address(1), world.address(2), world.address(3)}));
}

TEST_CASE(
    "lab 7: a replica alone in its view learns the view it accepted when the proposer dies "
    "before deciding",
    "[lab7][part1][part2][points:3][timeout:60]") {
  // n1 is alone in view 1; n2 proposes {1,2}; n1 accepts it, and n2 dies before it tells anyone.
  // No one pings n1 (it has no peer): the view layer finishes instance 2 from what n1's acceptor
  // accepted (Acceptor::state) with a proposal of its own, which must carry that value (P2c).
  TestWorld world(options(717, "lab7-alone"));
  Cluster c(world);
  c.add();
  c.add();
  world.crash_at_breakpoint(c.id(2), std::string(dsys::lab7::Proposer::kAccepted));
  REQUIRE(world.run_until([&] { return !c.up(2); }, 60s));
  CHECK(!c.node(1).acceptor().state(2).n_a.none());
  const bool learned = world.run_until([&] { return c.view(1).number == 2; }, 30s);
  INFO(c.views_now());
  REQUIRE(learned);
  CHECK(c.members(c.view(1)) == std::set<int>{1, 2});
  c.restart(2);
  const bool formed = c.converge({1, 2}, 60s);
  REQUIRE(formed);
}

// ------------------------------------------------------------ crashes at every step

namespace {

// One run of a sweep: replicas n1..n3 started at once (formation) or formed first and then n3
// killed (removal); `victim` crashes at its `step`-th event of the window, restarts 1 s after it
// is down, and every replica must end in one view of all three.
void crash_at(bool removal, int victim, std::uint64_t step, std::uint64_t* window_steps) {
  TestWorld world(
      options(720 + (removal ? 1 : 0), removal ? "lab7-sweep-removal" : "lab7-sweep-formation"));
  Cluster c(world);
  if (removal) {
    start_in_order(c, 3);
    c.kill(3);
  } else {
    for (int k = 1; k <= 3; ++k) c.add();
  }
  const std::uint64_t from = world.steps(c.id(victim));
  if (step != 0) world.crash_at_step(c.id(victim), from + step);
  const std::set<int> target = removal ? std::set<int>{1, 2} : std::set<int>{1, 2, 3};
  if (step == 0) {  // the baseline: how many steps the window takes
    REQUIRE(c.converge(target, 60s));
    *window_steps = world.steps(c.id(victim)) - from;
    return;
  }
  const bool crashed = world.run_until([&] { return !c.up(victim); }, 60s);
  REQUIRE(crashed);
  world.run_for(1s);
  c.restart(victim);
  if (removal) c.restart(3);
  const bool formed = c.converge({1, 2, 3}, 120s);
  INFO("n" << victim << " crashed at step " << step << " of the window; the views:\n"
           << c.views_now());
  REQUIRE(formed);
}

void sweep(bool removal, int victim) {
  std::uint64_t steps = 0;
  crash_at(removal, victim, 0, &steps);
  INFO("the window has " << steps << " steps of n" << victim);
  REQUIRE(steps > 0);
  for (std::uint64_t s = 1; s <= steps; ++s) crash_at(removal, victim, s, nullptr);
  std::cout << fmt::format("dsys: crashed n{} at each of its {} steps", victim, steps) << std::endl;
}

}  // namespace

TEST_CASE("lab 7: crash at every step of forming {1,2,3}: n1 (the first node)",
          "[lab7][part1][part2][points:3][timeout:300]") {
  sweep(false, 1);
}
TEST_CASE("lab 7: crash at every step of forming {1,2,3}: n2",
          "[lab7][part1][part2][points:3][timeout:300]") {
  sweep(false, 2);
}
TEST_CASE("lab 7: crash at every step of forming {1,2,3}: n3",
          "[lab7][part1][part2][points:3][timeout:300]") {
  sweep(false, 3);
}
TEST_CASE("lab 7: crash at every step of removing a dead replica: n1 (the proposer)",
          "[lab7][part1][part2][points:3][timeout:300]") {
  sweep(true, 1);
}
TEST_CASE("lab 7: crash at every step of removing a dead replica: n2 (an acceptor)",
          "[lab7][part1][part2][points:3][timeout:300]") {
  sweep(true, 2);
}

// ------------------------------------------------------------ partitions and random runs

TEST_CASE("lab 7: a minority partition never forms a view; healing joins everyone again",
          "[lab7][part1][part2][points:5][timeout:120]") {
  TestWorld world(options(730, "lab7-partition"));
  Cluster c(world);
  start_in_order(c, 5);
  const Instance before = c.view(1).number;
  world.note("test: partition {1,2} | {3,4,5}");
  world.partition({{c.id(1), c.id(2)}, {c.id(3), c.id(4), c.id(5)}});
  const bool majority = c.converge({3, 4, 5}, 60s);
  INFO(c.views_now());
  REQUIRE(majority);
  world.run_for(20s);
  CHECK(c.view(1).number == before);
  CHECK(c.view(2).number == before);
  CHECK(c.agree_on({3, 4, 5}));
  world.note("test: heal");
  world.heal();
  const bool healed = c.converge({1, 2, 3, 4, 5}, 60s);
  REQUIRE(healed);
}

namespace {

// One random run: 3 to 5 replicas, 30 s of crashes, restarts and partition changes about every
// 2 s over a network that drops and duplicates 5 % of messages; then everyone back and connected,
// and they must agree on a view of all within 2 minutes. `trace`: keep the trace (off for
// ./dsys explore, which replays a failing seed with it on).
void random_scenario(std::uint64_t seed, bool trace) {
  auto opts = options(seed, "lab7-random");
  // Delays of 1 to 20 ms (a link stays in order): enough overlap for proposals to collide.
  opts.faults = {.drop = 0.05, .duplicate = 0.05, .max_delay = 20ms};
  opts.trace = trace;
  TestWorld world(opts);
  dsys::core::Rng rng(world.seed() * 31 + 7);
  Cluster c(world);
  const int n = 3 + static_cast<int>(rng.below(3));
  for (int k = 1; k <= n; ++k) {
    c.add();
    world.run_for(std::chrono::milliseconds(rng.below(300)));  // joins that collide
  }
  const auto end = world.now() + 30s;
  while (world.now() < end) {
    world.run_for(std::chrono::milliseconds(1000 + rng.below(2000)));
    std::vector<int> up, down;
    for (int k = 1; k <= n; ++k) (c.up(k) ? up : down).push_back(k);
    const auto what = rng.below(10);
    if (what < 4 && !up.empty()) {
      c.kill(up[rng.below(up.size())]);
    } else if (what < 7 && !down.empty()) {
      c.restart(down[rng.below(down.size())]);
    } else if (what < 9) {
      std::vector<NodeId> a, b;
      for (int k = 1; k <= n; ++k) (rng.below(2) ? a : b).push_back(c.id(k));
      world.note("test: partition");
      world.partition({a, b});
    } else {
      world.note("test: heal");
      world.heal();
    }
  }
  world.note("test: heal, restart everyone, no more faults");
  world.heal();
  world.set_faults({});
  std::set<int> all;
  for (int k = 1; k <= n; ++k) {
    all.insert(k);
    if (!c.up(k)) c.restart(k);
  }
  const bool formed = c.converge(all, 120s);
  INFO(n << " replicas, seed " << world.seed() << "; the views:\n" << c.views_now());
  REQUIRE(formed);
}

}  // namespace

TEST_CASE(
    "lab 7: random crashes, restarts and partitions on a lossy network: every invariant holds and "
    "views converge (20 seeds)",
    "[lab7][part1][part2][scenario][points:6][timeout:300]") {
  // ./dsys explore lab7 runs this scenario for many more seeds, in one process
  // (dsys/testing/scenario.hpp).
  CHECK(dsys::testing::run_scenario_seeds(20, random_scenario, "views did not converge") == 0);
}

// ------------------------------------------------------------ real processes

using dsys::testing::Disks;
using dsys::testing::outputs;
using dsys::testing::Replica;
using dsys::testing::start_three;

TEST_CASE(
    "lab 7: real lock_server processes form views, drop a killed backup and the killed primary, "
    "and take a restarted one back on its disk",
    "[lab7][processes][points:5][timeout:200]") {
  Disks disks;
  auto replicas = start_three(disks);
  Replica &r1 = *replicas[0], &r2 = *replicas[1], &r3 = *replicas[2];
  const std::set<std::uint16_t> all = {r1.port(), r2.port(), r3.port()};
  // SIGKILL a backup: a view of the two others.
  r3.kill();
  for (Replica* r : {&r1, &r2}) {
    INFO(outputs({&r1, &r2, &r3}));
    REQUIRE(r->wait_for_view({r1.port(), r2.port()}, 30s) == 4u);
  }
  // It restarts on its own disk, knowing view 3 (it prints it first): it learns view 4 from the
  // primary and joins again.
  r3.restart();
  for (Replica* r : {&r1, &r2, &r3}) {
    INFO(outputs({&r1, &r2, &r3}));
    REQUIRE(r->wait_for_view(all, 30s, 4) == 5u);
  }
  // SIGKILL the primary.
  r1.kill();
  for (Replica* r : {&r2, &r3}) {
    INFO(outputs({&r1, &r2, &r3}));
    REQUIRE(r->wait_for_view({r2.port(), r3.port()}, 30s) == 6u);
  }
}

TEST_CASE(
    "lab 7: real lock_server processes: the primary cut off from the others is dropped from the "
    "view, and taken back when the partition heals",
    "[lab7][processes][points:3][timeout:200]") {
  Disks disks;
  auto replicas = start_three(disks);
  Replica &r1 = *replicas[0], &r2 = *replicas[1], &r3 = *replicas[2];
  const std::set<std::uint16_t> all = {r1.port(), r2.port(), r3.port()};
  // The classic tester's partition: r1 drops all traffic with r2 and r3, and they with it.
  r1.cut_off({r2.port(), r3.port()});
  r2.cut_off({r1.port()});
  r3.cut_off({r1.port()});
  for (Replica* r : {&r2, &r3}) {
    INFO(outputs({&r1, &r2, &r3}));
    REQUIRE(r->wait_for_view({r2.port(), r3.port()}, 60s));
  }
  for (Replica* r : {&r1, &r2, &r3}) r->cut_off({});
  for (Replica* r : {&r1, &r2, &r3}) {
    INFO(outputs({&r1, &r2, &r3}));
    REQUIRE(r->wait_for_view(all, 60s, 3));
  }
}

TEST_CASE(
    "lab 7: a real primary stopped at DSYS_BREAKPOINT=paxos:prepared leaves no view behind, and "
    "{2,3} forms once the killed backup restarts",
    "[lab7][processes][points:3][timeout:200]") {
  Disks disks;
  auto replicas = start_three(disks, {"DSYS_BREAKPOINT=paxos:prepared"});
  Replica &r1 = *replicas[0], &r2 = *replicas[1], &r3 = *replicas[2];
  // n1 proposes a view without n3, and stops once n1 and n2 have promised.
  r3.kill();
  const auto status = r1.process().wait(30s);
  INFO(outputs({&r1, &r2, &r3}));
  REQUIRE(status);
  CHECK(*status == 86);
  CHECK_THAT(r1.process().output(), Catch::Contains("stopping at breakpoint paxos:prepared"));
  r3.restart();
  for (Replica* r : {&r2, &r3}) {
    REQUIRE(r->wait_for_view({r2.port(), r3.port()}, 60s) == 4u);
  }
}

// (Not graded: the program's argument parsing is given code.)
TEST_CASE("lab 7: lock_server refuses bad arguments with a usage message", "[lab7][processes]") {
  for (const std::vector<std::string>& args : {std::vector<std::string>{},
                                               {"1"},
                                               {"x", "0"},
                                               {"0", "99999"},
                                               {"0", "5000"},
                                               {"0", "0", "--dir"},
                                               {"0", "0"},
                                               {"127.0.0.1:x", "0", "--dir", "d"},
                                               {"300.0.0.1:5000", "5000"},
                                               {"0.0.0.0:5000", "0.0.0.0:5000"},
                                               {"5000", "5001", "--listen", "5002"},
                                               {"5000", "5000", "--announce"}}) {
    std::vector<std::string> argv = {DSYS_APPS_DIR "/lock_server"};
    argv.insert(argv.end(), args.begin(), args.end());
    dsys::testing::Process p(argv);
    const auto status = p.wait(20s);
    INFO("lock_server " << fmt::format("{}", fmt::join(args, " ")) << ":\n" << p.output());
    REQUIRE(status);
    CHECK(*status == 2);
    CHECK_THAT(p.output(), Catch::Contains("usage: lock_server MASTER_PORT MY_PORT"));
  }
}
