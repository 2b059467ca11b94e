// lab 9 part 2: a monarchical eventual leader detector.       (You edit this file and its .cpp.)
//
// Cachin, Guerraoui and Rodrigues, algorithm 2.8, "Monarchical Eventual Leader Detection": the
// leader is the highest-ranked node that is not suspected, where a node's rank is its id. It
// hears suspect and restore from the failure detector (part 1), as its SuspectRestorer, and tells
// its subscribers every change of leader, without ever waiting for them.
//
// What the tests check (tests/lab9_test.cpp): the leader after each suspicion and restore, "no
// one" when every node is suspected, that a subscriber is told each change once and nothing
// else, and that a subscriber that does not keep up loses only its oldest changes.
//
// Threading contract: one node; every call runs on the node's executor, none of them waits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "dsys/leader/protocol.hpp"
#include "failure_detector.hpp"

namespace dsys::lab9 {

using leader::Leader;

// One subscriber's mailbox: the changes of leader it has not taken yet, oldest first. The
// detector puts each change in every mailbox at once and never waits; a subscriber takes them
// when it can.
class Subscription {
 public:
  // The most changes a mailbox holds.
  static constexpr std::size_t kCapacity = 4;

  // Tested by: "lab 9: a subscriber that does not keep up ..." (part 2).
  // A change: `leader` is the new leader. Never waits and never fails: when kCapacity changes
  // are waiting already, the oldest of them is dropped (and counted by lost()) to make room. So
  // a slow subscriber loses the oldest changes it has not taken, never the newest: the last
  // change it takes is the detector's leader now.
  void put(Leader leader);
  // The oldest change not taken yet, or nullopt when none is waiting.
  std::optional<Leader> take();
  // How many changes wait to be taken; how many were dropped so far.
  std::size_t waiting() const;
  std::uint64_t lost() const;

 private:
  // SOLUTION BEGIN
  std::deque<Leader> changes_;
  std::uint64_t lost_ = 0;
  // SOLUTION STUB
  // // Your state: the changes waiting, oldest first, and how many were dropped.
  // SOLUTION END
};

class LeaderDetector final : public SuspectRestorer {
 public:
  // `nodes`: every node of the group (distinct, nonzero ids). At first no one is suspected, so
  // the leader is the highest id (the book's first "trust"; subscribers are told only of the
  // changes after they subscribe: they read leader() first).
  explicit LeaderDetector(std::vector<NodeId> nodes);

  // Tested by: "lab 9: the leader detector ..." (part 2), and every later test.
  // The failure detector's verdicts (ids that are not of `nodes` are ignored). After each, if the
  // leader changed, every subscriber's mailbox gets the new leader (Subscription::put); a
  // verdict that changes nothing (a node suspected twice, one below the leader suspected or
  // restored) tells no one anything.
  void suspect(NodeId id) override;
  void restore(NodeId id) override;

  // The highest id among the nodes not suspected; nullopt ("unknown") when every one is.
  Leader leader() const;

  // A new mailbox that gets every change of leader from now on, for as long as the caller keeps
  // it (the detector forgets a subscription no one holds any more).
  std::shared_ptr<Subscription> subscribe();

  const std::vector<NodeId>& nodes() const { return nodes_; }

 private:
  std::vector<NodeId> nodes_;
  std::vector<std::weak_ptr<Subscription>> subscribers_;
  // SOLUTION BEGIN
  void changed();  // tells the subscribers, if the leader changed
  std::set<NodeId> suspected_;
  Leader leader_;  // the leader last told
  // SOLUTION STUB
  // // Your state: the suspected nodes, and the leader (or what you need to tell whether it
  // // changed).
  // SOLUTION END
};

}  // namespace dsys::lab9
