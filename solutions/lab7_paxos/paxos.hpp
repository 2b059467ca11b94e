// lab 7: Paxos — the acceptor and the proposer.                (You edit this file and its .cpp.)
//
// One node runs one Acceptor and one Proposer on its endpoint (lab7_node.hpp), beside the view
// layer (views.hpp, given), which is their only user: it proposes each new view as the value of
// the next Paxos instance, with the members of the current view as the acceptors. The protocol,
// the messages and what each reply means: dsys/paxos/protocol.hpp. The algorithm: Lamport, "Paxos
// Made Simple" (2001), section 2; the handout (README.md) walks through one instance.
//
// What the tests check, after every event of every simulated run (see tests/lab7_test.cpp):
//  - agreement: no two nodes ever decide different values for one instance (across restarts);
//  - validity: a decided value was proposed by someone (passed to some Proposer::propose);
//  - promises hold: an acceptor's n_h for an instance is never below a proposal it promised or
//    accepted in a reply that left it, across its restarts too; and acceptances hold: its n_a
//    is never below a proposal it accepted in a reply that left it;
//  - one value per proposal number, on the wire;
//  - quorums: a value is decided only after a majority of the instance's acceptors accepted it.
// Nodes crash at every step (every send, receive and sync), lose what they had not synced, and
// may restart with a torn last record on their disk.
//
// Threading contract: one node; handlers and tasks interleave at their co_awaits only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsys/core/context.hpp"
#include "dsys/core/durable_log.hpp"
#include "dsys/core/task_group.hpp"
#include "dsys/paxos/protocol.hpp"
#include "dsys/rpc/endpoint.hpp"

namespace dsys::lab7 {

using paxos::Instance;
using paxos::ProposalNumber;

// Whether this node may help decide a new view now (given; lab 8: a replica that holds the
// replicated state, Viewstamped Replication's recovery rule). Null: always.
using MayVote = std::function<bool()>;

// What an acceptor knows of one instance.
struct AcceptorState {
  ProposalNumber n_h;                  // the highest prepare it promised (none: {0, 0})
  ProposalNumber n_a;                  // the highest proposal it accepted (none: {0, 0})
  std::string v_a;                     // that proposal's value
  std::optional<std::string> decided;  // the instance's value, once it learned it
};

// The acceptor (and learner) of one node. Serves paxos::Prepare, Accept and Decide as the service
// paxos::kService, on the node's endpoint, with requests from any incarnation admitted (its state
// is durable, so a proposer that outlived a restart of this node may go on talking to it).
//
// Durability: every change of its state (a promise, an acceptance, a decision) is appended to a
// core::DurableLog and synced before the reply that reveals it leaves, and before on_decided is
// called; the constructor reads the log back. So a restarted acceptor has kept every promise and
// acceptance its earlier incarnations revealed (a crash before the sync loses a change no one has
// seen, which is harmless), and a torn last record (a crash in the middle of a sync) is dropped by
// the log's own check.
class Acceptor {
 public:
  // Storage key of the acceptor's log on the node's disk.
  static constexpr std::string_view kLogKey = "paxos-acceptor";
  // Called once per instance, when this acceptor first learns its decided value (durably), from a
  // Decide or from learn(); not for the decisions read back at start (see decisions()).
  using OnDecided = std::function<void(Instance, const std::string& value)>;

  // Reads the log back, then serves. (The service registration is given: while `may_vote` says
  // no, it refuses every Prepare and Accept of an instance not decided here, as rejected, before
  // they reach prepare() and accept().)
  Acceptor(core::Context& ctx, OnDecided on_decided = nullptr, MayVote may_vote = nullptr);

  // Tested by: every lab 7 test; test 1, "lab 7: an acceptor keeps its promises, acceptances
  // and decisions across restarts".
  // `instance` is decided with `value` (a proposer on this node saw it decided, or another node
  // said so): remember it durably, then call on_decided, unless it was known already.
  void learn(Instance instance, const std::string& value);

  // What this acceptor knows of `instance` (all none for one it never heard of).
  AcceptorState state(Instance instance) const;
  // Every decision it knows (read back at start, and learned since), by instance.
  const std::map<Instance, std::string>& decisions() const { return decisions_; }
  // The highest round in any proposal number it has seen (promised, accepted or rejected), so
  // that a proposer on this node can go above it.
  std::uint64_t highest_round() const { return highest_round_; }

  rpc::Endpoint& endpoint() { return service_.endpoint(); }

 private:
  core::Task<paxos::PrepareReply> prepare(const paxos::PrepareRequest& request);
  core::Task<paxos::AcceptReply> accept(const paxos::AcceptRequest& request);
  core::Task<rpc::Empty> decide(const paxos::DecideRequest& request);
  // (Given.) prepare() and accept(), unless this node may not vote now (MayVote).
  core::Task<paxos::PrepareReply> prepare_if_voting(const paxos::PrepareRequest& request);
  core::Task<paxos::AcceptReply> accept_if_voting(const paxos::AcceptRequest& request);
  bool abstains(Instance instance) const;

  core::Context& ctx_;
  OnDecided on_decided_;
  MayVote may_vote_;
  core::DurableLog log_;
  std::map<Instance, std::string> decisions_;
  std::uint64_t highest_round_ = 0;
  // SOLUTION BEGIN
  struct Slot {
    ProposalNumber n_h;
    ProposalNumber n_a;
    std::string v_a;
  };
  void see(ProposalNumber n) { highest_round_ = std::max(highest_round_, n.round); }
  void record(char kind, Instance instance, ProposalNumber n, const std::string& value);
  std::map<Instance, Slot> slots_;  // undecided instances only
  // SOLUTION STUB
  // // Your state: per instance that is not decided yet, n_h, n_a and v_a. Keep decisions_
  // // (every decided instance) and highest_round_ (the highest round of any proposal number a
  // // request showed you) up to date too. Write each change to log_ (log_.append(bytes);
  // // log_.sync()) in a form the constructor can read back, e.g. a small struct marshalled
  // // with rpc::encode and read with rpc::decode.
  // SOLUTION END
  rpc::Service service_;  // last: requests start only once the state above exists
};

// The proposer of one node. Nothing of it is durable, and nothing needs to be: a restarted
// proposer may use a number its earlier incarnation used, but it sends accepts only once a
// majority promised that number in this incarnation, which no majority can have done if the
// number was used before with accepts (the acceptors that promised it then reject it now:
// phase 1b is strict, n must be above n_h); so a number never carries two values. Its rounds
// start above what the local acceptor has seen, and climb above each rejection's n_h.
class Proposer {
 public:
  // Each prepare and accept waits this long for its reply (the RPC resends meanwhile).
  static constexpr core::Duration kCallTimeout = std::chrono::seconds(1);
  // The crash points tests arm (ctx.breakpoint): a majority has promised, no accept has left
  // yet; a majority has accepted, no decide has left yet.
  static constexpr std::string_view kPrepared = "paxos:prepared";
  static constexpr std::string_view kAccepted = "paxos:accepted";

  // `local` is this node's acceptor: what it has seen bounds the proposal numbers, and it learns
  // every decision this proposer makes.
  Proposer(core::Context& ctx, Acceptor& local);

  // Tested by: every lab 7 test. Runs one proposal for `instance` among `acceptors` (its
  // acceptor set; a majority is more than half of them) with `value`:
  //  1. prepare with a proposal number higher than any this node has seen or used, and unique
  //     (round, this node's address); a majority must promise (a decided reply ends it: 4.);
  //  2. the value: v_a of the highest n_a among the promises, or `value` if none accepted any;
  //     ctx.breakpoint(kPrepared); accept(n, that value) to every acceptor; a majority must
  //     accept (a decided reply ends it: 4.);
  //  3. it is decided: ctx.breakpoint(kAccepted); the local acceptor learns it; Decide to every
  //     acceptor (in the background, with tasks_.spawn: propose does not wait for answers);
  //  4. an acceptor that answers decided has the instance's value: the local acceptor learns it.
  // Returns the decided value (this one's, or the one it found), or nullopt when no majority
  // promised or accepted this time (rejections, timeouts): the caller tries again later.
  // Several proposals may run at once (other instances, or other nodes for the same one).
  core::Task<std::optional<std::string>> propose(Instance instance,
                                                 std::vector<core::Address> acceptors,
                                                 std::string value);

 private:
  core::Context& ctx_;
  Acceptor& local_;
  // SOLUTION BEGIN
  ProposalNumber next_number();
  rpc::Client& client(core::Address to);
  core::Task<void> send_decide(core::Address to, Instance instance, std::string value);
  std::uint64_t round_ = 0;  // the highest round used, or seen in a rejection
  std::map<core::Address, std::unique_ptr<rpc::Client>> clients_;
  // SOLUTION STUB
  // // Your state: the highest round this proposer used or saw in a rejection, and an
  // // rpc::Client per acceptor (rpc::Client(rpc::Endpoint::of(ctx_), address, false): any
  // // incarnation will do; a call to this node's own address works like any other).
  // SOLUTION END
  core::TaskGroup tasks_;  // last: the Decide calls in the background
};

}  // namespace dsys::lab7
