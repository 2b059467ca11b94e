// lab 1, part 1: the lock client. See lock_client.hpp for the contract of each function.
#include "lock_client.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab1 {

LockClient::LockClient(rpc::Endpoint& endpoint, core::Address server, ClientId id,
                       core::Duration timeout)
    : server_(endpoint, server), id_(id), timeout_(timeout) {}

core::Task<rpc::CallResult<Status>> LockClient::acquire(LockId lock) {
  // SOLUTION BEGIN
  const lock::LockRequest request(id_, lock);
  co_return co_await server_.call<lock::Acquire>(request, timeout_);
  // SOLUTION STUB
  // // TODO(lab1 part 1): call lock::Acquire on the server (server_.call<...>(request, timeout_)).
  // dsys::unimplemented("LockClient::acquire");
  // co_return Status::ok;
  // SOLUTION END
}

core::Task<rpc::CallResult<Status>> LockClient::release(LockId lock) {
  // SOLUTION BEGIN
  const lock::LockRequest request(id_, lock);
  co_return co_await server_.call<lock::Release>(request, timeout_);
  // SOLUTION STUB
  // // TODO(lab1 part 1): call lock::Release on the server.
  // dsys::unimplemented("LockClient::release");
  // co_return Status::ok;
  // SOLUTION END
}

}  // namespace dsys::lab1
