// lab 5, part 2: the caching lock server. See caching_lock_server.hpp for the protocol.
#include "caching_lock_server.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab5 {

using namespace std::chrono_literals;

CachingLockServer::CachingLockServer(core::Context& ctx)
    : ctx_(ctx), service_(ctx, lock::kService, "lock", {.filter = &reply_window_}) {
  service_.serve<lock::Acquire>(
      [this](const lock::LockRequest& r, const rpc::CallInfo& call) -> core::Task<Status> {
        co_return acquire(call.from, r.client, r.lock);
      });
  service_.serve<lock::Release>(
      [this](const lock::LockRequest& r, const rpc::CallInfo& call) -> core::Task<Status> {
        co_return release(call.from, r.client, r.lock);
      });
}

Status CachingLockServer::acquire(core::Address from, ClientId client, LockId lock) {
  // TODO(lab5 part 2): grant a free lock (or one `from` holds); else note the waiter, start a
  // revoke task for the holder if none runs (ctx_.spawn), and answer retry.
  dsys::unimplemented("CachingLockServer::acquire");
  return Status::retry;
}

Status CachingLockServer::release(core::Address from, ClientId client, LockId lock) {
  // TODO(lab5 part 2): free a lock `from` holds, and send a Retry (from a task of its own) to
  // the client that has waited longest.
  dsys::unimplemented("CachingLockServer::release");
  return Status::not_held;
}

std::optional<core::Address> CachingLockServer::holder(LockId lock) const {
  // TODO(lab5 part 2): who holds `lock` (nullopt: no one).
  dsys::unimplemented("CachingLockServer::holder");
  return std::nullopt;
}

}  // namespace dsys::lab5
