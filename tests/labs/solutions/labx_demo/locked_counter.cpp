// labx (the kit's demo lab). See locked_counter.hpp for the contract of each function.
#include "locked_counter.hpp"

#include <chrono>

#include "dsys/core/error.hpp"

namespace dsys::labx {

core::Task<rpc::CallResult<Status>> with_lock(LockClient& client, LockId lock,
                                              std::function<core::Task<void>()> body) {
  auto acquired = co_await client.acquire(lock);
  if (!acquired || *acquired != Status::ok) co_return acquired;
  co_await body();
  co_return co_await client.release(lock);
}

core::Task<rpc::CallResult<Status>> LockedCounter::add(int n) {
  // SOLUTION BEGIN
  co_return co_await with_lock(client_, lock_, [this, n]() -> core::Task<void> {
    const int seen = value_;
    co_await ctx_.sleep_for(std::chrono::milliseconds(1));
    value_ = seen + n;
  });
  // SOLUTION STUB
  // // TODO(labx): under lock_ (with_lock), read value_, wait 1 ms, write what you read plus n.
  // dsys::unimplemented("LockedCounter::add");
  // co_return Status::ok;
  // SOLUTION END
}

}  // namespace dsys::labx
