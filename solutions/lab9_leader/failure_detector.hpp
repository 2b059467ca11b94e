// lab 9 part 1: an eventually perfect failure detector.       (You edit this file and its .cpp.)
//
// Cachin, Guerraoui and Rodrigues, Introduction to Reliable and Secure Distributed Programming
// (2nd ed.), algorithm 2.7, "Increasing Timeout". The handout (README.md) gives its rules; here
// is what each function must do, and which tests check it (tests/lab9_test.cpp).
//
// This class is only the algorithm: it sends nothing and keeps no time itself. Its node (part 3,
// leader_node.hpp) calls timeout() at the end of every period (every delay()), calls
// reply_received() when a heartbeat reply arrives, and sends the heartbeat requests it asks for
// (the SendRequest it was given). So the tests can drive it alone, with a scripted feed of
// replies and timeouts, and check what it tells its subscriber and whom it asks.
//
// Threading contract: one node; every call runs on the node's executor, none of them waits.
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <vector>

#include "dsys/core/time.hpp"
#include "dsys/leader/protocol.hpp"

namespace dsys::lab9 {

using namespace std::chrono_literals;
using leader::NodeId;

// Who hears a failure detector's verdicts (part 2's leader detector; a test's recorder).
class SuspectRestorer {
 public:
  virtual ~SuspectRestorer() = default;
  // `id` was not heard from in the last period: it is suspected (told once, until restored).
  virtual void suspect(NodeId id) = 0;
  // `id`, suspected, was heard from again: it is no longer suspected (told once).
  virtual void restore(NodeId id) = 0;
};

class FailureDetector {
 public:
  // The first period, and how much a period grows after a false suspicion (the book's Δ). The
  // kit's tests and programs use these two; a test may give others.
  static constexpr core::Duration kInitialDelay = 200ms;
  static constexpr core::Duration kDelta = 100ms;
  // Sends a heartbeat request (leader::Heartbeat) to node `to`; its reply, if one comes, reaches
  // reply_received(to), always later, never from inside this call. Given by the node (part 3),
  // or by a test that records it.
  using SendRequest = std::function<void(NodeId to)>;

  // `nodes`: every node of the group (Π in the book), `self` among them; the node ids are
  // distinct and nonzero. `subscriber` and `send_request` outlive the detector.
  // The book's init: everyone counts as heard from (alive = Π), no one is suspected, and the
  // period is `initial_delay`. Nothing is sent yet: the first requests go at the first timeout.
  FailureDetector(NodeId self, std::vector<NodeId> nodes, SuspectRestorer& subscriber,
                  SendRequest send_request, core::Duration initial_delay = kInitialDelay,
                  core::Duration delta = kDelta);

  // Tested by: "lab 9: the failure detector ..." (part 1) and every later test.
  // A heartbeat reply from `from` arrived, whenever in the period: `from` is alive for the
  // period in progress. An id that is not one of `nodes` is ignored.
  void reply_received(NodeId from);

  // Tested by: the same. The period ended (the book's "upon event Timeout"):
  //  1. if some node is both alive and suspected (a false suspicion: it answered after all), the
  //     period grows by delta, once, however many such nodes there are;
  //  2. each node of `nodes` not alive and not suspected becomes suspected: subscriber.suspect;
  //     each node alive and suspected is no longer suspected: subscriber.restore;
  //  3. a heartbeat request goes to every node of `nodes`, this one included (send_request);
  //  4. no one is alive for the next period, until its replies come.
  // The node then waits delay() (the new period) and calls timeout() again.
  void timeout();

  // The period now: initial_delay plus delta for each timeout that found a false suspicion.
  core::Duration delay() const;
  // Whether `id` is suspected now; every suspected node.
  bool suspects(NodeId id) const;
  std::set<NodeId> suspected() const;

  NodeId self() const { return self_; }
  const std::vector<NodeId>& nodes() const { return nodes_; }

 private:
  NodeId self_;
  std::vector<NodeId> nodes_;
  SuspectRestorer& subscriber_;
  SendRequest send_request_;
  core::Duration delta_;
  // SOLUTION BEGIN
  core::Duration delay_;
  std::set<NodeId> alive_;      // heard from in the period in progress
  std::set<NodeId> suspected_;  // suspected at the last timeout
  // SOLUTION STUB
  // // Your state: the period (it starts at initial_delay; the constructor's body sets it), the
  // // nodes heard from in the period in progress (alive), and the suspected nodes.
  // SOLUTION END
};

}  // namespace dsys::lab9
