// lab 5, part 1: the caching lock client. See caching_lock_client.hpp for the states and races.
#include "caching_lock_client.hpp"

#include <algorithm>

#include "dsys/core/error.hpp"

namespace dsys::lab5 {

using namespace std::chrono_literals;

CachingLockClient::CachingLockClient(core::Context& ctx, core::Address server, lock::ClientId id,
                                     core::Duration timeout)
    : ctx_(ctx),
      id_(id),
      timeout_(timeout),
      server_(rpc::Endpoint::of(ctx), server),
      callbacks_(ctx, lock::kCallbackService, "lock_cb", {.filter = &reply_window_}) {
  callbacks_.serve<lock::Revoke>(
      [this](const lock::LockRequest& r, const rpc::CallInfo&) -> core::Task<lock::Status> {
        on_revoke(r.lock);
        co_return lock::Status::ok;
      });
  callbacks_.serve<lock::Retry>(
      [this](const lock::LockRequest& r, const rpc::CallInfo&) -> core::Task<lock::Status> {
        on_retry(r.lock);
        co_return lock::Status::ok;
      });
}

// SOLUTION BEGIN
CachingLockClient::Lock& CachingLockClient::lock_state(lock::LockId lock) {
  return locks_.try_emplace(lock, ctx_).first->second;
}

core::Task<bool> CachingLockClient::ask_server(lock::LockId lock, Lock& l, core::Time deadline) {
  for (;;) {
    if (ctx_.now() >= deadline) co_return false;
    l.retry_arrived = false;
    const rpc::Nonce bound = server_.nonce();  // rebind once per restart, not once per call
    auto r =
        co_await server_.call<lock::Acquire>(lock::LockRequest(id_, lock), deadline - ctx_.now());
    if (!r) {
      if (r.error() == rpc::Error::server_restarted && server_.nonce() == bound) server_.rebind();
      if (r.error() == rpc::Error::timeout) co_return false;
      co_await ctx_.sleep_for(std::min<core::Duration>(1s, deadline - ctx_.now()));
      continue;
    }
    if (*r == lock::Status::ok) co_return true;
    // Retry later: wait for the server's Retry (it may have come already, before this reply),
    // or ask again after a second in case it was lost.
    if (!l.retry_arrived) co_await l.retried.wait_until(std::min(ctx_.now() + 1s, deadline));
  }
}

core::Task<void> CachingLockClient::give_back(lock::LockId lock, Lock& l, bool run_callback) {
  l.state = LockState::releasing;
  l.revoked = false;
  if (run_callback && release_callback_) co_await release_callback_(lock);
  auto r = co_await server_.call<lock::Release>(lock::LockRequest(id_, lock), timeout_);
  if (!r)
    ctx_.log("lock {:#x}: release: {} (the server will ask again)", lock, to_string(r.error()));
  l.state = LockState::none;
  l.changed.notify_all();
}
// SOLUTION END

core::Task<lock::Result<void>> CachingLockClient::acquire(lock::LockId lock) {
  // SOLUTION BEGIN
  Lock& l = lock_state(lock);
  const core::Time deadline = ctx_.now() + timeout_;
  for (;;) {
    switch (l.state) {
      case LockState::free:
        l.state = LockState::locked;
        co_return lock::Result<void>();
      case LockState::none: {
        l.state = LockState::acquiring;
        const bool granted = co_await ask_server(lock, l, deadline);
        l.state = granted ? LockState::locked : LockState::none;
        if (granted) co_return lock::Result<void>();
        l.changed.notify_all();  // another local user may try in its turn
        co_return lock::Error::unavailable;
      }
      case LockState::acquiring:
      case LockState::locked:
      case LockState::releasing:
        const bool woken = co_await l.changed.wait_until(deadline);
        if (!woken && ctx_.now() >= deadline) {
          co_return lock::Error::unavailable;
        }
        break;
    }
  }
  // SOLUTION STUB
  // // TODO(lab5 part 1): free: take it; none: ask the server (and wait for Retry when told to);
  // // acquiring, locked, releasing: wait for a change. Give up at the deadline.
  // dsys::unimplemented("CachingLockClient::acquire");
  // co_return lock::Error::unavailable;
  // SOLUTION END
}

core::Task<lock::Result<void>> CachingLockClient::release(lock::LockId lock) {
  // SOLUTION BEGIN
  Lock& l = lock_state(lock);
  if (l.state != LockState::locked) co_return lock::Error::unavailable;  // not held here
  if (l.revoked) {
    co_await give_back(lock, l, true);  // the other client first; local users ask again
  } else {
    l.state = LockState::free;
    l.changed.notify_one();
  }
  co_return lock::Result<void>();
  // SOLUTION STUB
  // // TODO(lab5 part 1): revoked: give it back to the server (release callback, Release RPC);
  // // else keep it, free, for the next local user.
  // dsys::unimplemented("CachingLockClient::release");
  // co_return lock::Error::unavailable;
  // SOLUTION END
}

void CachingLockClient::on_revoke(lock::LockId lock) {
  // SOLUTION BEGIN
  Lock& l = lock_state(lock);
  switch (l.state) {
    case LockState::acquiring:  // the grant may be on its way: give it back after its use
    case LockState::locked:     // give it back when the user releases it
      l.revoked = true;
      break;
    case LockState::free:
      l.state = LockState::releasing;  // no local user may take it meanwhile
      ctx_.spawn(give_back(lock, l, true));
      break;
    case LockState::none:  // not ours as far as we know: the server thinks so; give it back
      l.state = LockState::releasing;
      ctx_.spawn(give_back(lock, l, false));
      break;
    case LockState::releasing:
      break;
  }
  // SOLUTION STUB
  // // TODO(lab5 part 1): by state: remember it, or give the lock back from a task of its own
  // // (ctx_.spawn); never wait here.
  // dsys::unimplemented("CachingLockClient::on_revoke");
  // SOLUTION END
}

void CachingLockClient::on_retry(lock::LockId lock) {
  // SOLUTION BEGIN
  Lock& l = lock_state(lock);
  l.retry_arrived = true;
  l.retried.notify_all();
  // SOLUTION STUB
  // // TODO(lab5 part 1): remember that a Retry came, and wake whoever waits for one.
  // dsys::unimplemented("CachingLockClient::on_retry");
  // SOLUTION END
}

core::Task<void> CachingLockClient::return_all() {
  // SOLUTION BEGIN
  for (auto& [lock, l] : locks_) {
    // One on its way back (a Revoke's) is not back yet: wait for it, so that the program does
    // not exit with its Release unsent.
    while (l.state == LockState::releasing) co_await l.changed.wait();
    if (l.state == LockState::free) co_await give_back(lock, l, true);
  }
  // SOLUTION STUB
  // // TODO(lab5 part 1): give back every free lock (release callback, Release RPC), after
  // // waiting for any on its way back (releasing).
  // dsys::unimplemented("CachingLockClient::return_all");
  // co_return;
  // SOLUTION END
}

LockState CachingLockClient::state(lock::LockId lock) const {
  // SOLUTION BEGIN
  auto it = locks_.find(lock);
  return it == locks_.end() ? LockState::none : it->second.state;
  // SOLUTION STUB
  // // TODO(lab5 part 1): the state of `lock` (none when never seen).
  // dsys::unimplemented("CachingLockClient::state");
  // return LockState::none;
  // SOLUTION END
}

}  // namespace dsys::lab5
