// lab 5, part 2: the caching lock server.                      (You edit this file and its .cpp.)
//
// The server hands each lock to one client at a time, and the client keeps it (caches it) after
// its own users are done with it, until the server asks for it back. A client is known by its
// node's listening address (CallInfo::from), where the server calls it back. The protocol
// (dsys/lock/protocol.hpp, "Lab 5"):
//   acquire(from): the lock is free (or `from` holds it already): it is from's; Status::ok.
//                  Otherwise `from` waits: remember it, make sure the holder is asked for the
//                  lock (Revoke), and answer Status::retry.
//   release(from): `from` holds the lock: it is free; if anyone waits, tell the one that has
//                  waited longest (Retry), and keep the lock for it: until it comes (or is
//                  forgotten), an acquire from anyone else is answered retry. Answer ok.
//                  Otherwise Status::not_held.
// No handler ever waits for anything: acquire and release answer at once, and the Revoke and
// Retry calls are made by tasks of the server's own (ctx_.spawn), which may wait as they like.
//
// What if a call back is lost or its client is down? Keep asking: while a lock's holder has not
// given it back and someone waits, send the holder a Revoke again every kRevokeEvery (a holder
// that restarted has forgotten the lock: its new incarnation gives it back at once). A Retry is
// sent once: a waiting client asks again by itself every second, so a lost Retry costs a second.
// A waiter that has not asked for kForgetWaiterAfter is forgotten (its client gave up or died).
// A lock whose holder never comes back stays held: yfs has no leases (the handout says more).
//
// Threading contract: one node; handlers and tasks interleave at their co_awaits only.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>

#include "dsys/core/context.hpp"
#include "dsys/lock/protocol.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "reply_window.hpp"

namespace dsys::lab5 {

using lock::ClientId;
using lock::LockId;
using lock::Status;

class CachingLockServer {
 public:
  static constexpr core::Duration kRevokeEvery = std::chrono::seconds(3);
  static constexpr core::Duration kForgetWaiterAfter = std::chrono::seconds(10);

  // Serves lock::Acquire and lock::Release as the service lock::kService, with your lab 1
  // ReplyWindow as its duplicate filter. (Given.)
  explicit CachingLockServer(core::Context& ctx);

  // Tested by: every lab 5 test ("caching: ...", "revoke and retry: ...", the races, the yfs
  // workloads). `client` is the caller's id, to put in the Revoke and Retry it gets.
  Status acquire(core::Address from, ClientId client, LockId lock);
  Status release(core::Address from, ClientId client, LockId lock);

  // For tests: who holds `lock`, as this server sees it.
  std::optional<core::Address> holder(LockId lock) const;
  rpc::Endpoint& endpoint() { return service_.endpoint(); }

 private:
  core::Context& ctx_;
  lab1::ReplyWindow reply_window_{[&ctx = ctx_] { return ctx.now(); }};
  rpc::Service service_;  // after reply_window_, its duplicate filter
  // SOLUTION BEGIN
  struct Waiter {
    ClientId id = 0;
    core::Time first_asked;
    core::Time last_asked;
  };
  struct Lock {
    std::optional<core::Address> holder;
    ClientId holder_id = 0;
    std::uint64_t grant = 0;  // counts grants: a revoke task serves one grant
    bool revoking = false;    // a revoke task runs for this grant
    std::map<core::Address, Waiter> waiters;
    // While free: kept for the waiter that was sent a Retry (fairness: the client that gave it
    // back must not take it again first, being one message closer to the server).
    std::optional<core::Address> kept_for;
  };
  void forget_quiet_waiters(Lock& l);
  void start_revoke(LockId lock, Lock& l);
  core::Task<void> revoke_until_returned(LockId lock, std::uint64_t grant);
  core::Task<void> send_retry(LockId lock, core::Address to, ClientId id);
  rpc::Client& client_at(core::Address address);
  std::map<LockId, Lock> locks_;
  std::map<core::Address, std::unique_ptr<rpc::Client>> clients_;  // to call them back
  // SOLUTION STUB
  // // Your state: per lock, its holder and who waits for it; and an rpc::Client per client
  // // address to call back (rpc::Client(endpoint(), address)), kept as long as the server.
  // SOLUTION END
};

}  // namespace dsys::lab5
