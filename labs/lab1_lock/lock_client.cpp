// lab 1, part 1: the lock client. See lock_client.hpp for the contract of each function.
#include "lock_client.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab1 {

LockClient::LockClient(rpc::Endpoint& endpoint, core::Address server, ClientId id,
                       core::Duration timeout)
    : server_(endpoint, server), id_(id), timeout_(timeout) {}

core::Task<rpc::CallResult<Status>> LockClient::acquire(LockId lock) {
  // TODO(lab1 part 1): call lock::Acquire on the server (server_.call<...>(request, timeout_)).
  dsys::unimplemented("LockClient::acquire");
  co_return Status::ok;
}

core::Task<rpc::CallResult<Status>> LockClient::release(LockId lock) {
  // TODO(lab1 part 1): call lock::Release on the server.
  dsys::unimplemented("LockClient::release");
  co_return Status::ok;
}

}  // namespace dsys::lab1
