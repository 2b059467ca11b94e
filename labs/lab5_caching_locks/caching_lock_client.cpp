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

core::Task<lock::Result<void>> CachingLockClient::acquire(lock::LockId lock) {
  // TODO(lab5 part 1): free: take it; none: ask the server (and wait for Retry when told to);
  // acquiring, locked, releasing: wait for a change. Give up at the deadline.
  dsys::unimplemented("CachingLockClient::acquire");
  co_return lock::Error::unavailable;
}

core::Task<lock::Result<void>> CachingLockClient::release(lock::LockId lock) {
  // TODO(lab5 part 1): revoked: give it back to the server (release callback, Release RPC);
  // else keep it, free, for the next local user.
  dsys::unimplemented("CachingLockClient::release");
  co_return lock::Error::unavailable;
}

void CachingLockClient::on_revoke(lock::LockId lock) {
  // TODO(lab5 part 1): by state: remember it, or give the lock back from a task of its own
  // (ctx_.spawn); never wait here.
  dsys::unimplemented("CachingLockClient::on_revoke");
}

void CachingLockClient::on_retry(lock::LockId lock) {
  // TODO(lab5 part 1): remember that a Retry came, and wake whoever waits for one.
  dsys::unimplemented("CachingLockClient::on_retry");
}

core::Task<void> CachingLockClient::return_all() {
  // TODO(lab5 part 1): give back every free lock (release callback, Release RPC), after
  // waiting for any on its way back (releasing).
  dsys::unimplemented("CachingLockClient::return_all");
  co_return;
}

LockState CachingLockClient::state(lock::LockId lock) const {
  // TODO(lab5 part 1): the state of `lock` (none when never seen).
  dsys::unimplemented("CachingLockClient::state");
  return LockState::none;
}

}  // namespace dsys::lab5
