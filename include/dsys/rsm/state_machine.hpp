// dsys/rsm/state_machine.hpp: what a replicated state machine replicates.
//
// A service to replicate. Its procedures are served on the node's endpoint with
// ServicePolicy::dispatch_only (nobody calls them directly): the replication layer runs each
// request through rpc::Endpoint::dispatch, on every replica, in one order. So they must be
// deterministic: the same requests in the same order give the same state and the same replies on
// every replica. They read the time from the replication layer (the time of the request being
// executed), never from their own clock, run no timers that change their state, and call clients
// back only where the replication layer says this replica is the one that does.
//
// Threading contract: one node; its procedures, snapshot and restore interleave at co_awaits only.
#pragma once

#include <string>
#include <string_view>

namespace dsys::rsm {

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // The whole state, as bytes.
  virtual std::string snapshot() const = 0;
  // Replaces the whole state by `state` (from snapshot()); false if it is not one (then nothing
  // changed).
  virtual bool restore(std::string_view state) = 0;
};

}  // namespace dsys::rsm
