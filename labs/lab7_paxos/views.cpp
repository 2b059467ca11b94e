// lab 7: views — who is alive, agreed by Paxos. (Given.) See views.hpp.
#include "views.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "dsys/core/combinators.hpp"
#include "dsys/rpc/marshal.hpp"

namespace dsys::lab7 {

bool View::has(core::Address a) const {
  return std::find(members.begin(), members.end(), a) != members.end();
}

std::string View::to_string() const {
  std::string out = fmt::format("view {}:", number);
  for (core::Address a : members) {
    out += ' ';
    out += a.to_string();
  }
  return out;
}

std::string encode_members(const std::vector<core::Address>& members) {
  std::vector<std::uint64_t> raw;
  raw.reserve(members.size());
  for (core::Address a : members) raw.push_back(a.raw());
  return rpc::encode(raw);
}

std::optional<std::vector<core::Address>> decode_members(const std::string& value) {
  std::vector<std::uint64_t> raw;
  if (!rpc::decode(value, raw) || raw.empty()) return std::nullopt;
  std::vector<core::Address> members;
  members.reserve(raw.size());
  for (std::uint64_t r : raw) members.push_back(core::Address::from_raw(r));
  return members;
}

Views::Views(core::Context& ctx, core::Address first, Acceptor& acceptor, Proposer& proposer,
             OnView on_view, OnPropose on_propose, MayVote may_vote)
    : ctx_(ctx),
      acceptor_(acceptor),
      proposer_(proposer),
      on_view_(std::move(on_view)),
      on_propose_(std::move(on_propose)),
      may_vote_(std::move(may_vote)),
      service_(ctx, paxos::kViewService, "views"),
      tasks_(ctx) {
  views_[1] = View{1, {first}};
  for (const auto& [instance, value] : acceptor_.decisions()) {
    if (auto members = decode_members(value)) views_[instance] = View{instance, *members};
  }
  service_.serve<paxos::Heartbeat>(
      [this](const paxos::HeartbeatMessage& r, const rpc::CallInfo&) { return answer(r); });
  tasks_.spawn(run());
}

void Views::learned(Instance instance, const std::string& value) {
  auto members = decode_members(value);
  if (!members || instance < 2 || views_.count(instance) != 0) return;
  const bool latest = instance > current().number;
  views_[instance] = View{instance, *members};
  if (!latest) return;
  ctx_.log("{}", current().to_string());
  // Members of a new view get a fresh allowance before they are suspected.
  last_answer_.clear();
  if (on_view_) on_view_(current());
}

core::Task<paxos::HeartbeatMessage> Views::answer(const paxos::HeartbeatMessage& request) {
  if (request.view > current().number && decode_members(request.members)) {
    acceptor_.learn(request.view, request.members);  // durable; calls learned()
  }
  co_return paxos::HeartbeatMessage(current().number, encode_members(current().members));
}

rpc::Client& Views::client(core::Address to) {
  auto& c = clients_[to];
  if (!c) c = std::make_unique<rpc::Client>(rpc::Endpoint::of(ctx_), to, false);
  return *c;
}

core::Duration Views::jitter(core::Duration most) {
  return core::Duration(static_cast<core::Duration::rep>(
      ctx_.rng().below(static_cast<std::uint64_t>(most.count()) + 1)));
}

core::Task<void> Views::run() {
  ctx_.log("starting in {}", current().to_string());
  for (;;) {
    if (member()) {
      co_await heartbeat();
      co_await ctx_.sleep_for(kHeartbeatEvery);
    } else {
      // Again at once while it catches up (each try taught it a later view); else after a while.
      const Instance before = current().number;
      co_await join();
      if (current().number == before) co_await ctx_.sleep_for(kJoinEvery + jitter(kJoinEvery / 2));
    }
  }
}

core::Task<void> Views::propose(std::vector<core::Address> members) {
  const View before = current();
  const Instance next = before.number + 1;
  const std::string value = encode_members(members);
  if (on_propose_) on_propose_(next, value);
  std::optional<std::string> decided = co_await proposer_.propose(next, before.members, value);
  // The acceptor has learned it (and so have we, through learned()) when it was decided.
  if (decided) learned(next, *decided);
}

core::Task<void> Views::join() {
  std::vector<core::Address> members = current().members;
  members.push_back(ctx_.address());
  co_await propose(std::move(members));
}

core::Task<void> Views::ping(core::Address peer) {
  auto reply = co_await client(peer).call<paxos::Heartbeat>(
      paxos::HeartbeatMessage(current().number, encode_members(current().members)),
      kHeartbeatEvery);
  if (!reply) co_return;
  last_answer_[peer] = ctx_.now();
  if (reply->view > current().number && decode_members(reply->members)) {
    acceptor_.learn(reply->view, reply->members);  // durable; calls learned()
  }
}

core::Task<void> Views::heartbeat() {
  const View view = current();
  std::vector<core::Address> peers;
  if (primary() == ctx_.address()) {
    for (core::Address a : view.members) {
      if (a != ctx_.address()) peers.push_back(a);
    }
  } else {
    peers.push_back(primary());
  }
  for (core::Address a : peers) last_answer_.try_emplace(a, ctx_.now());
  std::vector<core::Task<void>> pings;
  pings.reserve(peers.size());
  for (core::Address a : peers) pings.push_back(ping(a));
  co_await core::when_all(ctx_, std::move(pings));
  if (current().number != view.number || !member()) co_return;  // a new view came meanwhile

  std::vector<core::Address> alive;
  bool suspect = false;
  for (core::Address a : view.members) {
    auto heard = last_answer_.find(a);
    if (heard != last_answer_.end() && ctx_.now() - heard->second >= kSuspectAfter) {
      ctx_.log("no answer from {} for {} ms: proposing a view without it", a.to_string(),
               std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.now() - heard->second)
                   .count());
      suspect = true;
    } else {
      alive.push_back(a);
    }
  }
  if (!suspect && !stuck(view.number + 1)) co_return;
  if (may_vote_ && !may_vote_()) {
    ctx_.log("may not help form a view yet (no state here): leaving it to the others");
    co_return;
  }
  if (!suspect) {
    ctx_.log(
        "instance {} was accepted here {} ms ago and is not decided: finishing it", view.number + 1,
        std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.now() - open_->since).count());
  }
  co_await ctx_.sleep_for(jitter(kHeartbeatEvery / 2));  // so that two proposers do not collide
  if (current().number != view.number) co_return;
  co_await propose(std::move(alive));
}

bool Views::stuck(Instance next) {
  const AcceptorState state = acceptor_.state(next);
  if (state.decided || state.n_a.none()) {
    open_.reset();
    return false;
  }
  if (!open_ || open_->instance != next || open_->n_a != state.n_a) {
    open_ = Open{next, state.n_a, ctx_.now()};
    return false;
  }
  return ctx_.now() - open_->since >= kSuspectAfter;
}

}  // namespace dsys::lab7
