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

// SOLUTION BEGIN
rpc::Client& CachingLockServer::client_at(core::Address address) {
  auto& c = clients_[address];
  if (!c) c = std::make_unique<rpc::Client>(endpoint(), address);
  return *c;
}

void CachingLockServer::forget_quiet_waiters(Lock& l) {
  std::erase_if(l.waiters, [&](const auto& w) {
    return ctx_.now() - w.second.last_asked > kForgetWaiterAfter;
  });
}

void CachingLockServer::start_revoke(LockId lock, Lock& l) {
  if (l.revoking) return;
  l.revoking = true;
  ctx_.spawn(revoke_until_returned(lock, l.grant));
}

// Asks the holder of grant `grant` for the lock until it gives it back or no one waits.
core::Task<void> CachingLockServer::revoke_until_returned(LockId lock, std::uint64_t grant) {
  for (;;) {
    Lock& l = locks_.at(lock);  // std::map: a lock, once there, stays
    forget_quiet_waiters(l);
    if (l.grant != grant || !l.holder || l.waiters.empty()) break;
    const core::Address holder = *l.holder;
    rpc::Client& to = client_at(holder);
    const rpc::Nonce bound = to.nonce();
    auto r = co_await to.call<lock::Revoke>(lock::LockRequest(l.holder_id, lock), 5s);
    // Ask the new incarnation; once per restart (another task may have rebound it already).
    if (!r && r.error() == rpc::Error::server_restarted && to.nonce() == bound) to.rebind();
    co_await ctx_.sleep_for(r ? kRevokeEvery : 1s);
  }
  Lock& l = locks_.at(lock);
  if (l.grant == grant) l.revoking = false;
}

core::Task<void> CachingLockServer::send_retry(LockId lock, core::Address to, ClientId id) {
  rpc::Client& c = client_at(to);
  const rpc::Nonce bound = c.nonce();
  auto r = co_await c.call<lock::Retry>(lock::LockRequest(id, lock), 5s);
  if (!r && r.error() == rpc::Error::server_restarted && c.nonce() == bound) c.rebind();
}
// SOLUTION END

Status CachingLockServer::acquire(core::Address from, ClientId client, LockId lock) {
  // SOLUTION BEGIN
  Lock& l = locks_[lock];
  forget_quiet_waiters(l);
  if (l.kept_for && !l.waiters.contains(*l.kept_for)) l.kept_for.reset();  // it gave up
  const bool kept_for_another = l.kept_for && *l.kept_for != from;
  if ((!l.holder && !kept_for_another) || l.holder == from) {
    l.kept_for.reset();
    l.holder = from;
    l.holder_id = client;
    ++l.grant;
    l.revoking = false;
    l.waiters.erase(from);
    if (!l.waiters.empty()) start_revoke(lock, l);  // others wait: ask for it back at once
    return Status::ok;
  }
  auto [it, fresh] = l.waiters.try_emplace(from, Waiter{client, ctx_.now(), ctx_.now()});
  it->second.id = client;
  it->second.last_asked = ctx_.now();
  if (l.holder) start_revoke(lock, l);
  return Status::retry;
  // SOLUTION STUB
  // // TODO(lab5 part 2): grant a free lock (or one `from` holds); else note the waiter, start a
  // // revoke task for the holder if none runs (ctx_.spawn), and answer retry.
  // dsys::unimplemented("CachingLockServer::acquire");
  // return Status::retry;
  // SOLUTION END
}

Status CachingLockServer::release(core::Address from, ClientId client, LockId lock) {
  // SOLUTION BEGIN
  auto it = locks_.find(lock);
  if (it == locks_.end() || it->second.holder != from) return Status::not_held;
  Lock& l = it->second;
  l.holder.reset();
  l.revoking = false;
  forget_quiet_waiters(l);
  if (!l.waiters.empty()) {
    auto longest = l.waiters.begin();
    for (auto w = l.waiters.begin(); w != l.waiters.end(); ++w) {
      if (w->second.first_asked < longest->second.first_asked) longest = w;
    }
    l.kept_for = longest->first;
    ctx_.spawn(send_retry(lock, longest->first, longest->second.id));
  }
  return Status::ok;
  // SOLUTION STUB
  // // TODO(lab5 part 2): free a lock `from` holds, and send a Retry (from a task of its own) to
  // // the client that has waited longest.
  // dsys::unimplemented("CachingLockServer::release");
  // return Status::not_held;
  // SOLUTION END
}

std::optional<core::Address> CachingLockServer::holder(LockId lock) const {
  // SOLUTION BEGIN
  auto it = locks_.find(lock);
  if (it == locks_.end()) return std::nullopt;
  return it->second.holder;
  // SOLUTION STUB
  // // TODO(lab5 part 2): who holds `lock` (nullopt: no one).
  // dsys::unimplemented("CachingLockServer::holder");
  // return std::nullopt;
  // SOLUTION END
}

}  // namespace dsys::lab5
