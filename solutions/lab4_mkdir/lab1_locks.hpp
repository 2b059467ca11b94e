// lab 4: the lock service of the file system, served by your lab 1 lock server.     (Given.)
//
// Lab1Locks is a lock::LockService (dsys/lock/service.hpp) over your lab 1 LockClient: each
// acquire and each release is one RPC to the lock server. Lab 5 replaces it with a caching
// client behind the same interface.
//
// Deadline: a call that gets no answer within `timeout` (default 10 s: the lock server is down,
// or another client held the lock all that time) fails with lock::Error::unavailable, and the
// file-system operation that asked fails with EIO. (An acquire that timed out while the server
// was reachable could still be granted later and then never released; with locks held for
// milliseconds and a 10 s deadline that takes a server that is down, whose restart forgets every
// lock. Lab 5's protocol removes the question.)
#pragma once

#include <chrono>

#include "dsys/lock/service.hpp"
#include "lock_client.hpp"

namespace dsys::lab4 {

class Lab1Locks final : public lock::LockService {
 public:
  Lab1Locks(core::Context& ctx, core::Address lock_server, lock::ClientId id,
            core::Duration timeout = std::chrono::seconds(10));

  core::Task<lock::Result<void>> acquire(lock::LockId lock) override;
  core::Task<lock::Result<void>> release(lock::LockId lock) override;

  lab1::LockClient& client() { return client_; }

 private:
  core::Context& ctx_;
  lab1::LockClient client_;
};

}  // namespace dsys::lab4
