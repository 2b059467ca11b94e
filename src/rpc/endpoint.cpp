#include "dsys/rpc/endpoint.hpp"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "dsys/core/error.hpp"

namespace dsys::rpc {

using core::Address;
using core::Bytes;
using core::Duration;

Options Options::from_environment() {
  Options o;
  if (const char* every = std::getenv("DSYS_RPC_COUNT"); every != nullptr && *every != '\0') {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(every, &end, 10);
    if (end == every || *end != '\0')
      throw UsageError(fmt::format("DSYS_RPC_COUNT={} is not a number", every));
    o.stats_every = n;
  }
  return o;
}

namespace {
Nonce random_nonce(core::Rng& rng) {
  Nonce n = 0;
  while (n == 0) n = static_cast<Nonce>(rng.next());
  return n;
}
}  // namespace

// ---------------------------------------------------------------- Endpoint

Endpoint& Endpoint::of(core::Context& ctx) {
  if (ctx.receiver() == nullptr) {
    ctx.own_receiver(std::make_unique<Endpoint>(Key{}, ctx, Options::from_environment()));
  }
  auto* endpoint = dynamic_cast<Endpoint*>(ctx.receiver());
  if (endpoint == nullptr) {
    throw UsageError(fmt::format("node {} receives its messages elsewhere: it has no rpc::Endpoint",
                                 ctx.name()));
  }
  return *endpoint;
}

Endpoint::Endpoint(Key, core::Context& ctx, Options options)
    : ctx_(ctx), options_(options), server_nonce_(random_nonce(ctx.rng())) {}

Endpoint::~Endpoint() {
  if (ctx_.receiver() == this) ctx_.set_receiver(nullptr);
}

void Endpoint::add_service(ServiceId id, std::string name, ServicePolicy policy) {
  if (auto it = services_.find(id); it != services_.end()) {
    throw UsageError(fmt::format("service id {} is taken twice on node {}: by '{}' and by '{}'", id,
                                 ctx_.name(), it->second.name, name));
  }
  services_.emplace(id, Registered{std::move(name), policy, {}});
}

void Endpoint::remove_service(ServiceId id) {
  services_.erase(id);
}

void Endpoint::add_procedure(ServiceId service, ProcedureId id, std::string_view name,
                             Starter start) {
  name_procedure(service, id, name);
  Registered& s = services_.at(service);
  if (auto it = s.procedures.find(id); it != s.procedures.end()) {
    throw UsageError(fmt::format("procedure {}.{} is served twice: as {} and as {}", service, id,
                                 it->second.name, name));
  }
  s.procedures.emplace(id, Served{name, std::move(start)});
}

Nonce Endpoint::add_client(Client* client) {
  Nonce nonce = random_nonce(ctx_.rng());
  while (clients_.contains(nonce)) nonce = random_nonce(ctx_.rng());
  clients_.emplace(nonce, client);
  return nonce;
}

void Endpoint::remove_client(Nonce nonce) {
  clients_.erase(nonce);
}

void Endpoint::count(ServiceId service, ProcedureId id, std::string_view name,
                     std::uint64_t ProcedureStats::*field) {
  ProcedureStats& s = stats_[{service, id}];
  if (s.name.empty()) {
    s.name = name;
    name_procedure(service, id, name);  // for describe(), in traces
  }
  ++(s.*field);
  if (field == &ProcedureStats::failed || field == &ProcedureStats::resent) return;
  ++total_counted_;
  if (options_.stats_every != 0 && total_counted_ % options_.stats_every == 0) {
    ctx_.log("{}", stats_line());
  }
}

std::string Endpoint::stats_line() const {
  std::string line = "RPC STATS:";
  for (const auto& [key, s] : stats_) {
    line += fmt::format(" {}({}.{}) calls={} failed={} served={} resent={};", s.name, key.first,
                        key.second, s.calls, s.failed, s.served, s.resent);
  }
  return line;
}

void Endpoint::on_message(Address from, Bytes message) {
  std::string why;
  std::optional<Header> h = read_header(message, &why);
  if (!h) {
    ctx_.log("rpc: dropping a malformed message from {}: {}", from.to_string(), why);
    ctx_.disconnect(from, why);
    return;
  }
  const std::string_view body = std::string_view(message).substr(kHeaderSize);
  if (h->kind == Kind::request) {
    handle_request(from, *h, body);
    return;
  }
  auto it = clients_.find(h->client_nonce);
  if (it != clients_.end()) it->second->on_reply(*h, body);
}

void Endpoint::on_unreachable(Address to) {
  std::vector<Client*> affected;
  for (const auto& [nonce, client] : clients_) {
    if (client->server() == to) affected.push_back(client);
  }
  for (Client* c : affected) c->on_unreachable();
}

void Endpoint::handle_request(Address from, const Header& h, std::string_view body) {
  auto service = services_.find(h.service);
  if (service == services_.end()) {
    send_reply(from, h, Error::unknown_procedure, {});
    return;
  }
  Registered& s = service->second;
  if (s.policy.dispatch_only) {  // replicated: its requests come through the RSM only
    send_reply(from, h, Error::unknown_procedure, {});
    return;
  }
  if (s.policy.refuse_other_incarnations && h.server_nonce != 0 &&
      h.server_nonce != server_nonce_) {
    send_reply(from, h, Error::server_restarted, {});
    return;
  }
  auto it = s.procedures.find(h.procedure);
  if (it == s.procedures.end()) {
    send_reply(from, h, Error::unknown_procedure, {});
    return;
  }
  const CallInfo info{from, h.client_nonce, h.xid, h.service, h.procedure};
  std::optional<core::Task<Bytes>> work = it->second.start(body, info);
  if (!work) {
    ctx_.log("rpc: request {} from {} for {} did not decode", h.xid, from.to_string(),
             it->second.name);
    send_reply(from, h, Error::decode_failure, {});
    ctx_.disconnect(from, "request body did not decode");
    return;
  }
  if (s.policy.filter == nullptr) {
    count(h.service, h.procedure, it->second.name, &ProcedureStats::served);
    ctx_.spawn_now(finish_request(from, h, std::move(*work)));
    return;
  }
  Bytes saved;
  switch (s.policy.filter->admit(h.client_nonce, h.xid, h.xid_rep, saved)) {
    case Admission::fresh:
      count(h.service, h.procedure, it->second.name, &ProcedureStats::served);
      ctx_.spawn_now(finish_request(from, h, std::move(*work)));
      return;
    case Admission::in_progress:
      return;  // the reply will follow when the first copy finishes
    case Admission::done:
      count(h.service, h.procedure, it->second.name, &ProcedureStats::resent);
      send_reply(from, h, Error{}, saved);
      return;
    case Admission::forgotten:
      send_reply(from, h, Error::forgotten, {});
      return;
  }
}

core::Task<void> Endpoint::finish_request(Address from, Header header, core::Task<Bytes> work) {
  Bytes reply = co_await std::move(work);
  // The service may have gone meanwhile (see the threading contract): then nothing is recorded.
  if (auto it = services_.find(header.service);
      it != services_.end() && it->second.policy.filter != nullptr) {
    it->second.policy.filter->record(header.client_nonce, header.xid, reply);
  }
  send_reply(from, header, Error{}, reply);
}

core::Task<CallResult<Bytes>> Endpoint::dispatch(ServiceId service, ProcedureId procedure,
                                                 Bytes body, CallInfo call) {
  call.service = service;
  call.procedure = procedure;
  auto s = services_.find(service);
  if (s == services_.end()) co_return Error::unknown_procedure;
  auto it = s->second.procedures.find(procedure);
  if (it == s->second.procedures.end()) co_return Error::unknown_procedure;
  std::optional<core::Task<Bytes>> work = it->second.start(body, call);
  if (!work) co_return Error::decode_failure;
  co_return co_await std::move(*work);
}

void Endpoint::send_reply(Address to, const Header& request, Error status, std::string_view body) {
  Header h = request;
  h.kind = Kind::reply;
  h.status = static_cast<std::uint8_t>(status);
  h.server_nonce = server_nonce_;
  h.xid_rep = 0;
  Bytes message;
  message.reserve(kHeaderSize + body.size());
  write_header(message, h);
  message.append(body);
  ctx_.send(to, std::move(message));
}

// ---------------------------------------------------------------- Service

Service::Service(core::Context& ctx, ServiceId id, std::string name, ServicePolicy policy)
    : endpoint_(Endpoint::of(ctx)), id_(id) {
  endpoint_.add_service(id, std::move(name), policy);
}

Service::~Service() {
  endpoint_.remove_service(id_);
}

void Service::check_service(ServiceId of_procedure, std::string_view procedure) const {
  if (of_procedure != id_) {
    throw UsageError(fmt::format("{} belongs to service {}, not to service {} ('{}')", procedure,
                                 of_procedure, id_, endpoint_.services_.at(id_).name));
  }
}

// ---------------------------------------------------------------- Client

// One call in flight: where its reply lands, and the suspended caller to wake.
struct Client::Pending {
  explicit Pending(core::Context& ctx) : waiter(ctx) {}
  core::Waiter waiter;
  bool done = false;
  std::optional<Error> error;
  Bytes reply;

  struct Wait {
    Pending& pending;
    core::Time until;
    bool await_ready() const noexcept { return pending.done; }
    void await_suspend(std::coroutine_handle<> h) { pending.waiter.suspend_until(h, until); }
    void await_resume() const noexcept {}
  };
  Wait wait_until(core::Time t) { return Wait{*this, t}; }
  void finish(std::optional<Error> e, Bytes body) {
    if (done) return;
    done = true;
    error = e;
    reply = std::move(body);
  }
};

Client::Client(Endpoint& endpoint, Address server, bool detect_restarts)
    : endpoint_(endpoint),
      server_(server),
      nonce_(endpoint.add_client(this)),
      detect_restarts_(detect_restarts) {}

Client::~Client() {
  endpoint_.remove_client(nonce_);
}

Xid Client::xid_rep() const {
  return outstanding_.empty() ? next_xid_ - 1 : *outstanding_.begin() - 1;
}

void Client::rebind() {
  endpoint_.remove_client(nonce_);
  nonce_ = endpoint_.add_client(this);
  bound_server_ = 0;
  next_xid_ = 1;
  outstanding_.clear();
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [xid, p] : pending) {
    p->finish(Error::server_restarted, {});
    if (p->waiter.id() != 0) endpoint_.ctx_.post_wake(p->waiter.id());
  }
}

core::Task<CallResult<Bytes>> Client::call_raw(ServiceId service, ProcedureId id,
                                               std::string_view name, Bytes body,
                                               Duration timeout) {
  core::Context& ctx = endpoint_.ctx_;
  endpoint_.count(service, id, name, &ProcedureStats::calls);
  if (relay_ != nullptr) {
    auto relayed = co_await relay_->relay(service, id, std::move(body), timeout);
    if (!relayed) endpoint_.count(service, id, name, &ProcedureStats::failed);
    co_return relayed;
  }
  const Xid xid = next_xid_++;
  const Nonce nonce = nonce_;
  outstanding_.insert(xid);

  Bytes message;
  message.reserve(kHeaderSize + body.size());
  write_header(message,
               Header{Kind::request, 0, service, id, nonce_, bound_server_, xid, xid_rep()});
  message.append(body);

  Pending pending(ctx);
  pending_.emplace(xid, &pending);
  struct Forget {  // however the call ends (even destroyed by a crash), it is no longer in flight
    Client& client;
    Nonce nonce;
    Xid xid;
    ~Forget() {
      if (client.nonce_ != nonce) return;  // rebound meanwhile: that state is gone already
      client.pending_.erase(xid);
      client.outstanding_.erase(xid);
    }
  } forget{*this, nonce, xid};

  const core::Time deadline = ctx.now() + timeout;
  Duration interval = endpoint_.options_.first_retransmit;
  ctx.send(server_, message);
  while (true) {
    co_await pending.wait_until(std::min(deadline, ctx.now() + interval));
    if (pending.done) break;
    if (ctx.now() >= deadline) {
      pending.finish(Error::timeout, {});
      break;
    }
    ctx.send(server_, message);  // retransmit: same xid, so the server can filter it
    interval = std::min(interval * 2, endpoint_.options_.max_retransmit);
  }
  if (pending.error) {
    endpoint_.count(service, id, name, &ProcedureStats::failed);
    co_return *pending.error;
  }
  co_return std::move(pending.reply);
}

void Client::on_reply(const Header& h, std::string_view body) {
  auto it = pending_.find(h.xid);
  if (it == pending_.end()) return;  // a late or duplicated reply
  Pending& p = *it->second;
  std::optional<Error> error;
  if (h.status != 0) {
    error = static_cast<Error>(h.status);
  } else if (!detect_restarts_) {
    // any incarnation will do
  } else if (bound_server_ != 0 && h.server_nonce != bound_server_) {
    error = Error::server_restarted;
  } else {
    bound_server_ = h.server_nonce;
  }
  p.finish(error, Bytes(body));
  // The caller runs after this event, like every wake-up: never inside message delivery.
  if (p.waiter.id() != 0) endpoint_.ctx_.post_wake(p.waiter.id());
}

void Client::on_unreachable() {
  for (auto& [xid, p] : pending_) {
    p->finish(Error::unreachable, {});
    if (p->waiter.id() != 0) endpoint_.ctx_.post_wake(p->waiter.id());
  }
}

}  // namespace dsys::rpc
