// dsys/lock/protocol.hpp: the lock service's procedures (lab 1), shared by server and client.
//
// A lock is named by a number (LockId) and is either free or held by one client (ClientId).
// acquire waits until the lock is free, then grants it to the caller; release frees a lock the
// caller holds. Locks come into being, free, on first use.
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
};

constexpr std::string_view to_string(Status s) {
  return s == Status::ok ? "ok" : "not held";
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

}  // namespace dsys::lock
