// lab 1, part 1: the lock client.                              (You edit this file's .cpp.)
//
// A LockClient speaks for one client (a ClientId) to one lock server over RPC.
#pragma once

#include <chrono>

#include "dsys/lock/protocol.hpp"
#include "dsys/rpc/endpoint.hpp"

namespace dsys::lab1 {

using lock::ClientId;
using lock::LockId;
using lock::Status;

class LockClient {
 public:
  // `timeout` bounds each call, waiting for the lock included.
  LockClient(rpc::Endpoint& endpoint, core::Address server, ClientId id,
             core::Duration timeout = std::chrono::seconds(60));

  // Acquires `lock` for this client: the server's Status, or the rpc::Error that stopped the
  // call (for example Error::server_restarted after the server restarted).
  // Tested by: every test in lab1_test.cpp that uses a LockClient.
  core::Task<rpc::CallResult<Status>> acquire(LockId lock);

  // Releases `lock`; as acquire() for errors.
  core::Task<rpc::CallResult<Status>> release(LockId lock);

  ClientId id() const { return id_; }
  rpc::Client& rpc() { return server_; }

 private:
  rpc::Client server_;
  ClientId id_;
  core::Duration timeout_;
};

}  // namespace dsys::lab1
