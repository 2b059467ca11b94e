// lab 8, part 2: the RSM client. See rsm_client.hpp.
#include "rsm_client.hpp"

#include <algorithm>

#include "dsys/core/error.hpp"

namespace dsys::lab8 {

RsmClient::RsmClient(core::Context& ctx, std::vector<core::Address> replicas,
                     core::Duration timeout)
    : ctx_(ctx), id_(ctx.rng().next() | 1), timeout_(timeout) {
  // SOLUTION BEGIN
  known_ = std::move(replicas);
  if (!known_.empty()) primary_ = known_.front();
  // SOLUTION STUB
  // replicas_ = std::move(replicas);
  // SOLUTION END
}

// SOLUTION BEGIN
rpc::Client& RsmClient::client(core::Address to) {
  auto& c = clients_[to];
  if (!c) c = std::make_unique<rpc::Client>(rpc::Endpoint::of(ctx_), to, false);
  return *c;
}

void RsmClient::learn(const rsm::InvokeReply& reply) {
  for (auto raw : reply.members) {
    const auto a = core::Address::from_raw(raw);
    if (a.valid() && std::find(known_.begin(), known_.end(), a) == known_.end()) {
      known_.push_back(a);
    }
  }
}
// SOLUTION END

core::Address RsmClient::primary() const {
  // SOLUTION BEGIN
  return primary_;
  // SOLUTION STUB
  // // TODO(lab8 part 2): the replica you believe is the primary.
  // dsys::unimplemented("RsmClient::primary");
  // return {};
  // SOLUTION END
}

core::Task<rpc::CallResult<core::Bytes>> RsmClient::invoke(rpc::ServiceId service,
                                                           rpc::ProcedureId procedure,
                                                           core::Bytes body) {
  // SOLUTION BEGIN
  const rsm::Sequence seq = next_++;
  waiting_.insert(seq);
  const core::Time deadline = ctx_.now() + timeout_;
  rpc::CallResult<core::Bytes> result = rpc::Error::timeout;
  int busy = 0;
  while (ctx_.now() < deadline) {
    const rsm::Request request(id_, seq, *waiting_.begin(), ctx_.address().raw(), service,
                               procedure, body);
    const core::Address to = primary_;
    auto r = co_await client(to).call<rsm::Invoke>(
        request, std::min<core::Duration>(kAttemptTimeout, deadline - ctx_.now()));
    if (!r) {
      // No answer: the next replica it knows of (after this one).
      auto it = std::find(known_.begin(), known_.end(), to);
      if (primary_ == to && !known_.empty()) {
        primary_ = (it == known_.end() || it + 1 == known_.end()) ? known_.front() : *(it + 1);
      }
      if (r.error() != rpc::Error::timeout) co_await ctx_.sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    learn(*r);
    if (r->status == rsm::InvokeStatus::ok) {
      result = std::move(r->body);
      break;
    }
    if (r->status == rsm::InvokeStatus::forgotten) {
      ctx_.log("rsm client: request {} was forgotten by the primary", seq);
      result = rpc::Error::timeout;
      break;
    }
    if (r->status == rsm::InvokeStatus::not_primary) {
      const auto named = core::Address::from_raw(r->primary);
      if (named.valid() && named != to) {
        primary_ = named;
        continue;
      }
      // It names itself, or no one (it is not in a view yet): another replica.
      auto it = std::find(known_.begin(), known_.end(), to);
      if (!known_.empty()) {
        primary_ = (it == known_.end() || it + 1 == known_.end()) ? known_.front() : *(it + 1);
      }
      co_await ctx_.sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    // Busy: ask again in a moment; for long (a stale primary that cannot reach its members),
    // ask another replica.
    if (++busy % 25 == 0 && !known_.empty()) {
      auto it = std::find(known_.begin(), known_.end(), to);
      primary_ = (it == known_.end() || it + 1 == known_.end()) ? known_.front() : *(it + 1);
    }
    co_await ctx_.sleep_for(kBusyPause);
  }
  waiting_.erase(seq);
  co_return result;
  // SOLUTION STUB
  // // TODO(lab8 part 2): name the request (id_, the next sequence number, done_below), send it
  // // to the primary until it is ok (see the header for each other answer), until the timeout.
  // (void)service;
  // (void)procedure;
  // (void)body;
  // dsys::unimplemented("RsmClient::invoke");
  // co_return rpc::Error::timeout;
  // SOLUTION END
}

}  // namespace dsys::lab8
