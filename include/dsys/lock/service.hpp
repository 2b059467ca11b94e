// dsys/lock/service.hpp: how the file system takes locks, whoever serves them.
//
// From lab 4 on, the yfs client locks inodes through this interface: lab 4 with lab 1's
// LockClient (one RPC per acquire and per release), lab 5 with a caching lock client, lab 8 with
// the replicated lock service's client. The file system never knows which one it has.
//
// Semantics: a lock is held by one client (one yfs client node) at a time. Coroutines of one
// node share its identity, so an implementation must also keep two coroutines of one node from
// holding a lock at once (lab 1's server does, by making the second acquire wait for the first's
// release). Locks are not reentrant: a coroutine that acquires a lock it holds waits forever.
//
// Threading contract: a LockService belongs to one node and runs on its executor.
#pragma once

#include <cstdint>
#include <string_view>

#include "dsys/core/result.hpp"
#include "dsys/core/task.hpp"
#include "dsys/lock/protocol.hpp"

namespace dsys::lock {

// Why a lock operation failed.
enum class Error : std::uint8_t {
  // The lock could not be had (or given back) before the implementation's deadline: the lock
  // server is down or unreachable, or another client held the lock all that time.
  unavailable = 1,
};

constexpr std::string_view to_string(Error) {
  return "unavailable";
}

template <class T>
using Result = dsys::Result<T, Error>;

class LockService {
 public:
  virtual ~LockService() = default;
  // Waits until this node holds `lock`.
  virtual core::Task<Result<void>> acquire(LockId lock) = 0;
  // Gives `lock` back. Precondition: this node holds it (acquired and not yet released).
  virtual core::Task<Result<void>> release(LockId lock) = 0;
};

}  // namespace dsys::lock
