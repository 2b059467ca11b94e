// lab 5, part 1: the caching lock client.                      (You edit this file and its .cpp.)
//
// A CachingLockClient is a lock::LockService (the interface lab 4's LockingFs locks through)
// that keeps a lock after its local users are done with it, so that the next acquire on this
// node costs no RPC, until the server asks for it back (Revoke). It serves the server's
// callbacks, Revoke and Retry, on the node's endpoint (service lock::kCallbackService). One
// CachingLockClient per node.
//
// Per lock, a state (the handout has a picture):
//   none       this node does not have the lock (as far as it knows)
//   acquiring  an acquire is on its way to the server, or waiting for a Retry to ask again
//   locked     a local user holds it
//   free       this node has it, and no local user holds it: the next acquire takes it at once
//   releasing  it is going back to the server (the release callback, then the Release RPC)
// Local users (coroutines of this node) wait for a state change while another one holds the
// lock or while it is on its way; only one of them talks to the server at a time.
//
// The races (each forced by a test):
//   - a Revoke that arrives while the acquire is still on its way (before the grant's reply):
//     remember it, and give the lock back when the user that gets it releases it;
//   - a Retry that arrives before the "retry" reply it answers: remember it, and ask again at
//     once when that reply comes;
//   - a Revoke while a user holds the lock, and more local users waiting: the lock goes back
//     after the current user releases it (not to the next local user: that would starve the
//     other client), and the local users then ask the server again;
//   - a lost Revoke or Retry: the server sends Revoke again until the lock comes back, and a
//     client that got "retry" asks again every second even without a Retry;
//   - a Revoke of a lock this node does not have (state none: it restarted, or it gave up on an
//     acquire that the server granted later): give it back at once (as `releasing`, so that no
//     acquire is sent while that Release is on its way).
//
// Deadline: acquire gives up after `timeout` (10 s by default: the server is down, or the lock
// did not come back from its holder) with lock::Error::unavailable; the file system makes that
// EIO.
//
// Threading contract: one node; the callbacks run as the node's tasks, never block (a Revoke
// that must give a lock back starts a task for it), and everything interleaves at co_awaits.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string_view>

#include "dsys/core/context.hpp"
#include "dsys/lock/service.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "reply_window.hpp"

namespace dsys::lab5 {

enum class LockState : std::uint8_t { none, acquiring, locked, free, releasing };
constexpr std::string_view to_string(LockState s) {
  constexpr std::string_view kNames[] = {"none", "acquiring", "locked", "free", "releasing"};
  return kNames[static_cast<int>(s)];
}

class CachingLockClient final : public lock::LockService {
 public:
  // What runs before a lock goes back to the server (lab 6: write back what it protected).
  using ReleaseCallback = std::function<core::Task<void>(lock::LockId)>;

  // (Given.) Serves the callbacks, with your lab 1 ReplyWindow as their duplicate filter.
  CachingLockClient(core::Context& ctx, core::Address server, lock::ClientId id,
                    core::Duration timeout = std::chrono::seconds(10));

  // Waits until a local user may hold `lock` (see the states above). Tested by: every lab 5
  // test.
  core::Task<lock::Result<void>> acquire(lock::LockId lock) override;
  // The local user is done: the lock becomes free here, or goes back to the server when it was
  // revoked (the release callback first). Tested by: every lab 5 test.
  core::Task<lock::Result<void>> release(lock::LockId lock) override;

  // Gives every lock this node has cached (free) back to the server, and waits until they are
  // back, and so are those on their way back already (releasing): for a program that is about
  // to exit (a lock cached by a client that never comes back stays held: see the handout).
  // Locks in use stay.
  // Tested by: "lab 5: two lock_testers at once ..." (the first to finish gives its locks back).
  core::Task<void> return_all();

  // The server's callbacks (run by the given handlers). Tested by: "revoke and retry: ...",
  // the race tests, "a restarted client gives back at once ...".
  void on_revoke(lock::LockId lock);
  void on_retry(lock::LockId lock);

  // (Given.) For lab 6.
  void set_release_callback(ReleaseCallback callback) { release_callback_ = std::move(callback); }
  // This node's state of `lock`, for the tests' invariants (none for a lock never seen).
  LockState state(lock::LockId lock) const;
  lock::ClientId id() const { return id_; }
  rpc::Client& server() { return server_; }

 private:
  core::Context& ctx_;
  lock::ClientId id_;
  core::Duration timeout_;
  rpc::Client server_;
  lab1::ReplyWindow reply_window_{[&ctx = ctx_] { return ctx.now(); }};
  rpc::Service callbacks_;  // after reply_window_, its duplicate filter
  ReleaseCallback release_callback_;
  // SOLUTION BEGIN
  struct Lock {
    explicit Lock(core::Context& ctx) : changed(ctx), retried(ctx) {}
    LockState state = LockState::none;
    bool revoked = false;        // the server wants it back
    bool retry_arrived = false;  // a Retry came since the last acquire was sent
    core::Notifier changed;      // the state changed
    core::Notifier retried;      // a Retry came
  };
  Lock& lock_state(lock::LockId lock);
  // Asks the server until it grants the lock (true) or the deadline passes (false).
  core::Task<bool> ask_server(lock::LockId lock, Lock& l, core::Time deadline);
  // Gives the lock back: the release callback, then the Release RPC; the state becomes none.
  core::Task<void> give_back(lock::LockId lock, Lock& l, bool run_callback);
  std::map<lock::LockId, Lock> locks_;
  // SOLUTION STUB
  // // Your state: per lock, its LockState, whether a Revoke or Retry came, and core::Notifiers
  // // for the users waiting for a change (std::map: references to its values stay valid).
  // SOLUTION END
};

}  // namespace dsys::lab5
