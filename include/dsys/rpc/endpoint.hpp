// dsys/rpc/endpoint.hpp: typed RPC over a node's Context, the same in both worlds.
//
// A node has one Endpoint, owned by its Context (`rpc::Endpoint::of(ctx)`). Each service the
// node hosts registers on it as an rpc::Service under its service id and serves procedures with
// coroutine handlers; the node calls other nodes through a Client per server it talks to:
//
//   rpc::Service service(ctx, lock::kService, "lock", {.filter = &window});  // a member
//   service.serve<lock::Acquire>([this](const lock::LockRequest& r, const rpc::CallInfo& call)
//                                    -> core::Task<lock::Status> { ... });
//
//   rpc::Client server(rpc::Endpoint::of(ctx), server_address);
//   rpc::CallResult<lock::Status> r = co_await server.call<lock::Acquire>(request, 5s);
//   if (!r) ... r.error() is an rpc::Error: timeout, unreachable, server_restarted, ...
//
// Semantics (see docs/architecture.md, "RPC"):
// - A call retransmits its request (with growing intervals) until a reply or its deadline.
//   Without a DuplicateFilter a request may therefore run more than once; with lab 1's filter it
//   runs at most once per server incarnation.
// - Each request runs as its own coroutine: a handler that waits (co_await) holds up no one.
// - Network faults never throw: they come back as rpc::Error. An exception thrown by a handler is
//   a bug and fails the server node.
// - A message that does not parse is dropped, logged, and its connection closed; the endpoint
//   goes on serving everyone else.
//
// Threading contract: an Endpoint, its Services and its Clients belong to one node and run on its
// executor. A Client must outlive the calls it has in flight. The Context owns the Endpoint and
// destroys it last (after the node's tasks and services), so it outlives every Service and
// Client. Handlers run as the node's tasks: a Service is destroyed with its node (a crash or a
// program's end, when the tasks go first) or once no request of its own is running.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "dsys/core/context.hpp"
#include "dsys/rpc/duplicate_filter.hpp"
#include "dsys/rpc/error.hpp"
#include "dsys/rpc/marshal.hpp"
#include "dsys/rpc/procedure.hpp"
#include "dsys/rpc/wire.hpp"

namespace dsys::rpc {

using namespace std::chrono_literals;

struct Options {
  core::Duration first_retransmit = 100ms;  // a call resends after this long without a reply,
  core::Duration max_retransmit = 1s;       // then after twice as long each time, up to this
  core::Duration default_timeout = 10s;     // for call() without a timeout
  std::uint64_t stats_every = 0;            // log an "RPC STATS" line every N calls (0: never)

  // Defaults, with stats_every taken from DSYS_RPC_COUNT when it is set.
  static Options from_environment();
};

// Who is calling, for a handler.
struct CallInfo {
  core::Address from;  // the caller's node: its listening address in the real world
  Nonce client = 0;
  Xid xid = 0;
  ServiceId service = 0;
  ProcedureId procedure = 0;
};

// Counters for one procedure, as seen by one endpoint.
struct ProcedureStats {
  std::string_view name;
  std::uint64_t calls = 0;   // calls this endpoint made
  std::uint64_t failed = 0;  // of those, how many ended in an rpc::Error
  std::uint64_t served = 0;  // requests this endpoint ran (fresh admissions)
  std::uint64_t resent = 0;  // saved replies sent again to retransmissions
};

// How a service treats the requests it receives.
struct ServicePolicy {
  // Consulted before a request runs (at-most-once, lab 1). Null: every copy runs. It must
  // outlive the service's requests; typically it is a member of the same object as the Service.
  DuplicateFilter* filter = nullptr;
  // A request addressed to an earlier incarnation of this node is answered with
  // Error::server_restarted instead of running (the at-most-once contract across restarts). A
  // service whose state is durable (Paxos) may accept them.
  bool refuse_other_incarnations = true;
  // Requests from the network are answered Error::unknown_procedure: only Endpoint::dispatch
  // runs its procedures. For a replicated service (lab 8), whose requests must reach it through
  // the replicated state machine, in the order it gives, and never directly.
  bool dispatch_only = false;
};

class Client;
class Service;

class Endpoint final : public core::Receiver {
  struct Key {};  // only of() makes Endpoints

 public:
  // The node's endpoint, made on first use and owned by `ctx`.
  static Endpoint& of(core::Context& ctx);
  Endpoint(Key, core::Context& ctx, Options options);
  ~Endpoint() override;
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  core::Context& context() const { return ctx_; }
  const Options& options() const { return options_; }
  void set_options(const Options& options) { options_ = options; }
  // This incarnation's identity: random, nonzero, new at every start of the node.
  Nonce server_nonce() const { return server_nonce_; }

  // Runs procedure (service, procedure) of a service on this node on `body`, as a request from
  // `call.from` would, but without the duplicate filter or the incarnation check, and returns the
  // reply's bytes, or Error::unknown_procedure (no such procedure here) or Error::decode_failure
  // (`body` is not its request). For a replicated state machine that replays marshalled requests
  // on every replica. The body is decoded before the first suspension.
  core::Task<CallResult<core::Bytes>> dispatch(ServiceId service, ProcedureId procedure,
                                               core::Bytes body, CallInfo call);

  // Counters per procedure (as `stats<P>()` or by (service, procedure)).
  using StatsKey = std::pair<ServiceId, ProcedureId>;
  const std::map<StatsKey, ProcedureStats>& stats() const { return stats_; }
  template <Procedure P>
  ProcedureStats stats() const {
    auto it = stats_.find({P::kService, P::kId});
    return it == stats_.end() ? ProcedureStats{P::kName} : it->second;
  }
  // "RPC STATS: lock.acquire(1.1) calls=10 served=0 ...", one entry per procedure.
  std::string stats_line() const;

  // core::Receiver
  void on_message(core::Address from, core::Bytes message) override;
  void on_unreachable(core::Address to) override;

 private:
  friend class Client;
  friend class Service;
  using Starter =
      std::function<std::optional<core::Task<core::Bytes>>(std::string_view, const CallInfo&)>;
  struct Served {
    std::string_view name;
    Starter start;
  };
  struct Registered {
    std::string name;
    ServicePolicy policy;
    std::map<ProcedureId, Served> procedures;
  };

  void add_service(ServiceId id, std::string name, ServicePolicy policy);
  void remove_service(ServiceId id);
  void add_procedure(ServiceId service, ProcedureId id, std::string_view name, Starter start);
  core::Task<void> finish_request(core::Address from, Header header, core::Task<core::Bytes> work);
  void handle_request(core::Address from, const Header& h, std::string_view body);
  void send_reply(core::Address to, const Header& request, Error status, std::string_view body);
  void count(ServiceId service, ProcedureId id, std::string_view name,
             std::uint64_t ProcedureStats::*field);
  Nonce add_client(Client* client);
  void remove_client(Nonce nonce);

  core::Context& ctx_;
  Options options_;
  Nonce server_nonce_;
  std::map<ServiceId, Registered> services_;
  std::map<Nonce, Client*> clients_;
  std::map<StatsKey, ProcedureStats> stats_;
  std::uint64_t total_counted_ = 0;
};

// One service of a node, registered on the node's endpoint for as long as this object lives
// (make it a member of the object that implements the service). Serving one (service, procedure)
// twice, or registering one service id twice on a node, is a UsageError naming both.
class Service {
 public:
  Service(core::Context& ctx, ServiceId id, std::string name, ServicePolicy policy = {});
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  ServiceId id() const { return id_; }
  Endpoint& endpoint() const { return endpoint_; }

  // Serves procedure P (of this service). `handler(const P::Request&, const CallInfo&)` returns
  // core::Task<P::Reply>; it is kept as long as the service. When P declares
  // `static bool valid(const Request&)`, a request it rejects is answered like one that does not
  // decode (Error::decode_failure) and never reaches the handler.
  template <Procedure P, class H>
  void serve(H handler) {
    check_service(P::kService, P::kName);
    endpoint_.add_procedure(
        id_, P::kId, P::kName,
        [handler = std::move(handler)](std::string_view body, const CallInfo& info) mutable
        -> std::optional<core::Task<core::Bytes>> {
          typename P::Request request;
          if (!decode(body, request)) return std::nullopt;
          if constexpr (requires { P::valid(request); }) {
            if (!P::valid(request)) return std::nullopt;  // outside the protocol's bounds
          }
          return run_handler<P>(handler, std::move(request), info);
        });
  }

 private:
  template <Procedure P, class H>
  static core::Task<core::Bytes> run_handler(H& handler, typename P::Request request,
                                             CallInfo info) {
    typename P::Reply reply = co_await handler(std::as_const(request), std::as_const(info));
    co_return encode(reply);
  }
  void check_service(ServiceId of_procedure, std::string_view procedure) const;

  Endpoint& endpoint_;
  ServiceId id_;
};

// A seam below a Client: what carries its calls to the service some other way than by sending
// them to the server's address. When a service becomes replicated, its clients reach it through
// the replication layer's client instead; a Relay plugged into their Client
// (Client::relay_through) does that while the code that makes the calls stays as it is.
// It gets each call's procedure, its encoded request and its timeout, and answers with the
// encoded reply or an Error, as the network would; it never answers Error::server_restarted.
class Relay {
 public:
  virtual ~Relay() = default;
  virtual core::Task<CallResult<core::Bytes>> relay(ServiceId service, ProcedureId procedure,
                                                    core::Bytes request,
                                                    core::Duration timeout) = 0;
};

// The calling side of one server, with its at-most-once state: a random client nonce, the next
// xid, and xid_rep (the highest xid below which every reply has arrived or been given up on).
class Client {
 public:
  // `detect_restarts`: a reply from another incarnation of the server than the first one that
  // answered fails the call with Error::server_restarted (until rebind()), and requests name
  // that incarnation. Off: any incarnation will do (for services whose state is durable).
  Client(Endpoint& endpoint, core::Address server, bool detect_restarts = true);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Calls P on the server and waits for the reply, at most `timeout`. The request is encoded
  // at once, so it need not outlive the call.
  template <Procedure P>
  core::Task<CallResult<typename P::Reply>> call(const typename P::Request& request,
                                                 core::Duration timeout) {
    return decode_reply<typename P::Reply>(
        call_raw(P::kService, P::kId, P::kName, encode(request), timeout));
  }
  template <Procedure P>
  core::Task<CallResult<typename P::Reply>> call(const typename P::Request& request) {
    return call<P>(request, endpoint_.options().default_timeout);
  }

  // After Error::server_restarted: forget the old server and become a new client of the new
  // one (a fresh nonce and xids). Calls in flight fail with server_restarted.
  void rebind();

  // From now on every call goes through `relay` instead of to server() (nullptr: to server()
  // again); calls already on their way end as they began. `relay` outlives its use here. The
  // procedure counters (Endpoint::stats) count relayed calls as calls.
  void relay_through(Relay* relay) { relay_ = relay; }

  core::Address server() const { return server_; }
  Nonce nonce() const { return nonce_; }
  Xid xid_rep() const;
  std::size_t in_flight() const { return pending_.size(); }

  // Sends `body` as procedure `id` and returns the reply body. Used by call<P>(); public for
  // tests that need to send what a well-behaved client never would.
  core::Task<CallResult<core::Bytes>> call_raw(ServiceId service, ProcedureId id,
                                               std::string_view name, core::Bytes body,
                                               core::Duration timeout);

 private:
  friend class Endpoint;
  struct Pending;
  template <class Reply>
  static core::Task<CallResult<Reply>> decode_reply(core::Task<CallResult<core::Bytes>> raw) {
    CallResult<core::Bytes> bytes = co_await std::move(raw);
    if (!bytes) co_return bytes.error();
    Reply reply{};
    if (!decode(*bytes, reply)) co_return Error::decode_failure;
    co_return reply;
  }
  void on_reply(const Header& h, std::string_view body);
  void on_unreachable();

  Endpoint& endpoint_;
  core::Address server_;
  Nonce nonce_ = 0;
  bool detect_restarts_;
  Relay* relay_ = nullptr;
  Nonce bound_server_ = 0;  // the server incarnation this client talks to (0: not known yet)
  Xid next_xid_ = 1;
  std::set<Xid> outstanding_;
  std::map<Xid, Pending*> pending_;
};

}  // namespace dsys::rpc
