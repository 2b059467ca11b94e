// lab 10 part 2: the proposer.                                 (You edit this file and its .cpp.)
//
// The proposer of the node that lab 9's leader detector trusts runs phase 1 once, for every slot
// it has not delivered, and then phase 2 alone for each slot: first the slots the promises
// reported (the value of the highest round reported for each; a no-op for a gap), then client
// commands in the next free slots, at most alpha slots beyond what its node delivered
// (pipelining), several commands a slot when they wait (batching). The handout (README.md) gives
// the rules; here is what each function must do, and which tests check it (tests/lab10_test.cpp).
//
// This class is only the algorithm: it sends nothing and keeps no time. Its node (part 4) gives
// it the leader detector's news, the replies and the client commands that arrive, and what the
// learner delivered; it sends the prepares and accepts each call returns (to every node of the
// group, itself included), and calls retry() once per retry period. So the tests drive it alone
// with scripted promises, as DAT520's proposer tests do.
//
// Threading contract: one node; every call runs on the node's executor, none of them waits.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "dsys/leader/protocol.hpp"
#include "dsys/multipaxos/protocol.hpp"

namespace dsys::lab10 {

using leader::Leader;
using multipaxos::AcceptedReply;
using multipaxos::AcceptRequest;
using multipaxos::Command;
using multipaxos::NodeId;
using multipaxos::PrepareRequest;
using multipaxos::PromiseReply;
using multipaxos::Round;
using multipaxos::Slot;
using multipaxos::Value;

class Proposer {
 public:
  // The kit's defaults: at most kAlpha slots proposed beyond what the node delivered, at most
  // kBatch commands in one slot. A test or a program may give others (alpha 1: no pipelining;
  // batch 1: no batching).
  static constexpr std::size_t kAlpha = 8;
  static constexpr std::size_t kBatch = 16;

  enum class State {
    idle,       // not leading: the detector trusts another node, or a higher round was seen
    preparing,  // phase 1 sent, waiting for a majority of promises
    leading,    // phase 1 done: proposing with phase 2 alone
  };

  // The proposer of node `self` in the group `nodes` (distinct nonzero ids, self among them).
  // It starts idle, with nothing delivered.
  Proposer(NodeId self, std::vector<NodeId> nodes, std::size_t alpha = kAlpha,
           std::size_t batch = kBatch);

  // Tested by: "lab 10: the proposer starts phase 1 ...".
  // The leader detector trusts `leader` now. If it is this node and the proposer is idle, phase
  // 1 begins: the round becomes {n + 1, self}, n the highest round number seen so far (its own
  // included), and the result is the prepare to send, for every slot from delivered() + 1. If it
  // is another node, or no one, the proposer becomes idle and forgets its queued commands and
  // proposals (their clients try again). Otherwise nothing changes (nullopt).
  std::optional<PrepareRequest> leader_changed(Leader leader);

  // Tested by: "lab 10: a proposer that gets a majority ...", "... does not propose slots ...",
  // "... steps down ...".
  // A promise. One that refuses, naming a round above this one, is round_seen(). One for another
  // round, from a node outside `nodes`, or while not preparing, changes nothing. One that is ok for
  // this round is counted once per acceptor; at a majority of `nodes`, phase 1 ends and the
  // proposer leads. It then returns, in slot order, the accepts (this round) of every slot from the
  // first it may propose (delivered() + 1, and above every slot a promise says was compacted) up to
  // the highest slot any promise reported: for each, the value of the highest round reported for
  // it, or a no-op if none reported it. Then, as submit() does, the queued commands the window
  // allows.
  std::vector<AcceptRequest> promise(const PromiseReply& reply);

  // Tested by: "lab 10: a proposer steps down ...".
  // An accepted reply: one that refuses, naming a round above this one, is round_seen().
  // Nothing else: the proposer learns of decisions through delivered().
  void accepted(const AcceptedReply& reply);

  // Tested by: the same.
  // A round seen elsewhere (a refusal, another node's prepare or accept). Above this proposer's
  // round, while preparing or leading: it steps down (idle; queued commands and proposals
  // forgotten). Either way the highest round seen is remembered, for the next phase 1.
  void round_seen(Round round);

  // Tested by: "lab 10: a leading proposer has at most alpha slots ...".
  // A client's command. Idle: ignored (its node tells the client who leads). Otherwise queued,
  // and, while leading, the result is the accepts of the new slots the window allows: a new slot
  // s is proposed only while s <= delivered() + alpha; each takes up to `batch` queued commands,
  // oldest first.
  std::vector<AcceptRequest> submit(Command command);

  // Tested by: the same.
  // Its node delivered every slot up to `slot` (the learner's delivered()). Proposals up to it
  // are done; the window moves (next_slot() becomes at least slot + 1: a leader that caught up
  // by a fetch never proposes a decided slot), and, while leading, the result is the accepts of
  // the new slots it allows (as submit()). A slot at or below delivered() changes nothing.
  std::vector<AcceptRequest> delivered(Slot slot);

  // Tested by: "lab 10: a proposer resends its prepare ...".
  // Called once per retry period: what to send again (lost messages are resent, never given up).
  // Preparing: the same prepare. Leading: the accepts of every slot proposed and not yet
  // delivered, in slot order. Idle while the detector's last news named this node (it stepped
  // down): a new phase 1, as leader_changed() starts it.
  struct Resend {
    std::optional<PrepareRequest> prepare;
    std::vector<AcceptRequest> accepts;
  };
  Resend retry();

  State state() const;
  Round round() const;  // the round of the last phase 1 (none before)
  Slot delivered() const;
  Slot next_slot() const;      // leading: the slot the next client value will get
  std::size_t queued() const;  // commands waiting for a slot
  NodeId self() const { return self_; }

 private:
  NodeId self_;
  std::vector<NodeId> nodes_;
  std::size_t alpha_;
  std::size_t batch_;
  // Your state: the state, the round, the highest round seen, what the detector trusts, what
  // was delivered, the promises of phase 1 (who promised, and per slot the value of the
  // highest round reported), the slots proposed and not delivered (with their values: retry()
  // sends them again), the next free slot, and the queue of commands.
};

}  // namespace dsys::lab10
