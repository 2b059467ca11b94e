// lab 8, part 2: the RSM client. See rsm_client.hpp.
#include "rsm_client.hpp"

#include <algorithm>

#include "dsys/core/error.hpp"

namespace dsys::lab8 {

RsmClient::RsmClient(core::Context& ctx, std::vector<core::Address> replicas,
                     core::Duration timeout)
    : ctx_(ctx), id_(ctx.rng().next() | 1), timeout_(timeout) {
  replicas_ = std::move(replicas);
}

core::Address RsmClient::primary() const {
  // TODO(lab8 part 2): the replica you believe is the primary.
  dsys::unimplemented("RsmClient::primary");
  return {};
}

core::Task<rpc::CallResult<core::Bytes>> RsmClient::invoke(rpc::ServiceId service,
                                                           rpc::ProcedureId procedure,
                                                           core::Bytes body) {
  // TODO(lab8 part 2): name the request (id_, the next sequence number, done_below), send it
  // to the primary until it is ok (see the header for each other answer), until the timeout.
  (void)service;
  (void)procedure;
  (void)body;
  dsys::unimplemented("RsmClient::invoke");
  co_return rpc::Error::timeout;
}

}  // namespace dsys::lab8
