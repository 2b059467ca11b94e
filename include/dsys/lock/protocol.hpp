// dsys/lock/protocol.hpp: the lock service's procedures, shared by server and client.
//
// A lock is named by a number (LockId) and is either free or held by one client (ClientId).
// Lab 1: acquire waits until the lock is free, then grants it to the caller; release frees a lock
// the caller holds. Locks come into being, free, on first use.
//
// Lab 5 (the caching lock service): the same two procedures, but acquire never waits. A client is
// known by its node's listening address (CallInfo::from), where the server calls it back:
//   acquire  Status::ok (the lock is the caller's until it releases it) or Status::retry (another
//            client holds it: the server has asked that one for it, and will send this caller a
//            Retry when it may be free; ask again then);
//   release  gives a lock back (ok), or not_held;
// and the callbacks, served by the client's node (service kCallbackService):
//   Revoke   the server wants the lock back: release it as soon as no one on the node uses it;
//   Retry    the lock may be free now: send acquire again.
#pragma once

#include <cstdint>
#include <string_view>

#include "dsys/rpc/procedure.hpp"

namespace dsys::lock {

using LockId = std::uint64_t;
using ClientId = std::uint64_t;

// The answer of the lock service itself (network failures are rpc::Error, not Status).
enum class Status : std::uint8_t {
  ok = 0,        // acquire: the lock is yours; release: the lock is free again
  not_held = 1,  // release of a lock that the caller does not hold: nothing changed
  retry = 2,     // (lab 5) acquire: another client holds it; wait for a Retry, then ask again
};

constexpr std::string_view to_string(Status s) {
  switch (s) {
    case Status::ok:
      return "ok";
    case Status::not_held:
      return "not held";
    case Status::retry:
      return "retry";
  }
  return "unknown status";
}

// Who asks, for which lock. (It has constructors: see docs/architecture.md on g++ 12.)
struct LockRequest {
  LockRequest() = default;
  LockRequest(ClientId c, LockId l) : client(c), lock(l) {}
  ClientId client = 0;
  LockId lock = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& client& lock;
  }
};

inline constexpr rpc::ServiceId kService = 1;  // see rpc/procedure.hpp

// Procedure ids of the lock service: dense, never reused.
struct Acquire {
  static constexpr rpc::ServiceId kService = lock::kService;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "lock.acquire";
  using Request = LockRequest;
  using Reply = Status;
};
struct Release {
  static constexpr rpc::ServiceId kService = lock::kService;
  static constexpr rpc::ProcedureId kId = 2;
  static constexpr std::string_view kName = "lock.release";
  using Request = LockRequest;
  using Reply = Status;
};

// ---- lab 5: the server's calls to a caching client (served by the client's node)

inline constexpr rpc::ServiceId kCallbackService = 2;  // see rpc/procedure.hpp

struct Revoke {
  static constexpr rpc::ServiceId kService = lock::kCallbackService;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "lock_cb.revoke";
  using Request = LockRequest;  // `client`: the holder's id, as it gave it in its acquire
  using Reply = Status;         // ok (noted: the lock comes back with a release)
};
struct Retry {
  static constexpr rpc::ServiceId kService = lock::kCallbackService;
  static constexpr rpc::ProcedureId kId = 2;
  static constexpr std::string_view kName = "lock_cb.retry";
  using Request = LockRequest;  // `client`: the waiter's id, as it gave it in its acquire
  using Reply = Status;         // ok
};

}  // namespace dsys::lock
