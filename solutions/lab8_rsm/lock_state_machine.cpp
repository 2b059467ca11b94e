// lab 8, part 3: the caching lock server as a replicated state machine. See
// lock_state_machine.hpp.
#include "lock_state_machine.hpp"

#include "dsys/core/error.hpp"
#include "dsys/rpc/marshal.hpp"

namespace dsys::lab8 {

using namespace std::chrono_literals;

LockStateMachine::LockStateMachine(core::Context& ctx, Clock now, IsPrimary primary)
    : ctx_(ctx),
      now_(std::move(now)),
      primary_(std::move(primary)),
      service_(ctx, lock::kService, "lock", {.dispatch_only = true}) {
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
std::int64_t LockStateMachine::time_ns() const {
  return now_().time_since_epoch().count();
}

rpc::Client& LockStateMachine::client_at(core::Address address) {
  auto& c = clients_[address];
  if (!c) c = std::make_unique<rpc::Client>(rpc::Endpoint::of(ctx_), address);
  return *c;
}

void LockStateMachine::forget_quiet_waiters(Lock& l) {
  const std::int64_t now = time_ns();
  std::erase_if(l.waiters, [&](const auto& w) {
    return now - w.second.last_asked > core::Duration(kForgetWaiterAfter).count();
  });
}

void LockStateMachine::start_revoke(LockId lock) {
  if (!primary_()) return;
  const auto [it, fresh] = revoking_.try_emplace(lock, revoke_tasks_ + 1);
  if (!fresh) return;
  ++revoke_tasks_;
  ctx_.spawn(revoke_until_returned(lock, it->second));
}

// The primary asks the holder for the lock until it is free, no one waits, this replica is no
// longer the primary, or a grant or release has ended this task (`task` is no longer the lock's).
// It only reads the state.
core::Task<void> LockStateMachine::revoke_until_returned(LockId lock, std::uint64_t task) {
  for (;;) {
    auto it = locks_.find(lock);
    const auto mine = revoking_.find(lock);
    if (mine == revoking_.end() || mine->second != task) co_return;  // ended: another may run
    if (!primary_() || it == locks_.end() || it->second.holder == 0 || it->second.waiters.empty()) {
      break;
    }
    const core::Address holder = core::Address::from_raw(it->second.holder);
    rpc::Client& to = client_at(holder);
    const rpc::Nonce bound = to.nonce();
    auto r = co_await to.call<lock::Revoke>(lock::LockRequest(it->second.holder_id, lock), 5s);
    // Ask the new incarnation; once per restart (another task may have rebound it already).
    if (!r && r.error() == rpc::Error::server_restarted && to.nonce() == bound) to.rebind();
    co_await ctx_.sleep_for(r ? kRevokeEvery : 1s);
  }
  revoking_.erase(lock);  // (still this task's: checked above, with no co_await since)
}

core::Task<void> LockStateMachine::send_retry(LockId lock, core::Address to, ClientId id) {
  rpc::Client& c = client_at(to);
  const rpc::Nonce bound = c.nonce();
  auto r = co_await c.call<lock::Retry>(lock::LockRequest(id, lock), 5s);
  if (!r && r.error() == rpc::Error::server_restarted && c.nonce() == bound) c.rebind();
}
// SOLUTION END

Status LockStateMachine::acquire(core::Address from, ClientId client, LockId lock) {
  // SOLUTION BEGIN
  Lock& l = locks_[lock];
  const std::uint64_t me = from.raw();
  forget_quiet_waiters(l);
  if (l.kept_for != 0 && !l.waiters.contains(l.kept_for)) l.kept_for = 0;  // it gave up
  const bool kept_for_another = l.kept_for != 0 && l.kept_for != me;
  if ((l.holder == 0 && !kept_for_another) || l.holder == me) {
    l.kept_for = 0;
    l.holder = me;
    l.holder_id = client;
    revoking_.erase(lock);  // a revoke task for the previous holder ends
    l.waiters.erase(me);
    if (!l.waiters.empty()) start_revoke(lock);  // others wait: ask for it back at once
    return Status::ok;
  }
  auto [it, fresh] = l.waiters.try_emplace(me, Waiter{client, time_ns(), time_ns()});
  it->second.id = client;
  it->second.last_asked = time_ns();
  if (l.holder != 0) start_revoke(lock);
  return Status::retry;
  // SOLUTION STUB
  // // TODO(lab8 part 3): your lab 5 acquire, with the time from now_() and the revoke task
  // // started only where primary_() is true.
  // (void)from;
  // (void)client;
  // (void)lock;
  // dsys::unimplemented("LockStateMachine::acquire");
  // return Status::retry;
  // SOLUTION END
}

Status LockStateMachine::release(core::Address from, ClientId client, LockId lock) {
  // SOLUTION BEGIN
  (void)client;
  auto it = locks_.find(lock);
  if (it == locks_.end() || it->second.holder != from.raw()) return Status::not_held;
  Lock& l = it->second;
  l.holder = 0;
  l.holder_id = 0;
  revoking_.erase(lock);
  forget_quiet_waiters(l);
  if (!l.waiters.empty()) {
    auto longest = l.waiters.begin();
    for (auto w = l.waiters.begin(); w != l.waiters.end(); ++w) {
      if (w->second.first_asked < longest->second.first_asked) longest = w;
    }
    l.kept_for = longest->first;
    if (primary_()) {
      // At once (spawn_now): the Retry leaves now, while this replica is the primary. A task
      // spawned for later could start after a view change has begun.
      ctx_.spawn_now(send_retry(lock, core::Address::from_raw(longest->first), longest->second.id));
    }
  }
  return Status::ok;
  // SOLUTION STUB
  // // TODO(lab8 part 3): your lab 5 release; the Retry sent only where primary_() is true.
  // (void)from;
  // (void)client;
  // (void)lock;
  // dsys::unimplemented("LockStateMachine::release");
  // return Status::not_held;
  // SOLUTION END
}

std::string LockStateMachine::snapshot() const {
  // SOLUTION BEGIN
  return rpc::encode(locks_);
  // SOLUTION STUB
  // // TODO(lab8 part 3): the replicated state as bytes (rpc::encode).
  // dsys::unimplemented("LockStateMachine::snapshot");
  // return {};
  // SOLUTION END
}

bool LockStateMachine::restore(std::string_view state) {
  // SOLUTION BEGIN
  std::map<LockId, Lock> locks;
  if (!rpc::decode(state, locks)) return false;
  locks_ = std::move(locks);
  return true;
  // SOLUTION STUB
  // // TODO(lab8 part 3): the state back from snapshot()'s bytes (rpc::decode); false, and
  // // nothing changed, when they are not one.
  // (void)state;
  // dsys::unimplemented("LockStateMachine::restore");
  // return false;
  // SOLUTION END
}

std::optional<core::Address> LockStateMachine::holder(LockId lock) const {
  // SOLUTION BEGIN
  auto it = locks_.find(lock);
  if (it == locks_.end() || it->second.holder == 0) return std::nullopt;
  return core::Address::from_raw(it->second.holder);
  // SOLUTION STUB
  // // TODO(lab8 part 3): who holds `lock` (nullopt: no one).
  // (void)lock;
  // dsys::unimplemented("LockStateMachine::holder");
  // return std::nullopt;
  // SOLUTION END
}

}  // namespace dsys::lab8
