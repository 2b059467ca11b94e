// Lab 8's graded tests. Points and time limits are the [points:N] and [timeout:S] tags.
// Run them all with `./dsys grade lab8`, one with `./dsys grade lab8 --only "<name>"`.
//
// Every simulated test runs replicas n1, n2, ... (lab 7's views, your Rsm, and a replicated
// service: your LockStateMachine, or the tests' counter) and checks after every event:
//  - one request per viewstamp: no two replicas execute different requests as one viewstamp
//    (while the first is up: a request whose every execution died with its replicas' memories
//    was never answered, and its viewstamp may be given again);
//  - order: each replica executes in increasing viewstamp order (from its start);
//  - callbacks from the primary: every Revoke and Retry on the wire comes from a replica that is
//    the primary of its view, its view change done (Rsm::primary());
//  - mutual exclusion, judged from the clients: no lock is held by two users at once;
// and at the end: every user finished, the history of acquires and releases is linearizable
// (dsys/testing/linearizability.hpp, the lock model), and every member of the last view has the
// same state (Rsm::state()). The counter tests check at-most-once from the replies: each add
// returns the new total, so a request executed twice shows as a total above the adds.
// The real-process tests start `lock_server` programs and `lock_tester`.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/ranges.h>

#include "dsys/core/rng.hpp"
#include "dsys/lock/protocol.hpp"
#include "dsys/rpc/marshal.hpp"
#include "dsys/rpc/wire.hpp"
#include "dsys/rsm/protocol.hpp"
#include "dsys/testing/lab.hpp"
#include "dsys/testing/linearizability.hpp"
#include "dsys/testing/process.hpp"
#include "dsys/testing/replica_process.hpp"
#include "dsys/testing/scenario.hpp"
#include "lab8_node.hpp"
#include "lock_state_machine.hpp"
#include "rsm.hpp"
#include "rsm_client.hpp"

using namespace std::chrono_literals;
using dsys::core::Address;
using dsys::core::Context;
using dsys::core::Task;
using dsys::lab8::LockStateMachine;
using dsys::lab8::Viewstamp;
using dsys::lock::LockId;
using dsys::lock::Status;
using dsys::sim::NodeId;
using dsys::testing::TestWorld;

namespace {

// ------------------------------------------------------------ the tests' replicated counter

struct Add {
  static constexpr dsys::rpc::ServiceId kService = 101;  // tests' own (rpc/procedure.hpp)
  static constexpr dsys::rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "counter.add";
  using Request = std::uint64_t;
  using Reply = std::uint64_t;  // the total after the add
};

class Counter final : public dsys::lab8::StateMachine {
 public:
  Counter(Context& ctx, std::function<dsys::core::Time()>, std::function<bool()>)
      : service_(ctx, Add::kService, "counter", {.dispatch_only = true}) {
    service_.serve<Add>(
        [this](const std::uint64_t& n, const dsys::rpc::CallInfo&) -> Task<std::uint64_t> {
          total_ += n;
          co_return total_;
        });
  }
  std::string snapshot() const override { return dsys::rpc::encode(total_); }
  bool restore(std::string_view state) override {
    std::uint64_t t = 0;
    if (!dsys::rpc::decode(state, t)) return false;
    total_ = t;
    return true;
  }
  std::uint64_t total() const { return total_; }

 private:
  std::uint64_t total_ = 0;
  dsys::rpc::Service service_;
};

using CounterReplica = dsys::lab8::BasicReplica<Counter>;
using LockReplica = dsys::lab8::Replica;

// A client of the counter: an RSM client, nothing else.
struct CounterClient {
  CounterClient(Context& ctx, std::vector<Address> replicas)
      : rsm(ctx, std::move(replicas), 120s) {}
  dsys::lab8::RsmClient rsm;
};

// A client node of the lock service: lab 5's caching client through the RSM (as yfs has it).
struct LockClient {
  LockClient(Context& ctx, const std::vector<Address>& replicas)
      : relay(ctx, replicas), locks(ctx, replicas.front(), ctx.rng().next(), 120s) {
    relay.carry(locks);
  }
  dsys::lab8::LockRelay relay;
  dsys::lab5::CachingLockClient locks;
};

std::string show(const Viewstamp& vs) {
  return fmt::format("{}.{}", vs.view, vs.seq);
}

// Replicas n1..nN (NodeIds 1..N; NodeId 0 is an idle "tester" node, so that a replica's number
// is the one in its address), then clients, with the invariants above.
template <class ReplicaT>
class Cluster {
 public:
  explicit Cluster(TestWorld& world) : world_(world) {
    world_.add_node("tester");  // NodeId 0, idle: n<k> is NodeId k, as the views print it
    world_.set_tap([this](NodeId from, NodeId, const dsys::core::Bytes& m) { tap(from, m); });
    world_.add_invariant("rsm", [this] { return problem_; });
  }

  // Starts replica n<count()+1> (view 1 is n1); returns its number.
  int add() {
    if (!clients_.empty()) throw std::logic_error("add every replica before the clients");
    const int k = count() + 1;
    const Address first = k == 1 ? Address() : world_.address(1);
    auto factory = dsys::core::make_node<ReplicaT>(
        first,
        dsys::lab8::Rsm::OnExecute(
            [this, k](const Viewstamp& vs, const dsys::rsm::Request& r) { executed(k, vs, r); }),
        dsys::lab7::Views::OnView());
    world_.add_node(fmt::format("n{}", k), [this, k, factory](Context& ctx) {
      last_.erase(k);  // a new incarnation starts from nothing
      ++incarnation_[k];
      return factory(ctx);
    });
    ++replicas_;
    return k;
  }
  template <class Client>
  NodeId add_client(const std::string& name, std::vector<Address> replicas) {
    const NodeId id = world_.add_node(name, dsys::core::make_node<Client>(std::move(replicas)));
    clients_.push_back(id);
    return id;
  }
  int count() const { return replicas_; }
  NodeId id(int k) const { return static_cast<NodeId>(k); }
  Address address(int k) const { return world_.address(id(k)); }
  bool up(int k) const { return world_.is_up(id(k)); }
  void kill(int k) {
    world_.note(fmt::format("test: kill n{}", k));
    world_.crash(id(k));
  }
  void restart(int k) {
    world_.note(fmt::format("test: restart n{}", k));
    world_.restart(id(k));
  }
  ReplicaT& replica(int k) { return world_.service<ReplicaT>(id(k)); }
  const dsys::lab7::View& view(int k) { return replica(k).views().current(); }
  std::set<int> members(const dsys::lab7::View& v) const {
    std::set<int> out;
    for (auto a : v.members) out.insert(static_cast<int>(a.node_index()));
    return out;
  }
  // The replica that is the primary of its view, its view change done (0: none).
  int primary() {
    for (int k = 1; k <= count(); ++k) {
      if (up(k) && replica(k).rsm().primary()) return k;
    }
    return 0;
  }
  // Every replica of `who` is up and has the latest view, made of `who`, and its primary is ready.
  bool agree_on(const std::set<int>& who) {
    std::optional<std::uint64_t> number;
    for (int k : who) {
      if (!up(k) || members(view(k)) != who) return false;
      if (number && *number != view(k).number) return false;
      number = view(k).number;
    }
    const int p = primary();
    return p != 0 && who.count(p) != 0;
  }
  bool converge(const std::set<int>& who, dsys::core::Duration limit) {
    return world_.run_until([&] { return agree_on(who); }, limit);
  }
  std::string views_now() {
    std::string out;
    for (int k = 1; k <= count(); ++k) {
      out += up(k) ? fmt::format("n{}: {} (executed up to {}{})\n", k, view(k).to_string(),
                                 show(replica(k).rsm().last()),
                                 replica(k).rsm().primary() ? ", the primary" : "")
                   : fmt::format("n{}: down\n", k);
    }
    return out;
  }
  // "" when every member of `who` has the same state (Rsm::state()), else who differs.
  std::string same_state(const std::set<int>& who) {
    std::optional<std::string> first;
    int first_k = 0;
    for (int k : who) {
      const std::string s = replica(k).rsm().state();
      if (!first) {
        first = s;
        first_k = k;
      } else if (s != *first) {
        return fmt::format(
            "n{} and n{} (members of one view, nothing on its way) have different "
            "states:\n{}",
            first_k, k, views_now());
      }
    }
    return "";
  }
  std::uint64_t executions() const { return executions_; }

 private:
  void executed(int k, const Viewstamp& vs, const dsys::rsm::Request& r) {
    ++executions_;
    const Execution here{{r.client, r.seq}, k, incarnation_[k]};
    auto [it, fresh] = by_viewstamp_.try_emplace(vs, here);
    // An execution counts while the replica that made it is still up in that incarnation (it
    // keeps it: a live replica's state is never rolled back). One whose every copy died with its
    // replicas' memories was never answered, and its viewstamp may be given again.
    const Execution& before = it->second;
    if (!fresh && before.name != here.name && up(before.replica) &&
        incarnation_[before.replica] == before.incarnation && problem_.empty()) {
      problem_ = fmt::format(
          "one request per viewstamp: n{} executed request {} of client {:#x} as {}, but n{} "
          "(still up) executed request {} of client {:#x} as {}",
          k, r.seq, r.client, show(vs), before.replica, before.name.second, before.name.first,
          show(vs));
    }
    if (!fresh) it->second = here;
    auto last = last_.find(k);
    if (last != last_.end() && !(last->second < vs) && problem_.empty()) {
      problem_ = fmt::format(
          "order: n{} executed {} after {} (a replica executes in increasing viewstamp order)", k,
          show(vs), show(last->second));
    }
    last_[k] = vs;
  }
  void tap(NodeId from, const dsys::core::Bytes& m) {
    auto h = dsys::rpc::read_header(m);
    if (!h || h->kind != dsys::rpc::Kind::request || h->service != dsys::lock::kCallbackService) {
      return;
    }
    const int k = static_cast<int>(from);
    if (k < 1 || k > count() || !problem_.empty()) return;
    // A resend of a callback made while it was the primary is the same call (the RPC layer
    // retransmits until a reply): only a new one must come from the primary.
    if (!callbacks_.insert({k, h->client_nonce, h->xid}).second) return;
    if (!up(k) || !replica(k).rsm().primary()) {
      problem_ = fmt::format(
          "callbacks from the primary: n{} sent a {} to a client, but it is not the primary of "
          "its view (Rsm::primary() is false there); the views:\n{}",
          k, h->procedure == dsys::lock::Revoke::kId ? "Revoke" : "Retry", views_now());
    }
  }

  TestWorld& world_;
  int replicas_ = 0;
  std::vector<NodeId> clients_;
  struct Execution {
    std::pair<dsys::rsm::ClientId, dsys::rsm::Sequence> name;
    int replica = 0;
    int incarnation = 0;
  };
  std::map<Viewstamp, Execution> by_viewstamp_;
  std::map<int, int> incarnation_;  // per replica: its starts
  std::set<std::tuple<int, dsys::rpc::Nonce, dsys::rpc::Xid>> callbacks_;  // seen on the wire
  std::map<int, Viewstamp> last_;  // per replica, since its start
  std::uint64_t executions_ = 0;
  std::string problem_;
};

dsys::sim::Options options(std::uint64_t seed, std::string label) {
  return {.seed = seed, .unsynced_on_crash = dsys::sim::UnsyncedWrites::torn, .label = label};
}

// Starts replicas n1..n<count>, each once the one before is in a view with a ready primary.
template <class ReplicaT>
void start_in_order(Cluster<ReplicaT>& c, int count) {
  std::set<int> who;
  for (int k = 1; k <= count; ++k) {
    c.add();
    who.insert(k);
    const bool formed = c.converge(who, 60s);
    INFO("replicas n1..n" << k
                          << " should agree on a view of them all, with a primary whose view "
                             "change is done; the views:\n"
                          << c.views_now());
    REQUIRE(formed);
  }
}

template <class ReplicaT>
std::vector<Address> addresses(Cluster<ReplicaT>& c) {
  std::vector<Address> out;
  for (int k = 1; k <= c.count(); ++k) out.push_back(c.address(k));
  return out;
}

// ------------------------------------------------------------ the lock workload

// Users on lock client nodes take and give back locks, as lab 5's lock_tester does; they record
// every acquire and release (for linearizability) and check mutual exclusion among themselves.
// Users keep going until the test says stop (once its faults are over), so that the faults come
// while they work however fast the replicas are: a fast implementation does more pairs, never
// finishes before the faults.
class LockWorkload {
 public:
  // Spawns `users` users on the LockClient node `node`, each doing acquire/release pairs over
  // locks 1..`locks`: at least `rounds`, and on until stop().
  void start(TestWorld& world, NodeId node, int users, int rounds, int locks) {
    for (int u = 0; u < users; ++u) {
      const auto user = static_cast<std::uint32_t>(started_++);
      world.context(node).spawn([this, &world, node, user, rounds, locks]() -> Task<void> {
        Context& ctx = world.context(node);
        auto& client = world.service<LockClient>(node).locks;
        for (int i = 0; i < rounds || !stopping_; ++i) {
          const LockId lock = 1 + ctx.rng().below(static_cast<std::uint64_t>(locks));
          dsys::testing::Operation acquire{user,      std::to_string(lock), "acquire",   "",
                                           ctx.now(), std::nullopt,         std::nullopt};
          const auto got = co_await client.acquire(lock);
          if (!got) {
            ++failed_;
            continue;
          }
          acquire.response = ctx.now();
          acquire.result = "ok";
          history_.push_back(acquire);
          if (!holders_[lock].empty() && problem_.empty()) {
            problem_ = fmt::format("mutual exclusion: user {} got lock {} while user {} held it",
                                   user, lock, *holders_[lock].begin());
          }
          holders_[lock].insert(user);
          co_await ctx.sleep_for(std::chrono::milliseconds(ctx.rng().between(0, 3)));
          holders_[lock].erase(user);
          dsys::testing::Operation release{user,      std::to_string(lock), "release",   "",
                                           ctx.now(), std::nullopt,         std::nullopt};
          co_await client.release(lock);
          release.response = ctx.now();
          release.result = "ok";
          history_.push_back(release);
          ++pairs_;
        }
        ++finished_;
      });
    }
  }
  // The users finish the pair they are in (and their first `rounds`), then stop.
  void stop() { stopping_ = true; }
  bool done() const { return finished_ == started_; }
  int started() const { return started_; }
  int finished() const { return finished_; }
  int failed() const { return failed_; }
  int pairs() const { return pairs_; }
  const std::string& problem() const { return problem_; }
  // "" when the history is linearizable, else the explanation.
  std::string linearizable() const {
    auto result = dsys::testing::check_linearizable(dsys::testing::lock_model(), history_);
    return result.linearizable ? "" : result.explain();
  }

 private:
  std::vector<dsys::testing::Operation> history_;
  std::map<LockId, std::set<std::uint32_t>> holders_;
  int started_ = 0, finished_ = 0, failed_ = 0, pairs_ = 0;
  bool stopping_ = false;
  std::string problem_;
};

// What a lock test does to the replicas while the workload runs (the world runs in it).
using Faults = std::function<void(TestWorld&, Cluster<LockReplica>&)>;

// `replicas` replicas, then 3 client nodes of 3 users each (over 3 locks: at least 40 pairs each,
// and on until `faults` are over); then every user must finish without a failed acquire, the
// history must be linearizable, and the replicas in `last_view` (all when empty) must agree on a
// view and a state.
void lock_test(std::uint64_t seed, const std::string& label, int replicas, const Faults& faults,
               std::set<int> last_view = {}) {
  LockWorkload work;  // before the world: the users' coroutines use it
  TestWorld world(options(seed, label));
  Cluster<LockReplica> c(world);
  start_in_order(c, replicas);
  for (int i = 1; i <= 3; ++i) {
    const NodeId n = c.add_client<LockClient>(fmt::format("client{}", i), addresses(c));
    work.start(world, n, 3, 40, 3);
  }
  world.note("test: the workload starts");
  faults(world, c);
  world.note("test: the faults are over; the users stop once they have done 40 pairs each");
  work.stop();
  const bool finished = world.run_until([&] { return work.done(); }, 600s);
  INFO("seed " << world.seed() << "; the views:\n" << c.views_now());
  INFO(work.finished() << " of " << work.started() << " users finished");
  REQUIRE(finished);
  CHECK(work.problem() == "");
  CHECK(work.failed() == 0);
  CHECK(work.pairs() >= 9 * 40);
  const std::string lin = work.linearizable();
  INFO(lin);
  CHECK(lin.empty());
  if (last_view.empty()) {
    for (int k = 1; k <= replicas; ++k) last_view.insert(k);
  }
  for (int k : last_view) {
    if (!c.up(k)) c.restart(k);
  }
  const bool formed = c.converge(last_view, 120s);
  INFO("the views:\n" << c.views_now());
  REQUIRE(formed);
  world.run_for(5s);  // anything on its way arrives
  CHECK(c.same_state(last_view) == "");
}

// Runs the world until replica k has executed `n` more requests (at most `limit`).
void run_until_executed(TestWorld& world, Cluster<LockReplica>& c, std::uint64_t n,
                        dsys::core::Duration limit = 60s) {
  const auto target = c.executions() + n;
  REQUIRE(world.run_until([&] { return c.executions() >= target; }, limit));
}

}  // namespace

// ------------------------------------------------------------ part 3: the lock state machine alone

namespace {

// A node with one lock state machine, under a clock of the test's, never the primary.
struct OneMachine {
  explicit OneMachine(Context& ctx)
      : a(
            ctx, [this] { return now; }, [] { return false; }) {}
  dsys::core::Time now{};
  LockStateMachine a;
};

}  // namespace

TEST_CASE(
    "lab 8: the lock state machine's snapshot restores holders, waiters and who the lock is kept "
    "for; bytes that are no snapshot change nothing",
    "[lab8][part3][points:5][timeout:60]") {
  TestWorld world(options(801, "lab8-snapshot"));
  world.add_node("replica", dsys::core::make_node<OneMachine>());
  auto& m = world.service<OneMachine>(0);
  const Address c1 = Address::node(11), c2 = Address::node(12), c3 = Address::node(13);
  CHECK(m.a.acquire(c1, 1, 7) == Status::ok);
  CHECK(m.a.acquire(c2, 2, 7) == Status::retry);  // c2 waits
  // Only the holder's release frees a lock: c2's (a waiter's) changes nothing.
  CHECK(m.a.release(c2, 2, 7) == Status::not_held);
  CHECK(m.a.release(c3, 3, 7) == Status::not_held);
  CHECK(m.a.holder(7) == c1);
  CHECK(m.a.acquire(c3, 3, 7) == Status::retry);
  CHECK(m.a.acquire(c1, 1, 8) == Status::ok);
  const std::string snap = m.a.snapshot();
  // Change the state, then restore the snapshot: the whole state is as it was.
  CHECK(m.a.release(c1, 1, 8) == Status::ok);
  CHECK(m.a.acquire(c3, 3, 8) == Status::ok);
  CHECK(m.a.restore(snap));
  CHECK(m.a.holder(7) == c1);
  CHECK(m.a.holder(8) == c1);  // as it was at the snapshot
  CHECK(m.a.acquire(c3, 3, 8) == Status::retry);
  // Lock 7: c1 gives it back; it is kept for c2, the waiter, and not given to c3.
  CHECK(m.a.release(c1, 1, 7) == Status::ok);
  CHECK(m.a.acquire(c3, 3, 7) == Status::retry);
  CHECK(m.a.acquire(c2, 2, 7) == Status::ok);
  const std::string before = m.a.snapshot();
  CHECK_FALSE(m.a.restore("not a snapshot"));
  CHECK(m.a.snapshot() == before);
}

TEST_CASE(
    "lab 8: the lock state machine takes its time from the RSM: a waiter that stops asking is "
    "forgotten by the requests' clock",
    "[lab8][part3][points:5][timeout:60]") {
  TestWorld world(options(802, "lab8-clock"));
  world.add_node("replica", dsys::core::make_node<OneMachine>());
  auto& m = world.service<OneMachine>(0);
  const Address c1 = Address::node(11), c2 = Address::node(12), c3 = Address::node(13);
  m.now = dsys::core::Time(1h);
  CHECK(m.a.acquire(c1, 1, 5) == Status::ok);
  CHECK(m.a.acquire(c2, 2, 5) == Status::retry);
  // The world's clock stands still; the requests' clock moves on past kForgetWaiterAfter.
  m.now += LockStateMachine::kForgetWaiterAfter + 1s;
  CHECK(m.a.release(c1, 1, 5) == Status::ok);
  // c2 stopped asking long ago (by the requests' time): it is forgotten, and c3 gets the lock.
  CHECK(m.a.acquire(c3, 3, 5) == Status::ok);
  // A waiter that asks again in time keeps its place.
  m.now += 1s;
  CHECK(m.a.acquire(c2, 2, 5) == Status::retry);
  m.now += LockStateMachine::kForgetWaiterAfter - 2s;
  CHECK(m.a.acquire(c2, 2, 5) == Status::retry);
  m.now += 2s;
  CHECK(m.a.release(c3, 3, 5) == Status::ok);
  CHECK(m.a.acquire(c1, 1, 5) == Status::retry);  // kept for c2
  CHECK(m.a.acquire(c2, 2, 5) == Status::ok);
}

// ------------------------------------------------------------ part 1: a backup alone

namespace {

// A node that is lab 7's view layer and nothing else: the first node (view 1), and so the primary
// of every view it is in. The test speaks the RSM protocol from it by hand, as a primary would.
struct ScriptedPrimary {
  explicit ScriptedPrimary(Context& ctx) : paxos(ctx, Address()) {}
  dsys::lab7::Node paxos;
};

}  // namespace

TEST_CASE(
    "lab 8: a backup refuses an execute of the old epoch once the primary has fetched its state, "
    "and after the install too",
    "[lab8][part1][points:4][timeout:60]") {
  TestWorld world(options(803, "lab8-stale-epoch"));
  const NodeId primary = world.add_node("primary", dsys::core::make_node<ScriptedPrimary>());
  std::vector<Viewstamp> executed;  // at the backup, in order
  const NodeId backup = world.add_node(
      "backup", dsys::core::make_node<CounterReplica>(
                    world.address(primary),
                    dsys::lab8::Rsm::OnExecute([&](const Viewstamp& vs, const dsys::rsm::Request&) {
                      executed.push_back(vs);
                    }),
                    dsys::lab7::Views::OnView()));
  // The backup joins: view 2 is {primary, backup}.
  const bool joined = world.run_until(
      [&] { return world.service<CounterReplica>(backup).views().current().members.size() == 2; },
      60s);
  REQUIRE(joined);
  const std::uint64_t view = world.service<CounterReplica>(backup).views().current().number;
  REQUIRE(world.service<CounterReplica>(backup).views().primary() == world.address(primary));

  std::vector<std::string> problems;
  auto expect = [&](bool ok, std::string what) {
    if (!ok) problems.push_back(std::move(what));
  };
  bool done = false;
  Context& ctx = world.context(primary);
  ctx.spawn([&]() -> Task<void> {
    using dsys::rsm::ExecuteRequest;
    using dsys::rsm::ExecuteStatus;
    using dsys::rsm::FetchRequest;
    using dsys::rsm::InstallRequest;
    dsys::rpc::Client to(dsys::rpc::Endpoint::of(ctx), world.address(backup), false);
    const auto add = [&](dsys::rsm::Sequence seq) {
      return dsys::rsm::Request(7, seq, seq, ctx.address().raw(), Add::kService, Add::kId,
                                dsys::rpc::encode(std::uint64_t{1}));
    };
    const std::int64_t t = ctx.now().time_since_epoch().count();
    const dsys::rsm::Epoch first = 11, second = 22;
    // A view change of the primary's: fetch, then install its state with epoch 11.
    auto fetched = co_await to.call<dsys::rsm::Fetch>(FetchRequest(view), 10s);
    expect(fetched && fetched->ok, "the backup answers the primary's first fetch with ok");
    if (!fetched || !fetched->ok) co_return;
    auto installed = co_await to.call<dsys::rsm::Install>(
        InstallRequest(view, first, fetched->last, fetched->state), 10s);
    expect(installed && *installed, "the backup takes the install of epoch 11");
    auto one =
        co_await to.call<dsys::rsm::Execute>(ExecuteRequest(first, {view, 1}, t, add(1)), 10s);
    expect(one && *one == ExecuteStatus::ok, "execute (epoch 11, request 1) is ok");
    // The primary starts another view change: it fetches the backup's state, which ends at
    // request 1. An execute of epoch 11 that was on its way arrives now: it must not run, or the
    // backup would hold a request the state the primary took does not have.
    auto again = co_await to.call<dsys::rsm::Fetch>(FetchRequest(view), 10s);
    expect(again && again->ok && again->last == Viewstamp{view, 1},
           "the second fetch is ok, and says request 1 was the last executed");
    if (!again || !again->ok) co_return;
    auto late =
        co_await to.call<dsys::rsm::Execute>(ExecuteRequest(first, {view, 2}, t, add(2)), 10s);
    expect(late && *late != ExecuteStatus::ok,
           "after the fetch, execute (epoch 11, request 2) is refused (out of order)");
    installed = co_await to.call<dsys::rsm::Install>(
        InstallRequest(view, second, again->last, again->state), 10s);
    expect(installed && *installed, "the backup takes the install of epoch 22");
    late = co_await to.call<dsys::rsm::Execute>(ExecuteRequest(first, {view, 2}, t, add(2)), 10s);
    expect(late && *late != ExecuteStatus::ok,
           "after the install of epoch 22, execute (epoch 11, request 2) is still refused");
    auto two =
        co_await to.call<dsys::rsm::Execute>(ExecuteRequest(second, {view, 2}, t, add(2)), 10s);
    expect(two && *two == ExecuteStatus::ok, "execute (epoch 22, request 2) is ok");
    done = true;
  });
  const bool finished = world.run_until([&] { return done || !problems.empty(); }, 5min);
  for (const auto& p : problems) UNSCOPED_INFO("not so: " << p);
  CHECK(problems.empty());
  CHECK(finished);
  std::string order;
  for (const auto& vs : executed) order += fmt::format(" {}", show(vs));
  INFO("what the backup executed, in order:" << order);
  CHECK(executed == std::vector<Viewstamp>{{view, 1}, {view, 2}});
  CHECK(world.service<CounterReplica>(backup).service().total() == 2);
}

namespace {

// A backup whose RSM side is the test's: lab 7's view layer (it joins the views of `first`), and
// rsm.fetch, rsm.install and rsm.execute answered as the test says. It remembers what it got.
struct ScriptedBackup {
  ScriptedBackup(Context& ctx, Address first)
      : paxos(ctx, first), service(ctx, dsys::rsm::kService, "scripted rsm", {}) {
    service.serve<dsys::rsm::Execute>(
        [this](const dsys::rsm::ExecuteRequest& e,
               const dsys::rpc::CallInfo&) -> Task<dsys::rsm::ExecuteStatus> {
          executes.emplace_back(e.vs, e.epoch);
          co_return refuse ? dsys::rsm::ExecuteStatus::out_of_order : dsys::rsm::ExecuteStatus::ok;
        });
    service.serve<dsys::rsm::Fetch>(
        [this](const dsys::rsm::FetchRequest&,
               const dsys::rpc::CallInfo&) -> Task<dsys::rsm::FetchReply> { co_return fetched; });
    service.serve<dsys::rsm::Install>(
        [this](const dsys::rsm::InstallRequest& i, const dsys::rpc::CallInfo&) -> Task<bool> {
          installs.emplace_back(i.last, i.epoch);
          co_return true;
        });
  }
  dsys::lab7::Node paxos;
  dsys::rpc::Service service;
  bool refuse = false;                        // answer executes out_of_order
  dsys::rsm::FetchReply fetched{.ok = true};  // the fetch reply (default: no state, as a new one)
  std::vector<std::pair<Viewstamp, dsys::rsm::Epoch>> executes;  // each execute it was sent
  std::vector<std::pair<Viewstamp, dsys::rsm::Epoch>> installs;  // each install's last, epoch
};

}  // namespace

TEST_CASE(
    "lab 8: the view change installs the state with the highest viewstamp: a backup that "
    "executed a request the primary has not keeps it",
    "[lab8][part1][points:4][timeout:60]") {
  TestWorld world(options(804, "lab8-highest-state"));
  const NodeId primary = world.add_node(
      "primary", dsys::core::make_node<CounterReplica>(Address(), dsys::lab8::Rsm::OnExecute(),
                                                       dsys::lab7::Views::OnView()));
  auto& p = world.service<CounterReplica>(primary);
  const auto ready = [&](std::size_t members) {
    return world.run_until(
        [&] { return p.views().current().members.size() == members && p.rsm().primary(); }, 60s);
  };
  REQUIRE(ready(1));
  const NodeId one =
      world.add_node("s1", dsys::core::make_node<ScriptedBackup>(world.address(primary)));
  REQUIRE(ready(2));
  const NodeId two =
      world.add_node("s2", dsys::core::make_node<ScriptedBackup>(world.address(primary)));
  REQUIRE(ready(3));
  auto& s1 = world.service<ScriptedBackup>(one);
  auto& s2 = world.service<ScriptedBackup>(two);
  const std::uint64_t view = p.views().current().number;
  const NodeId client = world.add_node(
      "client", dsys::core::make_node<CounterClient>(std::vector<Address>{world.address(primary)}));
  std::vector<std::uint64_t> replies;
  const auto add = [&] {
    world.context(client).spawn([&]() -> Task<void> {
      auto r = co_await world.service<CounterClient>(client).rsm.call<Add>(1);
      if (r) replies.push_back(*r);
    });
  };
  // Request 1: both backups execute it, then the primary; the reply is 1.
  add();
  REQUIRE(world.run_until([&] { return replies.size() == 1; }, 60s));
  CHECK(replies[0] == 1);
  const Viewstamp first{view, 1}, second{view, 2};
  // Request 2: s1 executes it, s2 refuses it (a gap, say), so the primary has not executed it
  // and starts a view change in the same view. s1 holds the highest state: request 2 done (its
  // state bytes are the primary's after request 1: request 2's effect is not seen, which is
  // all the same to this test); s2 and the primary stop at request 1.
  s2.refuse = true;
  s1.fetched = {.ok = true, .last = second, .state = p.rsm().state(), .has_state = true};
  s2.fetched = {.ok = true, .last = first, .state = p.rsm().state(), .has_state = true};
  const std::size_t installs_before = s1.installs.size();
  add();
  const bool changed = world.run_until(
      [&] { return s1.installs.size() > installs_before && s2.installs.size() > installs_before; },
      60s);
  REQUIRE(changed);
  s2.refuse = false;
  INFO("the view change fetched (" << show(second) << ") from s1, (" << show(first)
                                   << ") from s2 and itself");
  CHECK(s1.installs.back().first == second);
  CHECK(s2.installs.back().first == second);
  REQUIRE(world.run_until([&] { return replies.size() == 2; }, 60s));
  // Request 2 is ordered again in the new epoch, above what s1 holds: never at (view, 2) again.
  const auto epoch = s1.installs.back().second;
  const auto again = std::count_if(s1.executes.begin(), s1.executes.end(), [&](const auto& e) {
    return e.second == epoch && !(second < e.first);
  });
  INFO("s1 was sent " << again << " executes of the new epoch at or below " << show(second));
  CHECK(again == 0);
}

// ------------------------------------------------------------ parts 1 and 2: the RSM, on a counter

namespace {

// 3 counter replicas; `clients` clients each send `adds` add(1) requests, `parallel` at a time,
// over a network that drops and duplicates 10 % of messages, while `faults` run. Every add must
// succeed, and the totals prove at most once: the final total is the number of adds, and the
// replies are the numbers 1..total, each once.
void counter_test(std::uint64_t seed, const std::string& label, int clients, int adds, int parallel,
                  const std::function<void(TestWorld&, Cluster<CounterReplica>&)>& faults,
                  bool first_is_backup) {
  std::vector<std::uint64_t> replies;
  int finished = 0, failed = 0;
  TestWorld world(options(seed, label));
  Cluster<CounterReplica> c(world);
  start_in_order(c, 3);
  world.set_faults({.drop = 0.1, .duplicate = 0.1});
  // The clients know one replica: a backup (they must be told the primary), or the primary
  // (they must learn the others from it, to find the next primary when it dies).
  std::vector<Address> given = {c.address(first_is_backup ? 2 : 1)};
  for (int i = 1; i <= clients; ++i) {
    const NodeId n = c.add_client<CounterClient>(fmt::format("client{}", i), given);
    for (int p = 0; p < parallel; ++p) {
      world.context(n).spawn([&, n, adds, parallel]() -> Task<void> {
        auto& rsm = world.service<CounterClient>(n).rsm;
        for (int a = 0; a < adds / parallel; ++a) {
          auto r = co_await rsm.call<Add>(1);
          if (r) {
            replies.push_back(*r);
          } else {
            ++failed;
          }
        }
        ++finished;
      });
    }
  }
  faults(world, c);
  const bool done = world.run_until([&] { return finished == clients * parallel; }, 600s);
  INFO("seed " << world.seed() << "; the views:\n" << c.views_now());
  REQUIRE(done);
  CHECK(failed == 0);
  std::sort(replies.begin(), replies.end());
  std::vector<std::uint64_t> expected(replies.size());
  std::iota(expected.begin(), expected.end(), std::uint64_t{1});
  INFO("the replies, sorted (an add that ran twice leaves a gap: a total no one saw): "
       << fmt::format("{}", fmt::join(replies, " ")));
  CHECK(replies == expected);
  world.set_faults({});
  std::set<int> all = {1, 2, 3};
  for (int k : all) {
    if (!c.up(k)) c.restart(k);
  }
  REQUIRE(c.converge(all, 120s));
  world.run_for(5s);
  CHECK(c.same_state(all) == "");
  CHECK(c.replica(c.primary()).service().total() == replies.size());
}

}  // namespace

TEST_CASE(
    "lab 8: the RSM client finds the primary from a backup's address, and on a lossy network every "
    "add runs exactly once",
    "[lab8][part1][part2][points:5][timeout:300]") {
  counter_test(
      811, "lab8-counter", 2, 40, 1, [](TestWorld&, Cluster<CounterReplica>&) {}, true);
}

TEST_CASE(
    "lab 8: many requests on their way at once (the primary pipelines) through a killed primary "
    "(the only replica the clients were given): each runs exactly once",
    "[lab8][part1][part2][points:5][timeout:300]") {
  counter_test(
      812, "lab8-counter-pipeline", 3, 60, 4,
      [](TestWorld& world, Cluster<CounterReplica>& c) {
        REQUIRE(world.run_until([&] { return c.executions() > 60; }, 60s));
        REQUIRE(c.primary() != 0);
        c.kill(c.primary());
      },
      false);
}

// ------------------------------------------------------------ the classic rsm_tester 8-16

TEST_CASE("lab 8: (rsm_tester 8) three replicas serve the lock workload",
          "[lab8][part1][part2][part3][points:4][timeout:300]") {
  lock_test(821, "lab8-t8", 3, [](TestWorld&, Cluster<LockReplica>&) {});
}

TEST_CASE("lab 8: (rsm_tester 9) a backup is killed during the lock workload",
          "[lab8][part1][part2][part3][points:5][timeout:300]") {
  lock_test(822, "lab8-t9", 3,
            [](TestWorld& world, Cluster<LockReplica>& c) {
              run_until_executed(world, c, 30);
              c.kill(3);
            },
            {1, 2});
}

TEST_CASE(
    "lab 8: (rsm_tester 10) a backup is killed and restarted: it gets the state from the others",
    "[lab8][part1][part2][part3][points:5][timeout:300]") {
  lock_test(823, "lab8-t10", 3, [](TestWorld& world, Cluster<LockReplica>& c) {
    run_until_executed(world, c, 30);
    c.kill(2);
    world.run_for(8s);
    c.restart(2);
  });
}

TEST_CASE("lab 8: (rsm_tester 11) the primary is killed during the lock workload",
          "[lab8][part1][part2][part3][points:5][timeout:300]") {
  lock_test(824, "lab8-t11", 3,
            [](TestWorld& world, Cluster<LockReplica>& c) {
              run_until_executed(world, c, 30);
              c.kill(1);
            },
            {2, 3});
}

TEST_CASE(
    "lab 8: (rsm_tester 12) the primary dies at breakpoint rsm:ordered (one backup executed the "
    "request, perhaps not all) and restarts",
    "[lab8][part1][part2][part3][points:5][timeout:300]") {
  lock_test(825, "lab8-t12", 3, [](TestWorld& world, Cluster<LockReplica>& c) {
    world.crash_at_breakpoint(c.id(1), "rsm:ordered", 20);
    REQUIRE(world.run_until([&] { return !c.up(1); }, 120s));
    world.run_for(6s);
    c.restart(1);
  });
}

TEST_CASE(
    "lab 8: (rsm_tester 13) a backup dies at breakpoint rsm:ordered (before it executes) and "
    "restarts",
    "[lab8][part1][part2][part3][points:5][timeout:300]") {
  lock_test(826, "lab8-t13", 3, [](TestWorld& world, Cluster<LockReplica>& c) {
    world.crash_at_breakpoint(c.id(2), "rsm:ordered", 20);
    REQUIRE(world.run_until([&] { return !c.up(2); }, 120s));
    world.run_for(6s);
    c.restart(2);
  });
}

TEST_CASE(
    "lab 8: (rsm_tester 14) five replicas; backups die at breakpoints rsm:ordered and rsm:executed",
    "[lab8][part1][part2][part3][points:5][timeout:300]") {
  lock_test(827, "lab8-t14", 5,
            [](TestWorld& world, Cluster<LockReplica>& c) {
              world.crash_at_breakpoint(c.id(4), "rsm:ordered", 15);
              world.crash_at_breakpoint(c.id(5), "rsm:executed", 30);
              REQUIRE(world.run_until([&] { return !c.up(4) && !c.up(5); }, 120s));
            },
            {1, 2, 3});
}

TEST_CASE(
    "lab 8: (rsm_tester 15) five replicas; a backup dies at rsm:ordered, then the primary at "
    "rsm:executed (every backup executed it, the primary not yet)",
    "[lab8][part1][part2][part3][points:5][timeout:300]") {
  lock_test(828, "lab8-t15", 5,
            [](TestWorld& world, Cluster<LockReplica>& c) {
              world.crash_at_breakpoint(c.id(5), "rsm:ordered", 15);
              REQUIRE(world.run_until([&] { return !c.up(5); }, 120s));
              world.crash_at_breakpoint(c.id(1), "rsm:executed", 10);
              REQUIRE(world.run_until([&] { return !c.up(1); }, 120s));
            },
            {2, 3, 4});
}

TEST_CASE("lab 8: (rsm_tester 16) the primary is partitioned away, then the partition heals",
          "[lab8][part1][part2][part3][points:5][timeout:300]") {
  lock_test(829, "lab8-t16", 3, [](TestWorld& world, Cluster<LockReplica>& c) {
    run_until_executed(world, c, 30);
    std::vector<NodeId> others = {c.id(2), c.id(3)};
    for (NodeId n = static_cast<NodeId>(c.count()) + 1; n < world.node_count(); ++n) {
      others.push_back(n);  // the clients are with the majority
    }
    world.note("test: partition n1 away");
    world.partition({{c.id(1)}, others});
    world.run_for(10s);
    world.note("test: heal");
    world.heal();
  });
}

TEST_CASE(
    "lab 8: two of three replicas restart without state while the third, cut off, keeps it: they "
    "form no view without it, and at the heal the state is still there",
    "[lab8][part1][part2][part3][points:4][timeout:300]") {
  // The state survives while one member of the view keeps it (here n3). Two restarted members are
  // a majority of the view: were they to form a view of their own, the lock table would be gone.
  lock_test(830, "lab8-recovery", 3, [](TestWorld& world, Cluster<LockReplica>& c) {
    run_until_executed(world, c, 30);
    std::vector<NodeId> others = {c.id(1), c.id(2)};
    for (NodeId n = static_cast<NodeId>(c.count()) + 1; n < world.node_count(); ++n) {
      others.push_back(n);  // the clients are with n1 and n2
    }
    world.note("test: kill n1 and n2, cut n3 off, restart n1 and n2 (they have no state)");
    c.kill(1);
    c.kill(2);
    world.partition({{c.id(3)}, others});
    c.restart(1);
    c.restart(2);
    world.run_for(10s);
    for (int k : {1, 2}) {
      INFO("n" << k << " restarted without state and its view is " << c.view(k).to_string()
               << ": a view without n3, the one member that kept the state, loses it");
      CHECK(c.view(k).has(c.address(3)));
    }
    world.note("test: heal");
    world.heal();
  });
}

// ------------------------------------------------------------ random scenarios

namespace {

// True when killing replica k could lose the state: k is up and holds it, and it is the only
// replica up that holds it among the members of the latest view any replica knows (then the view
// would wait for a state no member has), or the only one up with the newest state (the highest
// viewstamp executed among those that hold one: requests already answered could be lost).
bool last_keeper(Cluster<LockReplica>& c, int k) {
  auto holds = [&](int j) { return c.up(j) && c.replica(j).rsm().has_state(); };
  if (!holds(k)) return false;
  dsys::lab7::View latest;
  Viewstamp newest{};
  for (int j = 1; j <= c.count(); ++j) {
    if (!c.up(j)) continue;
    if (c.view(j).number > latest.number) latest = c.view(j);
    if (holds(j)) newest = std::max(newest, c.replica(j).rsm().last());
  }
  bool other_in_view = false, other_newest = false;
  for (int j = 1; j <= c.count(); ++j) {
    if (j == k || !holds(j)) continue;
    other_in_view = other_in_view || latest.has(c.address(j));
    other_newest = other_newest || !(c.replica(j).rsm().last() < newest);
  }
  const bool keeps_view = latest.has(c.address(k)) && !other_in_view;
  const bool keeps_newest = !(c.replica(k).rsm().last() < newest) && !other_newest;
  return keeps_view || keeps_newest;
}

// 3 to 5 replicas and 2 lock clients (2 users each, on through the faults); for 30 s, every 1-3 s,
// a replica is killed or restarted, or the replicas are partitioned (the clients with a majority of
// them) or healed, over a network that drops and duplicates 5 %; then everyone back, the users
// stop, and the workload must finish,
// linearizable, with every replica in one view and one state. `trace`: keep the trace.
void random_scenario(std::uint64_t seed, bool trace) {
  auto opts = options(seed, "lab8-random");
  opts.faults = {.drop = 0.05, .duplicate = 0.05, .max_delay = 10ms};
  opts.trace = trace;
  LockWorkload work;
  TestWorld world(opts);
  dsys::core::Rng rng(world.seed() * 31 + 7);
  Cluster<LockReplica> c(world);
  const int n = 3 + static_cast<int>(rng.below(3));
  start_in_order(c, n);
  std::vector<NodeId> clients;
  for (int i = 1; i <= 2; ++i) {
    clients.push_back(c.add_client<LockClient>(fmt::format("client{}", i), addresses(c)));
    work.start(world, clients.back(), 2, 30, 2);
  }
  // The state lives in the replicas' memories: the service promises it survives while a member
  // of each view that holds it lives. So no kill takes the last replica up that holds the state
  // in the latest view, or the newest state (that draw kills no one); and one replica, the anchor,
  // is never killed and always on the majority's side (as the classic tester's partitions kept a
  // majority).
  const int anchor = 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(n)));
  world.note(fmt::format("test: n{} is the anchor", anchor));
  const auto end = world.now() + 30s;
  while (world.now() < end) {
    world.run_for(std::chrono::milliseconds(1000 + rng.below(2000)));
    std::vector<int> up, down;
    for (int k = 1; k <= n; ++k) {
      if (k != anchor) (c.up(k) ? up : down).push_back(k);
    }
    const auto what = rng.below(10);
    if (what < 4 && !up.empty()) {
      const int victim = up[rng.below(up.size())];
      if (last_keeper(c, victim)) {
        world.note(fmt::format("test: n{} is the last replica up that keeps the state: not killed",
                               victim));
      } else {
        c.kill(victim);
      }
    } else if (what < 7 && !down.empty()) {
      c.restart(down[rng.below(down.size())]);
    } else if (what < 9) {
      std::vector<NodeId> a = clients, b;
      int in_a = 1;
      a.push_back(c.id(anchor));
      for (int k = 1; k <= n; ++k) {
        if (k == anchor) continue;
        if (rng.below(2) != 0 || 2 * in_a <= n) {  // the anchor's side is a majority
          a.push_back(c.id(k));
          ++in_a;
        } else {
          b.push_back(c.id(k));
        }
      }
      world.note("test: partition");
      world.partition({a, b});
    } else {
      world.note("test: heal");
      world.heal();
    }
  }
  world.note("test: heal, restart everyone, no more faults; the users stop after 30 pairs each");
  work.stop();
  world.heal();
  world.set_faults({});
  std::set<int> all;
  for (int k = 1; k <= n; ++k) {
    all.insert(k);
    if (!c.up(k)) c.restart(k);
  }
  const bool done = world.run_until([&] { return work.done(); }, 600s);
  INFO(n << " replicas, seed " << world.seed() << "; the views:\n" << c.views_now());
  REQUIRE(done);
  REQUIRE(work.problem() == "");
  const std::string lin = work.linearizable();
  INFO(lin);
  REQUIRE(lin.empty());
  REQUIRE(c.converge(all, 120s));
  world.run_for(5s);
  REQUIRE(c.same_state(all) == "");
}

}  // namespace

TEST_CASE(
    "lab 8: random crashes, restarts and partitions of the replicas under the lock workload: every "
    "invariant holds, the history is linearizable, and the replicas converge (10 seeds)",
    "[lab8][part1][part2][part3][scenario][points:5][timeout:400]") {
  // ./dsys explore lab8 runs this scenario for many more seeds, in one process
  // (dsys/testing/scenario.hpp).
  CHECK(dsys::testing::run_scenario_seeds(10, random_scenario, "a final check failed") == 0);
}

TEST_CASE("lab 8: the random scenario on the seeds ./dsys explore once failed",
          "[lab8][part1][part2][part3][points:3][timeout:300]") {
  // Recorded seeds: the scenario has changed since some of them failed, so they may no longer
  // take the path they took then, but each is a schedule a reference once got wrong: 11853,
  // 24241 and 26324 lost the lock table to restarted replicas; 15407 and 22157 to views left
  // without it; 126453 waited forever, its one holder's state dropped by a too careful rule.
  // (Replay one: DSYS_SEED=S with this test's name.)
  const char* replay = std::getenv("DSYS_SEED");
  if (replay != nullptr) {
    random_scenario(0, true);  // the TestWorld takes DSYS_SEED
    return;
  }
  for (std::uint64_t seed : {11853, 24241, 26324, 15407, 22157, 126453}) {
    INFO("seed " << seed);
    random_scenario(seed, false);
  }
}

// ------------------------------------------------------------ real processes

namespace {

using dsys::testing::Disks;
using dsys::testing::outputs;
using dsys::testing::Replica;
using dsys::testing::start_three;

// Two lock_tester processes at once (so that locks go back and forth between them, through the
// primary's Revoke and Retry), given the replicas on `first` and `second`; both must pass.
void two_testers(std::uint16_t first, std::uint16_t second, const std::vector<Replica*>& replicas) {
  dsys::testing::Process a({DSYS_APPS_DIR "/lock_tester", std::to_string(first)});
  dsys::testing::Process b({DSYS_APPS_DIR "/lock_tester", std::to_string(second)});
  const auto status_a = a.wait(120s);
  const auto status_b = b.wait(120s);
  INFO("lock_tester " << first << ":\n"
                      << a.output() << "lock_tester " << second << ":\n"
                      << b.output() << outputs(replicas));
  REQUIRE(status_a);
  REQUIRE(status_b);
  CHECK(*status_a == 0);
  CHECK(*status_b == 0);
  CHECK_THAT(a.output(), Catch::Contains("passed all tests successfully"));
  CHECK_THAT(b.output(), Catch::Contains("passed all tests successfully"));
}

}  // namespace

TEST_CASE(
    "lab 8: real replicas serve two lock_testers at once, after the primary is killed with "
    "SIGKILL, after it restarts, and after a backup is killed",
    "[lab8][processes][points:8][timeout:400]") {
  Disks disks;
  auto replicas = start_three(disks);
  Replica &r1 = *replicas[0], &r2 = *replicas[1], &r3 = *replicas[2];
  const std::vector<Replica*> all = {&r1, &r2, &r3};
  two_testers(r1.port(), r3.port(), all);  // one of them finds the primary from a backup
  // SIGKILL the primary: the testers wait out the view change (about 4 s) and go on.
  r1.kill();
  two_testers(r2.port(), r3.port(), all);
  {
    INFO(outputs(all));
    REQUIRE(r2.wait_for_view({r2.port(), r3.port()}, 30s));
  }
  // It restarts on its disk, rejoins, and gets the lock service's state from the others.
  r1.restart();
  for (Replica* r : all) {
    INFO(outputs(all));
    REQUIRE(r->wait_for_view({r1.port(), r2.port(), r3.port()}, 60s, 4));
  }
  two_testers(r1.port(), r2.port(), all);
  r3.kill();
  two_testers(r1.port(), r2.port(), all);
}

TEST_CASE(
    "lab 8: a real primary stopped at DSYS_BREAKPOINT=rsm:ordered (a backup executed the request, "
    "perhaps not all) leaves a service that serves on",
    "[lab8][processes][points:4][timeout:400]") {
  Disks disks;
  auto replicas = start_three(disks, {"DSYS_BREAKPOINT=rsm:ordered@10"});
  Replica &r1 = *replicas[0], &r2 = *replicas[1], &r3 = *replicas[2];
  const std::vector<Replica*> all = {&r1, &r2, &r3};
  two_testers(r2.port(), r3.port(), all);
  const auto status = r1.process().wait(60s);
  INFO(outputs(all));
  REQUIRE(status);
  CHECK(*status == 86);
  CHECK_THAT(r1.process().output(), Catch::Contains("stopping at breakpoint rsm:ordered"));
  two_testers(r2.port(), r3.port(), all);
}

TEST_CASE(
    "lab 8: real replicas: with the primary cut off from the others, the majority serves; after "
    "the partition heals, everyone does",
    "[lab8][processes][points:4][timeout:400]") {
  Disks disks;
  auto replicas = start_three(disks);
  Replica &r1 = *replicas[0], &r2 = *replicas[1], &r3 = *replicas[2];
  const std::vector<Replica*> all = {&r1, &r2, &r3};
  // Served once in view 3: its view change is done, so every member holds the state. (Cut off
  // sooner, a member the view change has not reached yet holds none, and it may not help form a
  // view: then r2 and r3 rightly wait for r1.)
  two_testers(r1.port(), r2.port(), all);
  r1.cut_off({r2.port(), r3.port()});
  r2.cut_off({r1.port()});
  r3.cut_off({r1.port()});
  for (Replica* r : {&r2, &r3}) {
    INFO(outputs(all));
    REQUIRE(r->wait_for_view({r2.port(), r3.port()}, 60s));
  }
  two_testers(r2.port(), r3.port(), all);
  for (Replica* r : all) r->cut_off({});
  for (Replica* r : all) {
    INFO(outputs(all));
    REQUIRE(r->wait_for_view({r1.port(), r2.port(), r3.port()}, 60s, 3));
  }
  two_testers(r1.port(), r3.port(), all);
}
