// lab 4: the lock service over lab 1's LockClient. See lab1_locks.hpp.      (Given.)
#include "lab1_locks.hpp"

namespace dsys::lab4 {

Lab1Locks::Lab1Locks(core::Context& ctx, core::Address lock_server, lock::ClientId id,
                     core::Duration timeout)
    : ctx_(ctx), client_(rpc::Endpoint::of(ctx), lock_server, id, timeout) {}

core::Task<lock::Result<void>> Lab1Locks::acquire(lock::LockId lock) {
  auto granted = co_await client_.acquire(lock);
  if (granted && *granted == lock::Status::ok) co_return lock::Result<void>();
  ctx_.log("lock {:#x}: acquire failed ({})", lock,
           granted ? std::string(to_string(*granted)) : std::string(to_string(granted.error())));
  co_return lock::Error::unavailable;
}

core::Task<lock::Result<void>> Lab1Locks::release(lock::LockId lock) {
  auto freed = co_await client_.release(lock);
  if (freed && *freed == lock::Status::ok) co_return lock::Result<void>();
  ctx_.log("lock {:#x}: release failed ({})", lock,
           freed ? std::string(to_string(*freed)) : std::string(to_string(freed.error())));
  co_return lock::Error::unavailable;
}

}  // namespace dsys::lab4
