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

// SOLUTION BEGIN
namespace {

// One change of an acceptor's state, as it is kept in its log.
struct Record {
  Record() = default;
  Record(char k, Instance i, ProposalNumber number, std::string v)
      : kind(static_cast<std::uint8_t>(k)), instance(i), n(number), value(std::move(v)) {}
  std::uint8_t kind = 0;  // 'P' promised n, 'A' accepted (n, value), 'D' decided value
  Instance instance = 0;
  ProposalNumber n;
  std::string value;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& kind& instance& n& value;
  }
};

std::size_t majority(std::size_t n) {
  return n / 2 + 1;
}

}  // namespace
// SOLUTION END

Acceptor::Acceptor(core::Context& ctx, OnDecided on_decided, MayVote may_vote)
    : ctx_(ctx),
      on_decided_(std::move(on_decided)),
      may_vote_(std::move(may_vote)),
      log_(ctx, std::string(kLogKey)),
      service_(ctx, paxos::kService, "paxos", {.refuse_other_incarnations = false}) {
  // SOLUTION BEGIN
  // Replay the log: each record is a change made (and synced) by an earlier incarnation.
  for (const std::string& bytes : log_.records()) {
    Record r;
    if (!rpc::decode(bytes, r)) {
      ctx_.log("paxos: a record of the acceptor's log does not decode; ignored");
      continue;
    }
    see(r.n);
    if (r.kind == 'D') {
      decisions_[r.instance] = r.value;
      slots_.erase(r.instance);
      continue;
    }
    if (decisions_.count(r.instance) != 0) continue;
    Slot& s = slots_[r.instance];
    if (r.kind == 'P') {
#ifdef DSYS_PLANTED_FORGET_PROMISES
      continue;  // the planted bug of tests/explore/ (lab 7): promises forgotten at restart
#endif
      s.n_h = std::max(s.n_h, r.n);
    } else if (r.kind == 'A') {
      s.n_h = std::max(s.n_h, r.n);
      s.n_a = r.n;
      s.v_a = r.value;
    }
  }
  if (!decisions_.empty()) {
    ctx_.log("paxos: acceptor recovered {} decisions, {} open instances", decisions_.size(),
             slots_.size());
  }
  // SOLUTION STUB
  // // TODO(lab7 part 1): read log_.records() back, oldest first, and rebuild your state,
  // // decisions_ and highest_round_ from them (a record that does not decode: skip it, and say so
  // // in ctx_.log).
  // dsys::unimplemented("Acceptor::Acceptor (replaying the log)");
  // SOLUTION END
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

// SOLUTION BEGIN
void Acceptor::record(char kind, Instance instance, ProposalNumber n, const std::string& value) {
  log_.append(rpc::encode(Record(kind, instance, n, value)));
  log_.sync();  // before the reply that reveals it leaves
}
// SOLUTION END

core::Task<PrepareReply> Acceptor::prepare(const PrepareRequest& request) {
  PrepareReply reply;
  reply.instance = request.instance;
  reply.n = request.n;
  // SOLUTION BEGIN
  see(request.n);
  if (auto d = decisions_.find(request.instance); d != decisions_.end()) {
    reply.outcome = Outcome::decided;  // "oldinstance": the proposer learns the value
    reply.decided = d->second;
    co_return reply;
  }
  Slot& s = slots_[request.instance];
  if (request.n > s.n_h) {  // phase 1b: promise never to accept below n
    s.n_h = request.n;
    record('P', request.instance, request.n, {});
    reply.outcome = Outcome::ok;
    reply.n_a = s.n_a;
    reply.v_a = s.v_a;
  } else {
    reply.outcome = Outcome::rejected;
    reply.n_h = s.n_h;
  }
  // SOLUTION STUB
  // // TODO(lab7 part 1): "decided" with the value of a decided instance; "ok" with (n_a, v_a)
  // // after a durable promise when n is above n_h; otherwise "rejected" with n_h.
  // dsys::unimplemented("Acceptor::prepare");
  // SOLUTION END
  co_return reply;
}

core::Task<AcceptReply> Acceptor::accept(const AcceptRequest& request) {
  AcceptReply reply;
  reply.instance = request.instance;
  reply.n = request.n;
  // SOLUTION BEGIN
  see(request.n);
  if (auto d = decisions_.find(request.instance); d != decisions_.end()) {
    reply.outcome = Outcome::decided;
    reply.decided = d->second;
    co_return reply;
  }
  Slot& s = slots_[request.instance];
  if (request.n >= s.n_h) {  // phase 2b (P1a): accept unless promised higher
    s.n_h = std::max(s.n_h, request.n);
    s.n_a = request.n;
    s.v_a = request.value;
    record('A', request.instance, request.n, request.value);
    reply.outcome = Outcome::ok;
  } else {
    reply.outcome = Outcome::rejected;
    reply.n_h = s.n_h;
  }
  // SOLUTION STUB
  // // TODO(lab7 part 1): "decided" for a decided instance; "ok" after durably accepting
  // // (n, value) when n is at least n_h; otherwise "rejected" with n_h.
  // dsys::unimplemented("Acceptor::accept");
  // SOLUTION END
  co_return reply;
}

core::Task<rpc::Empty> Acceptor::decide(const paxos::DecideRequest& request) {
  learn(request.instance, request.value);
  co_return rpc::Empty{};
}

void Acceptor::learn(Instance instance, const std::string& value) {
  // SOLUTION BEGIN
  if (decisions_.count(instance) != 0) return;
  decisions_[instance] = value;
  slots_.erase(instance);
  record('D', instance, {}, value);
  if (on_decided_) on_decided_(instance, value);
  // SOLUTION STUB
  // // TODO(lab7 part 1): once per instance: durable first, then on_decided_.
  // dsys::unimplemented("Acceptor::learn");
  // SOLUTION END
}

AcceptorState Acceptor::state(Instance instance) const {
  AcceptorState state;
  if (auto d = decisions_.find(instance); d != decisions_.end()) state.decided = d->second;
  // SOLUTION BEGIN
  if (auto s = slots_.find(instance); s != slots_.end()) {
    state.n_h = s->second.n_h;
    state.n_a = s->second.n_a;
    state.v_a = s->second.v_a;
  }
  // SOLUTION STUB
  // // TODO(lab7 part 1): n_h, n_a and v_a of an undecided instance.
  // dsys::unimplemented("Acceptor::state");
  // SOLUTION END
  return state;
}

// ------------------------------------------------------------------------------------ proposer

Proposer::Proposer(core::Context& ctx, Acceptor& local) : ctx_(ctx), local_(local), tasks_(ctx) {}

// SOLUTION BEGIN
// A number above every round used or seen here (unique: it carries this node's address).
ProposalNumber Proposer::next_number() {
  round_ = std::max(round_, local_.highest_round()) + 1;
  return {round_, ctx_.address().raw()};
}

rpc::Client& Proposer::client(core::Address to) {
  auto& c = clients_[to];
  if (!c) c = std::make_unique<rpc::Client>(rpc::Endpoint::of(ctx_), to, false);
  return *c;
}

core::Task<void> Proposer::send_decide(core::Address to, Instance instance, std::string value) {
  co_await client(to).call<paxos::Decide>(paxos::DecideRequest(instance, std::move(value)),
                                          kCallTimeout);
}
// SOLUTION END

core::Task<std::optional<std::string>> Proposer::propose(Instance instance,
                                                         std::vector<core::Address> acceptors,
                                                         std::string value) {
  // SOLUTION BEGIN
  std::sort(acceptors.begin(), acceptors.end());
  acceptors.erase(std::unique(acceptors.begin(), acceptors.end()), acceptors.end());
  if (auto d = local_.state(instance).decided) co_return d;
  const std::size_t need = majority(acceptors.size());
  const ProposalNumber n = next_number();

  // Phase 1: prepare.
  std::vector<core::Task<rpc::CallResult<PrepareReply>>> prepares;
  prepares.reserve(acceptors.size());
  for (core::Address a : acceptors) {
    prepares.push_back(client(a).call<paxos::Prepare>(PrepareRequest(instance, n), kCallTimeout));
  }
  std::uint64_t rejected_round = 0;  // the highest promise that outranked n
  auto promised = co_await core::first_k(
      ctx_, std::move(prepares), need, [&](const rpc::CallResult<PrepareReply>& r) {
        if (r && r->outcome == Outcome::rejected) {
          rejected_round = std::max(rejected_round, r->n_h.round);
        }
        return r && r->outcome != Outcome::rejected;
      });
  ProposalNumber highest;
  std::string chosen = std::move(value);
  for (const auto& r : promised.values) {
    if (r->outcome == Outcome::decided) {  // an instance decided already: adopt its value
      local_.learn(instance, r->decided);
      co_return r->decided;
    }
#ifndef DSYS_PLANTED_IGNORE_V_A                // (the other planted bug of tests/explore/)
    if (!r->n_a.none() && r->n_a > highest) {  // P2c: the value of the highest acceptance
      highest = r->n_a;
      chosen = r->v_a;
    }
#endif
  }
  if (!promised.reached) {
    round_ = std::max(round_, rejected_round);  // the next try goes above it
    co_return std::nullopt;
  }
  ctx_.breakpoint(kPrepared);

  // Phase 2: accept.
  std::vector<core::Task<rpc::CallResult<AcceptReply>>> accepts;
  accepts.reserve(acceptors.size());
  for (core::Address a : acceptors) {
    accepts.push_back(
        client(a).call<paxos::Accept>(AcceptRequest(instance, n, chosen), kCallTimeout));
  }
  auto accepted = co_await core::first_k(
      ctx_, std::move(accepts), need, [&](const rpc::CallResult<AcceptReply>& r) {
        if (r && r->outcome == Outcome::rejected) {
          rejected_round = std::max(rejected_round, r->n_h.round);
        }
        return r && r->outcome != Outcome::rejected;
      });
  for (const auto& r : accepted.values) {
    if (r->outcome == Outcome::decided) {
      local_.learn(instance, r->decided);
      co_return r->decided;
    }
  }
  if (!accepted.reached) {
    round_ = std::max(round_, rejected_round);
    co_return std::nullopt;
  }
  ctx_.breakpoint(kAccepted);

  // Phase 3: decided. The local acceptor first (durable), then everyone else, in the background.
  local_.learn(instance, chosen);
  for (core::Address a : acceptors) {
    if (a != ctx_.address()) tasks_.spawn(send_decide(a, instance, chosen));
  }
  co_return chosen;
  // SOLUTION STUB
  // // TODO(lab7 part 2): see paxos.hpp. core::first_k (dsys/core/combinators.hpp) waits for a
  // // majority of calls; remember to call ctx_.breakpoint(kPrepared) and
  // // ctx_.breakpoint(kAccepted).
  // dsys::unimplemented("Proposer::propose");
  // co_return std::nullopt;
  // SOLUTION END
}

}  // namespace dsys::lab7
