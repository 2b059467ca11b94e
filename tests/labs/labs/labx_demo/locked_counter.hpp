// labx (the kit's demo lab): a counter that clients share under a lock of lab 1.
//
// It builds on lab 1 (DEPENDS lab1): lab 1's directory is on its include path and lab 1's code is
// linked into it, from the base this lab is built on (the student's lab 1, or the reference).
#pragma once

#include <functional>

#include "dsys/core/context.hpp"
#include "lock_client.hpp"  // lab 1's

namespace dsys::labx {

using lab1::LockClient;
using lock::LockId;
using lock::Status;

// Runs `body` while `client` holds `lock`: acquires it, runs `body`, releases it. The result is
// the acquire's when it did not grant the lock (`body` does not run then), else the release's.
// (Given.)
core::Task<rpc::CallResult<Status>> with_lock(LockClient& client, LockId lock,
                                              std::function<core::Task<void>()> body);

// A value that many clients update, each through its own LockedCounter, under one lock.
class LockedCounter {
 public:
  LockedCounter(core::Context& ctx, LockClient& client, LockId lock, int& value)
      : ctx_(ctx), client_(client), lock_(lock), value_(value) {}

  // Adds `n` to the value while holding the lock: reads the value, waits 1 ms (so that clients
  // without the lock would overwrite each other's updates), then writes the value plus `n`.
  // Returns as with_lock().
  // Tested by: "LockedCounter::add keeps the count exact ..." (labx_test.cpp)
  core::Task<rpc::CallResult<Status>> add(int n);

 private:
  core::Context& ctx_;
  LockClient& client_;
  LockId lock_;
  int& value_;
};

}  // namespace dsys::labx
