// lab 1, part 1: the lock server.                              (You edit this file and its .cpp.)
//
// The server keeps, for every lock, whether it is held and by whom. acquire() waits (without
// blocking anyone else) until the lock is free; release() frees it and lets a waiter in.
// It runs on one node: no mutexes, but anything may change across a co_await.
#pragma once

#include <map>
#include <optional>

#include "dsys/core/context.hpp"
#include "dsys/lock/protocol.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "reply_window.hpp"

namespace dsys::lab1 {

using lock::ClientId;
using lock::LockId;
using lock::Status;

struct LockServerOptions {
  // Part 2: filter duplicate requests with your ReplyWindow (at-most-once). Part 1's tests run
  // on a reliable network with this off.
  bool at_most_once = true;
};

class LockServer {
 public:
  // Serves lock::Acquire and lock::Release on the node's endpoint, as the service lock::kService.
  // (Given: you need not change it.)
  explicit LockServer(core::Context& ctx, LockServerOptions options = {});

  // Waits until `lock` is free, then records that `client` holds it and returns Status::ok.
  // A lock never seen before exists and is free.
  // Tested by: "acquire grants a free lock at once, ...", "mutual exclusion: ..." (lab1_test.cpp)
  core::Task<Status> acquire(ClientId client, LockId lock);

  // If `client` holds `lock`: frees it, lets one waiting acquire() in, and returns Status::ok.
  // Otherwise (free, or held by another client) changes nothing and returns Status::not_held.
  // Tested by: "releasing a lock the client does not hold ...", "mutual exclusion: ..."
  core::Task<Status> release(ClientId client, LockId lock);

  rpc::Endpoint& endpoint() { return service_.endpoint(); }
  ReplyWindow& reply_window() { return reply_window_; }

 private:
  core::Context& ctx_;
  ReplyWindow reply_window_{[&ctx = ctx_] { return ctx.now(); }};
  rpc::Service service_;  // after reply_window_, its duplicate filter
  // SOLUTION BEGIN
  struct Lock {
    explicit Lock(core::Context& ctx) : freed(ctx) {}
    std::optional<ClientId> holder;  // nullopt: free
    core::Notifier freed;            // notified when this lock is released
  };
  // Every lock ever asked for; a lock not here is free. A release wakes one waiter of its own
  // lock only: thousands of clients parked on other locks cost it nothing.
  std::map<LockId, Lock> locks_;
  // SOLUTION STUB
  // // Your state: which locks are held and by whom, and a way for acquire() to wait until
  // // *its* lock is released (see core::Notifier in dsys/core/context.hpp; a Notifier is built
  // // from the context, `core::Notifier freed{ctx_};`, and must outlive its waiters). Wake only
  // // the waiters of the lock that was released, not every waiter of every lock.
  // SOLUTION END
};

}  // namespace dsys::lab1
