// lab 8, part 3: the caching lock server as a replicated state machine.
//                                                                (You edit this file and its .cpp.)
//
// Your lab 5 CachingLockServer, changed in three ways so that the RSM can replicate it:
//  1. deterministic: the same acquires and releases in the same order give the same state and
//     the same answers on every replica. So the time comes from `now` (Rsm::now(): the primary's
//     clock when it ordered the request), never from ctx.now(); and nothing but acquire and
//     release changes the state (a revoke task only reads it);
//  2. callbacks from the primary only: Revoke and Retry are sent where `primary()` is true (the
//     backups run the same acquires and releases, silently), true when the message leaves: a
//     task you ctx.spawn starts after the current event, when a view change may have begun
//     (ctx.spawn_now runs it at once, until it first waits). After a fail-over the new primary
//     sends them as the waiters ask again (a waiter asks every second until it gets the lock);
//  3. its whole state is bytes: snapshot() and restore(), for the view change.
// The protocol is lab 5's (dsys/lock/protocol.hpp, "Lab 5"), as is everything else its header
// says: a waiter that has not asked for kForgetWaiterAfter is forgotten (by the time of the
// request that finds it so), a holder is asked again every kRevokeEvery while someone waits, and
// after a release the lock is kept for the waiter that was sent the Retry.
//
// Threading contract: one node; handlers and tasks interleave at their co_awaits only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "dsys/core/context.hpp"
#include "dsys/lock/protocol.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "rsm.hpp"

namespace dsys::lab8 {

using lock::ClientId;
using lock::LockId;
using lock::Status;

class LockStateMachine final : public StateMachine {
 public:
  static constexpr core::Duration kRevokeEvery = std::chrono::seconds(3);
  static constexpr core::Duration kForgetWaiterAfter = std::chrono::seconds(10);

  using Clock = std::function<core::Time()>;
  using IsPrimary = std::function<bool()>;

  // Serves lock::Acquire and lock::Release as lock::kService, dispatch_only: through the RSM.
  // (Given.)
  LockStateMachine(core::Context& ctx, Clock now, IsPrimary primary);

  // Tested by: every lab 8 lock test. `from` is the client's node (CallInfo::from).
  Status acquire(core::Address from, ClientId client, LockId lock);
  Status release(core::Address from, ClientId client, LockId lock);

  // StateMachine. Tested by: "lab 8: state transfer ...", and every fail-over.
  std::string snapshot() const override;
  bool restore(std::string_view state) override;

  // For tests: who holds `lock`, as this replica sees it.
  std::optional<core::Address> holder(LockId lock) const;

 private:
  core::Context& ctx_;
  Clock now_;
  IsPrimary primary_;
  rpc::Service service_;
  // SOLUTION BEGIN
  struct Waiter {
    ClientId id = 0;
    std::int64_t first_asked = 0;  // times in ns (the requests')
    std::int64_t last_asked = 0;
    template <class Archive>
    void serialize(Archive& ar, unsigned) {
      ar& id& first_asked& last_asked;
    }
  };
  struct Lock {
    std::uint64_t holder = 0;  // an Address's raw(); 0: free
    ClientId holder_id = 0;
    std::map<std::uint64_t, Waiter> waiters;  // by address
    std::uint64_t kept_for = 0;               // while free: kept for this waiter (0: no one)
    template <class Archive>
    void serialize(Archive& ar, unsigned) {
      ar& holder& holder_id& waiters& kept_for;
    }
  };
  std::int64_t time_ns() const;
  void forget_quiet_waiters(Lock& l);
  void start_revoke(LockId lock);
  core::Task<void> revoke_until_returned(LockId lock, std::uint64_t task);
  core::Task<void> send_retry(LockId lock, core::Address to, ClientId id);
  rpc::Client& client_at(core::Address address);
  std::map<LockId, Lock> locks_;  // the replicated state
  // Not replicated (the primary's own): the locks a revoke task runs for (each task's number),
  // and the clients to call. A grant or a release ends the lock's task (as lab 5's grant count
  // does), so that the next waiter's revoke goes out at once, not when the old task wakes.
  std::map<LockId, std::uint64_t> revoking_;
  std::uint64_t revoke_tasks_ = 0;
  std::map<core::Address, std::unique_ptr<rpc::Client>> clients_;
  // SOLUTION STUB
  // // Your state: lab 5's, with times as the requests' (Rsm::now), in a form that marshals
  // // (rpc::encode / rpc::decode: std::map, integers, strings, a struct with serialize()); and,
  // // not replicated, what the primary's revoke tasks need.
  // SOLUTION END
};

}  // namespace dsys::lab8
