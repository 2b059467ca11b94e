// lab 10 part 3: the learner.                                  (You edit this file and its .cpp.)
//
// The learner hears a learn from an acceptor for every value it accepts, decides a slot once a
// majority of the group's acceptors have accepted one (round, value) for it, and hands the
// decided values to its node in slot order, each exactly once: slot 1, 2, 3, ..., never skipping
// one that is not decided yet, even when decisions arrive out of order or twice, and across
// leader changes (a slot decided in one round may be learned again in a later one: the value is
// the same, Paxos promises it).
//
// This class is only the algorithm: it sends nothing and stores nothing. Its node (part 4) feeds
// it the learns that arrive and the values fetched from other nodes (state transfer), takes what
// it can deliver, and keeps that on its disk, so that after a restart it makes a learner that
// starts after what it delivered before: nothing is delivered twice.
//
// Threading contract: one node; every call runs on the node's executor, none of them waits.
#pragma once

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "dsys/multipaxos/protocol.hpp"

namespace dsys::lab10 {

using multipaxos::LearnRequest;
using multipaxos::NodeId;
using multipaxos::Round;
using multipaxos::Slot;
using multipaxos::Value;

class Learner {
 public:
  // A learner of the group `nodes` (every node's acceptor; distinct nonzero ids), which has
  // delivered slots 1..delivered already (0: none; after a restart, what its node kept).
  Learner(std::vector<NodeId> nodes, Slot delivered = 0);

  // Tested by: "lab 10: the learner decides a slot ...", "... delivers decided values ...".
  // A learn from the acceptor learn.from: it accepted learn.value for learn.slot in learn.round.
  // Once learns from a majority of `nodes` (more than half; each acceptor counted once, however
  // often it repeats itself) name the same round for the slot, the slot is decided with that
  // round's value. A learn from a node not in `nodes`, or for a slot delivered or decided
  // already, changes nothing.
  void learn(const LearnRequest& learn);

  // Tested by: "lab 10: the learner delivers decided values ...".
  // The slot's value is known to be decided some other way (state transfer: another node
  // delivered it). A slot delivered or decided already is left as it is.
  void decided(Slot slot, Value value);

  // Tested by: the same.
  // The values that can be delivered now, each once, in slot order: delivered() + 1, + 2, ...
  // as far as each is decided (none if delivered() + 1 is not). delivered() moves past them.
  std::vector<std::pair<Slot, Value>> take_deliverable();

  // Every slot up to this one was delivered (by take_deliverable, or before the learner began).
  Slot delivered() const;
  // The value of a slot decided and not delivered yet.
  std::optional<Value> decided_value(Slot slot) const;
  // The highest slot known decided or delivered (delivered() when none is waiting).
  Slot highest_decided() const;

 private:
  std::vector<NodeId> nodes_;
  // Your state: what was delivered, the slots decided and waiting, and for each slot not
  // decided yet, who sent a learn for which round (and its value).
};

}  // namespace dsys::lab10
