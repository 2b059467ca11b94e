// dsys/multipaxos/client.cpp: see client.hpp.
#include "dsys/multipaxos/client.hpp"

#include <utility>

#include "dsys/core/error.hpp"

namespace dsys::multipaxos {

LogClient::LogClient(core::Context& ctx, std::map<NodeId, core::Address> nodes, std::uint64_t id,
                     NodeId first, OnSend on_send)
    : ctx_(ctx), nodes_(std::move(nodes)), id_(id), on_send_(std::move(on_send)) {
  if (nodes_.empty() || id_ == 0) throw UsageError("a LogClient needs a group and an id from 1");
  if (first != 0 && nodes_.contains(first)) {
    target_ = first;
  } else {
    auto it = nodes_.begin();
    std::advance(it, static_cast<long>(id_ % nodes_.size()));
    target_ = it->first;
  }
}

rpc::Client& LogClient::to(NodeId node) {
  auto& c = clients_[node];
  if (!c) c = std::make_unique<rpc::Client>(rpc::Endpoint::of(ctx_), nodes_.at(node), false);
  return *c;
}

core::Task<std::optional<Slot>> LogClient::append(std::string payload,
                                                  std::optional<core::Time> deadline) {
  Command command(id_, next_, std::move(payload));
  if (on_send_) on_send_(command);
  for (;;) {
    core::Duration wait = kCallTimeout;
    if (deadline) {
      if (ctx_.now() >= *deadline) co_return std::nullopt;
      wait = std::min(wait, *deadline - ctx_.now());
    }
    ++tries_;
    auto reply = co_await to(target_).call<Append>(AppendRequest(command), wait);
    if (reply && reply->status == AppendStatus::delivered) {
      ++next_;
      co_return reply->slot;
    }
    if (reply && reply->status == AppendStatus::not_leader && nodes_.contains(reply->leader)) {
      target_ = reply->leader;
    } else {
      auto it = nodes_.upper_bound(target_);
      target_ = it == nodes_.end() ? nodes_.begin()->first : it->first;
    }
    co_await ctx_.sleep_for(kBackoff);
  }
}

core::Task<std::optional<std::vector<Command>>> LogClient::read(NodeId at, core::Duration timeout) {
  std::vector<Command> out;
  for (;;) {
    auto reply = co_await to(at).call<Read>(ReadRequest(out.size() + 1), timeout);
    if (!reply) co_return std::nullopt;
    for (auto& c : reply->commands) out.push_back(std::move(c));
    if (reply->commands.size() < kMaxRead) co_return out;
  }
}

}  // namespace dsys::multipaxos
