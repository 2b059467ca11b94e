// lab 7: Paxos — the acceptor and the proposer. See paxos.hpp for the contract.
#include "paxos.hpp"

#include <algorithm>
#include <utility>

#include "dsys/core/combinators.hpp"
#include "dsys/core/error.hpp"
#include "dsys/rpc/marshal.hpp"

namespace dsys::lab7 {

using paxos::AcceptReply;
using paxos::AcceptRequest;
using paxos::Outcome;
using paxos::PrepareReply;
using paxos::PrepareRequest;

Acceptor::Acceptor(core::Context& ctx, OnDecided on_decided, MayVote may_vote)
    : ctx_(ctx),
      on_decided_(std::move(on_decided)),
      may_vote_(std::move(may_vote)),
      log_(ctx, std::string(kLogKey)),
      service_(ctx, paxos::kService, "paxos", {.refuse_other_incarnations = false}) {
  // TODO(lab7 part 1): read log_.records() back, oldest first, and rebuild your state,
  // decisions_ and highest_round_ from them (a record that does not decode: skip it, and say so
  // in ctx_.log).
  dsys::unimplemented("Acceptor::Acceptor (replaying the log)");
  service_.serve<paxos::Prepare>(
      [this](const PrepareRequest& r, const rpc::CallInfo&) { return prepare_if_voting(r); });
  service_.serve<paxos::Accept>(
      [this](const AcceptRequest& r, const rpc::CallInfo&) { return accept_if_voting(r); });
  service_.serve<paxos::Decide>(
      [this](const paxos::DecideRequest& r, const rpc::CallInfo&) { return decide(r); });
}

bool Acceptor::abstains(Instance instance) const {
  return may_vote_ && !may_vote_() && !state(instance).decided;
}

// A refusal says rejected, with an n_h not below the request's n: the proposer tries a higher
// number later, and by then this node may vote (or a majority without it has decided).
template <class Reply, class Request>
static Reply refusal(const Request& request, ProposalNumber n_h) {
  Reply refused;
  refused.outcome = Outcome::rejected;
  refused.instance = request.instance;
  refused.n = request.n;
  refused.n_h = std::max(n_h, request.n);
  return refused;
}

core::Task<PrepareReply> Acceptor::prepare_if_voting(const PrepareRequest& request) {
  if (!abstains(request.instance)) co_return co_await prepare(request);
  co_return refusal<PrepareReply>(request, state(request.instance).n_h);
}

core::Task<AcceptReply> Acceptor::accept_if_voting(const AcceptRequest& request) {
  if (!abstains(request.instance)) co_return co_await accept(request);
  co_return refusal<AcceptReply>(request, state(request.instance).n_h);
}

core::Task<PrepareReply> Acceptor::prepare(const PrepareRequest& request) {
  PrepareReply reply;
  reply.instance = request.instance;
  reply.n = request.n;
  // TODO(lab7 part 1): "decided" with the value of a decided instance; "ok" with (n_a, v_a)
  // after a durable promise when n is above n_h; otherwise "rejected" with n_h.
  dsys::unimplemented("Acceptor::prepare");
  co_return reply;
}

core::Task<AcceptReply> Acceptor::accept(const AcceptRequest& request) {
  AcceptReply reply;
  reply.instance = request.instance;
  reply.n = request.n;
  // TODO(lab7 part 1): "decided" for a decided instance; "ok" after durably accepting
  // (n, value) when n is at least n_h; otherwise "rejected" with n_h.
  dsys::unimplemented("Acceptor::accept");
  co_return reply;
}

core::Task<rpc::Empty> Acceptor::decide(const paxos::DecideRequest& request) {
  learn(request.instance, request.value);
  co_return rpc::Empty{};
}

void Acceptor::learn(Instance instance, const std::string& value) {
  // TODO(lab7 part 1): once per instance: durable first, then on_decided_.
  dsys::unimplemented("Acceptor::learn");
}

AcceptorState Acceptor::state(Instance instance) const {
  AcceptorState state;
  if (auto d = decisions_.find(instance); d != decisions_.end()) state.decided = d->second;
  // TODO(lab7 part 1): n_h, n_a and v_a of an undecided instance.
  dsys::unimplemented("Acceptor::state");
  return state;
}

// ------------------------------------------------------------------------------------ proposer

Proposer::Proposer(core::Context& ctx, Acceptor& local) : ctx_(ctx), local_(local), tasks_(ctx) {}

core::Task<std::optional<std::string>> Proposer::propose(Instance instance,
                                                         std::vector<core::Address> acceptors,
                                                         std::string value) {
  // TODO(lab7 part 2): see paxos.hpp. core::first_k (dsys/core/combinators.hpp) waits for a
  // majority of calls; remember to call ctx_.breakpoint(kPrepared) and
  // ctx_.breakpoint(kAccepted).
  dsys::unimplemented("Proposer::propose");
  co_return std::nullopt;
}

}  // namespace dsys::lab7
