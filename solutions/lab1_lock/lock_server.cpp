// lab 1, part 1: the lock server. See lock_server.hpp for the contract of each function.
#include "lock_server.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab1 {

LockServer::LockServer(core::Context& ctx, LockServerOptions options)
    : ctx_(ctx),
      service_(ctx, lock::kService, "lock",
               {.filter = options.at_most_once ? &reply_window_ : nullptr}) {
  service_.serve<lock::Acquire>([this](const lock::LockRequest& r, const rpc::CallInfo&) {
    return acquire(r.client, r.lock);
  });
  service_.serve<lock::Release>([this](const lock::LockRequest& r, const rpc::CallInfo&) {
    return release(r.client, r.lock);
  });
}

core::Task<Status> LockServer::acquire(ClientId client, LockId lock) {
  // SOLUTION BEGIN
  Lock& l = locks_.try_emplace(lock, ctx_).first->second;  // std::map: `l` stays valid
  // Look again after every wake-up: another client may have taken the lock first.
  while (l.holder) co_await l.freed.wait();
  l.holder = client;
  co_return Status::ok;
  // SOLUTION STUB
  // // TODO(lab1 part 1): wait while the lock is held, then take it for `client`.
  // dsys::unimplemented("LockServer::acquire");
  // co_return Status::ok;
  // SOLUTION END
}

core::Task<Status> LockServer::release(ClientId client, LockId lock) {
  // SOLUTION BEGIN
  auto it = locks_.find(lock);
  if (it == locks_.end() || it->second.holder != client) co_return Status::not_held;
  it->second.holder.reset();
  it->second.freed.notify_one();  // one waiter takes it; the others wait for its release
  co_return Status::ok;
  // SOLUTION STUB
  // // TODO(lab1 part 1): free the lock if `client` holds it, and wake the waiters.
  // dsys::unimplemented("LockServer::release");
  // co_return Status::ok;
  // SOLUTION END
}

}  // namespace dsys::lab1
