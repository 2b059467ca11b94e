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

Status LockStateMachine::acquire(core::Address from, ClientId client, LockId lock) {
  // TODO(lab8 part 3): your lab 5 acquire, with the time from now_() and the revoke task
  // started only where primary_() is true.
  (void)from;
  (void)client;
  (void)lock;
  dsys::unimplemented("LockStateMachine::acquire");
  return Status::retry;
}

Status LockStateMachine::release(core::Address from, ClientId client, LockId lock) {
  // TODO(lab8 part 3): your lab 5 release; the Retry sent only where primary_() is true.
  (void)from;
  (void)client;
  (void)lock;
  dsys::unimplemented("LockStateMachine::release");
  return Status::not_held;
}

std::string LockStateMachine::snapshot() const {
  // TODO(lab8 part 3): the replicated state as bytes (rpc::encode).
  dsys::unimplemented("LockStateMachine::snapshot");
  return {};
}

bool LockStateMachine::restore(std::string_view state) {
  // TODO(lab8 part 3): the state back from snapshot()'s bytes (rpc::decode); false, and
  // nothing changed, when they are not one.
  (void)state;
  dsys::unimplemented("LockStateMachine::restore");
  return false;
}

std::optional<core::Address> LockStateMachine::holder(LockId lock) const {
  // TODO(lab8 part 3): who holds `lock` (nullopt: no one).
  (void)lock;
  dsys::unimplemented("LockStateMachine::holder");
  return std::nullopt;
}

}  // namespace dsys::lab8
