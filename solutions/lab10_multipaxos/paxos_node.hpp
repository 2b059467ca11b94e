// lab 10 part 4: a Multi-Paxos node.                            (You edit this file and its .cpp.)
//
// One node of a replicated log: lab 9's LeaderNode says who leads, and your acceptor (part 1),
// proposer (part 2) and learner (part 3) run over the network. It serves Multi-Paxos's procedures
// (multipaxos::kService: prepare, accept, learn, fetch) to the other nodes and the client
// procedures (multipaxos::kClientService: append, read) to clients. The paxos_node program runs
// one as a real process (apps/paxos_node.cpp); the simulated tests run groups of them.
//
// What the tests check (tests/lab10_test.cpp), at every event of every simulated run:
//  - at most one value is delivered for each slot, by all nodes and all their incarnations;
//  - every node's delivered log is a prefix of every other's (and of its own later ones);
//  - every command delivered was appended by a client;
//  - no acceptor breaks a promise or undoes an acceptance that a reply revealed, across restarts;
// and, once the network has been stable long enough (the handout's "liveness" says how long),
// that every command a client appends is delivered, and every correct node delivers it.
//
// Threading contract: one node; handlers and tasks interleave at their co_awaits only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "acceptor.hpp"
#include "dsys/core/context.hpp"
#include "dsys/core/durable_log.hpp"
#include "dsys/core/task_group.hpp"
#include "dsys/multipaxos/protocol.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "leader_node.hpp"
#include "learner.hpp"
#include "proposer.hpp"

namespace dsys::lab10 {

using namespace std::chrono_literals;
using lab9::Peers;
using multipaxos::Command;

class PaxosNode {
 public:
  struct Options {
    std::size_t alpha = Proposer::kAlpha;  // the proposer's window
    std::size_t batch = Proposer::kBatch;  // the most commands in one slot
    // Every retry period the proposer's retry() goes out, and a follower asks the leader for
    // what it has delivered since (catching up on what it missed).
    core::Duration retry = 100ms;
    // How long an append waits for its command to be delivered before it answers busy (less than
    // the clients' multipaxos::LogClient::kCallTimeout, so that they hear the busy).
    core::Duration append_wait = 500ms;
    // Compaction: once the node has applied (delivered and synced) this many slots beyond what
    // its acceptor compacted, acceptor_.compact(slots applied); never a slot not yet synced, and
    // the delivered log itself is never cut (fetches are served from it). 0: never.
    Slot compact_every = 32;
    // How long the slots deliver() takes may wait for their delivered log's sync (one fsync for
    // all the slots taken meanwhile; 0: after the current event). A deliver() that syncs at once
    // is correct too, and may ignore it.
    core::Duration delivered_sync = 5ms;
  };
  // How long a call to another node waits for its reply (the RPC layer resends meanwhile).
  static constexpr core::Duration kCallTimeout = 1s;
  // The disk key of the delivered log (one record per slot: its Value).
  static constexpr std::string_view kDeliveredKey = "multipaxos.delivered";

  // Called once per slot delivered, in slot order, after it is on the disk: its value. (Slots
  // read back from the disk at a restart are not told again, even the few a crash caught after
  // their record reached the disk and before they were told: the test counts every slot told
  // over all incarnations, and a slot told twice fails it.)
  using OnDeliver = std::function<void(Slot, const Value&)>;

  // Node `self` of the group `peers` (every node, itself included). It reads back what its disk
  // holds (its acceptor's state and the slots it delivered: none is delivered again), serves
  // both services, and starts its leader detection and its retry period.
  PaxosNode(core::Context& ctx, NodeId self, Peers peers, Options options,
            OnDeliver on_deliver = nullptr);
  PaxosNode(core::Context& ctx, NodeId self, Peers peers)
      : PaxosNode(ctx, self, std::move(peers), Options()) {}

  NodeId self() const { return self_; }
  // The value of every slot delivered, slot 1 first.
  const std::vector<Value>& delivered_values() const { return values_; }
  // The commands applied, in order, each once: the replicated log.
  const std::vector<Command>& log() const { return log_; }
  Leader leader() const { return leader_node_.leader(); }
  const Acceptor& acceptor() const { return acceptor_; }
  const Proposer& proposer() const { return proposer_; }
  const Learner& learner() const { return learner_; }

 private:
  // Tested by: the simulated tests of part 4 and the real-process tests.
  // The handlers of multipaxos::kService. Prepare and accept: proposer_.round_seen(request.round)
  // (a round above the proposer's makes it step down), then the acceptor's reply. An accept taken
  // is told to every node's learner (a Learn to each other node, and straight to its own learner,
  // then deliver()). Learn: to the learner, then deliver(). Fetch: the values of the slots
  // delivered from request.from_slot on (at most kMaxFetch).
  core::Task<multipaxos::PromiseReply> on_prepare(const multipaxos::PrepareRequest& request);
  core::Task<multipaxos::AcceptedReply> on_accept(const multipaxos::AcceptRequest& request);
  core::Task<multipaxos::Nothing> on_learn(const multipaxos::LearnRequest& request);
  core::Task<multipaxos::FetchReply> on_fetch(const multipaxos::FetchRequest& request);
  // The handlers of multipaxos::kClientService. Append, checked in this order: a command decided
  // already (its slot taken from the learner by deliver()) is answered delivered (with its slot);
  // a node whose proposer is idle answers not_leader, naming the node its detector trusts (busy
  // when that is itself or no one: its phase 1 has not begun); otherwise (preparing or leading) the
  // command goes to the proposer, and the reply waits until it is decided or append_wait passes
  // (busy; a command the proposer dropped when it stepped down is never decided: the client
  // sends it again). (Decided is enough: a majority of acceptors hold it on their disks, and
  // every node will deliver it in that slot.) Read: the log from request.from_index.
  core::Task<multipaxos::AppendReply> on_append(const multipaxos::AppendRequest& request);
  core::Task<multipaxos::ReadReply> on_read(const multipaxos::ReadRequest& request);

  // send_prepare: first to this node's own acceptor, at once (its promise is then on the disk:
  // a restarted node picks its next round above it, so no round is ever used twice, by two
  // incarnations, for two values), its reply to the proposer; then, in the background, to every
  // other node (the replies go to the proposer; a promise that reports compacted slots this node
  // has not delivered starts a fetch from its sender). Its own acceptor is called directly
  // (acceptor_.prepare), its reply handled like the others'. send_accepts: every accept to every
  // node, itself included (by RPC, like the others), in the background (the replies go to the
  // proposer). Every Proposer call that returns accepts (submit, promise, delivered, retry) is
  // followed by send_accepts of what it returned.
  void send_prepare(const multipaxos::PrepareRequest& prepare);
  void send_accepts(const std::vector<multipaxos::AcceptRequest>& accepts);
  // Asks node `from`, in the background, for the slots after those this node's learner delivered
  // (FetchRequest.from_slot = learner_.delivered() + 1): value i of the reply is slot
  // reply.from_slot + i, given to the learner (decided), then deliver(). A full reply (kMaxFetch
  // values) fetches again at once; one fetch at a time; a call that returns an error "failed to
  // answer". Never await a call inside run_retries itself: it must keep its period.
  void fetch_from(NodeId from);
  // Takes what the learner can deliver: each slot's value goes to the delivered log; its
  // commands are decided (those not decided before: a retried append's are left out; filter once,
  // here, and keep the filtered list until the slot is applied: the per-client table already
  // counts them), the waiting appends are woken, and the proposer is told delivered(). Each slot
  // is applied (values_ grows, its new commands go, in order, to log_; then on_deliver_) only
  // once the delivered log is synced: a restart must find on the disk at least every slot that
  // delivered_values() showed;
  // then the acceptor is compacted when due. Syncing at once, in deliver(), is correct; the
  // reference syncs delivered_sync later, once for every slot taken meanwhile (group commit:
  // the appends answer without waiting for it, and one fsync serves many slots; a crash before
  // it loses only what the node learns again).
  void deliver();
  // The retry period, for as long as the node runs: the proposer's retry(), and a fetch: from
  // the node whose promise said it compacted the most slots this node has not delivered, until
  // it has them (from the other nodes in turn once that one fails to answer or has nothing
  // new); else from the leader (when it is another node); else (this node leads, or trusts no
  // one) from the other nodes in turn: a leader may lack slots that a higher round decided
  // while it was cut off, and nothing else would tell it.
  core::Task<void> run_retries();
  // The leader detector's news, for the proposer.
  void leader_changed(Leader leader);

  core::Context& ctx_;
  NodeId self_;
  Peers peers_;
  Options options_;
  OnDeliver on_deliver_;
  std::vector<NodeId> ids_;
  Acceptor acceptor_;
  Proposer proposer_;
  // SOLUTION BEGIN
  rpc::Client& client(NodeId to);
  // The commands of slot `slot` not decided before (retried appends are left out), noted in
  // decided_.
  std::vector<Command> decide(Slot slot, const Value& value);
  // deliver()'s second half, after the event that took the slots: one sync of the delivered
  // log for all of them, then they are applied and told.
  void sync_delivered();
  struct Unsynced {
    Slot slot;
    Value value;
    std::vector<Command> fresh;  // its commands to apply (decide())
  };
  core::DurableLog delivered_log_;
  std::vector<Value> values_;
  std::vector<Command> log_;
  // Per client: the highest sequence number decided, and its slot.
  std::map<std::uint64_t, std::pair<std::uint64_t, Slot>> decided_;
  std::vector<Unsynced> unsynced_;  // taken from the learner, not yet synced
  bool sync_pending_ = false;
  core::Notifier delivered_news_;
  std::map<NodeId, std::unique_ptr<rpc::Client>> clients_;
  bool fetching_ = false;
  Slot behind_ = 0;         // a promise said slots up to this one were compacted there
  NodeId behind_from_ = 0;  // by this node, which has them (0: it did not answer a fetch)
  std::size_t fetch_turn_ = 0;
  // SOLUTION STUB
  // // Your state: the delivered log on the disk (a core::DurableLog under kDeliveredKey), the
  // // values delivered (values_) and the commands applied (log_), per client the highest
  // // sequence number decided and its slot, a core::Notifier for the appends that wait, an
  // // rpc::Client per node (std::map<NodeId, std::unique_ptr<rpc::Client>>, each made as
  // // rpc::Client(rpc::Endpoint::of(ctx_), peers_.at(id), false): the false because peers
  // // restart, and a client that detects restarts fails every call to a restarted node), and
  // // what fetch needs (one at a time; whom to ask next).
  // std::vector<Value> values_;
  // std::vector<Command> log_;
  // SOLUTION END
  Learner learner_;
  rpc::Service service_;         // after the state above: requests start only once it exists
  rpc::Service client_service_;  // likewise
  lab9::LeaderNode leader_node_;
  core::TaskGroup tasks_;  // last: the retries and the calls, destroyed first
};

}  // namespace dsys::lab10
