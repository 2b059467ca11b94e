// lab 10 part 1: the acceptor.                                 (You edit this file and its .cpp.)
//
// Multi-Paxos's acceptor keeps one promise for every slot at once, and for each slot the round
// and value it last accepted. The handout (README.md) gives the rules; here is what each function
// must do, and which tests check it (tests/lab10_test.cpp).
//
// This class is only the algorithm over a disk: it sends nothing. Its node (part 4,
// paxos_node.hpp) calls prepare() and accept() for the requests that arrive, sends their replies,
// and sends a learn to every node for each accept taken. So the tests drive it alone, with
// scripted requests, and crash its disk between them.
//
// Durability: every change is on the disk, synced, before the function that made it returns, so
// before the reply (or learn) that reveals it can leave. A crash at any moment (the disk keeps
// only what was synced, perhaps with a torn last append) loses no promise and no acceptance that
// a reply revealed.
//
// Threading contract: one node; every call runs on the node's executor, none of them waits.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string_view>

#include "dsys/core/storage.hpp"
#include "dsys/multipaxos/protocol.hpp"
// SOLUTION BEGIN
#include <deque>
#include <memory>

#include "dsys/core/durable_log.hpp"
// SOLUTION END

namespace dsys::lab10 {

using multipaxos::AcceptedReply;
using multipaxos::AcceptedSlot;
using multipaxos::AcceptRequest;
using multipaxos::NodeId;
using multipaxos::PrepareRequest;
using multipaxos::PromiseReply;
using multipaxos::Round;
using multipaxos::Slot;
using multipaxos::Value;

class Acceptor {
 public:
  // Where the state is on the disk: the promise and the compaction mark under kStateKey (one
  // write), the accepted slots in a core::DurableLog under kLogKey (one record an acceptance).
  static constexpr std::string_view kStateKey = "multipaxos.acceptor.state";
  static constexpr std::string_view kLogKey = "multipaxos.acceptor.log";

  // The acceptor of node `self`, its state on `disk` (which outlives it). It reads back what the
  // disk holds: a restarted acceptor has every promise and acceptance that was synced. A torn or
  // corrupt tail of the log is dropped (the DurableLog does it); anything else it cannot read is
  // a bug, not a fault: it throws.
  Acceptor(NodeId self, core::Storage& disk);

  // Tested by: "lab 10: the acceptor promises a round ...", "... keeps every promise ...".
  // Phase 1b. If request.round is at least the promise (a prepare resent with the same round is
  // promised again), the promise becomes request.round and the reply is ok, carrying every slot
  // at or after max(request.from_slot, compacted() + 1) accepted so far, in slot order, with the
  // round and value of its acceptance. Otherwise the reply refuses. Either way it names this node
  // (from), the request's round, the promise after the request (promised), and compacted().
  PromiseReply prepare(const PrepareRequest& request);

  // Tested by: "lab 10: the acceptor accepts unless ...", "... keeps every promise ...".
  // Phase 2b. If request.round is at least the promise, the acceptor takes it: the promise
  // becomes request.round, and the slot's acceptance becomes (request.round, request.value)
  // (a slot at or below compacted() is decided already: nothing about it is stored; the same
  // accept again, a resend, need not be stored twice). The reply is ok. Otherwise it refuses and
  // changes nothing. Either way it names this node (from), the request's round and slot, and the
  // promise after the request (promised).
  AcceptedReply accept(const AcceptRequest& request);

  // Tested by: "lab 10: compaction forgets decided slots ...".
  // Slots 1..upto are decided, and this node has delivered them: the acceptor forgets their
  // acceptances (compacted() becomes upto, if that is more; durable before it returns), and its
  // log drops the longest run of records at its front whose slots are all at or below
  // compacted(), so that the log does not grow for ever (slots are accepted roughly in order, so
  // the front goes as the decided prefix grows). The handout's "compaction" says why it is safe.
  void compact(Slot upto);

  // The promise (none: {0, 0}).
  Round promised() const;
  // The slot's acceptance, if it has one (none for a slot at or below compacted()).
  std::optional<AcceptedSlot> accepted(Slot slot) const;
  // Every slot up to this one was decided and forgotten here (0: none).
  Slot compacted() const;
  // How many records the acceptor's log on the disk holds (the tests check that compaction
  // bounds it).
  std::size_t log_records() const;
  NodeId self() const { return self_; }

 private:
  NodeId self_;
  core::Storage& disk_;
  // SOLUTION BEGIN
  void write_state();
  Round promised_;
  Slot compacted_ = 0;
  std::map<Slot, AcceptedSlot> accepted_;
  std::unique_ptr<core::DurableLog> log_;
  std::deque<Slot> record_slots_;  // the slot of each record of log_, in order
  // SOLUTION STUB
  // // Your state: the promise, the compaction mark, the accepted slots (std::map<Slot,
  // // AcceptedSlot>), and the log (a std::unique_ptr<core::DurableLog> made in the
  // // constructor: DurableLog(disk_, std::string(kLogKey))). Encode what you store with
  // // rpc::encode and read it back with rpc::decode (dsys/rpc/marshal.hpp): AcceptedSlot and
  // // Round are serialisable.
  // SOLUTION END
};

}  // namespace dsys::lab10
