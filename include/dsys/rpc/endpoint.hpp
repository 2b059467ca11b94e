// dsys/rpc/endpoint.hpp: typed RPC over a node's Context, the same in both worlds.
//
// A node makes one Endpoint. As a server it serves procedures with coroutine handlers; as a
// client it makes a Client per server it talks to:
//
//   rpc::Endpoint endpoint(ctx);
//   endpoint.serve<lock::Acquire>([this](const lock::AcquireRequest& r, const rpc::CallInfo&)
//                                     -> core::Task<lock::Status> { ... });
//
//   rpc::Client server(endpoint, server_address);
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
// Threading contract: an Endpoint and its Clients belong to one node and run on its executor.
// A Client must outlive the calls it has in flight; the Endpoint must outlive its Clients.
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
  core::Address from;
  Nonce client = 0;
  Xid xid = 0;
};

// Counters for one procedure, as seen by one endpoint.
struct ProcedureStats {
  std::string_view name;
  std::uint64_t calls = 0;   // calls this endpoint made
  std::uint64_t failed = 0;  // of those, how many ended in an rpc::Error
  std::uint64_t served = 0;  // requests this endpoint ran (fresh admissions)
  std::uint64_t resent = 0;  // saved replies sent again to retransmissions
};

class Client;

class Endpoint final : public core::Receiver {
 public:
  explicit Endpoint(core::Context& ctx, Options options = Options::from_environment());
  ~Endpoint() override;
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  core::Context& context() const { return ctx_; }
  const Options& options() const { return options_; }
  // This incarnation's identity: random, nonzero, new at every start of the node.
  Nonce server_nonce() const { return server_nonce_; }

  // Serves procedure P. `handler(const P::Request&, const CallInfo&)` returns
  // core::Task<P::Reply>; it is kept for the endpoint's lifetime. Serving one id twice is an error.
  template <Procedure P, class H>
  void serve(H handler) {
    register_procedure(P::kId, P::kName,
                       [handler = std::move(handler)](
                           std::string_view body,
                           const CallInfo& info) mutable -> std::optional<core::Task<core::Bytes>> {
                         typename P::Request request;
                         if (!decode(body, request)) return std::nullopt;
                         return run_handler<P>(handler, std::move(request), info);
                       });
  }

  // The filter consulted before running a request (default: NoFilter). It must outlive the
  // endpoint's requests; typically it is a member of the same service.
  void set_duplicate_filter(DuplicateFilter& filter) { filter_ = &filter; }
  DuplicateFilter& duplicate_filter() const { return *filter_; }

  const std::map<ProcedureId, ProcedureStats>& stats() const { return stats_; }
  // "RPC STATS: lock.acquire calls=10 served=0 ...", one entry per procedure.
  std::string stats_line() const;

  // core::Receiver
  void on_message(core::Address from, core::Bytes message) override;
  void on_unreachable(core::Address to) override;

 private:
  friend class Client;
  using Starter =
      std::function<std::optional<core::Task<core::Bytes>>(std::string_view, const CallInfo&)>;
  struct Served {
    std::string_view name;
    Starter start;
  };

  template <Procedure P, class H>
  static core::Task<core::Bytes> run_handler(H& handler, typename P::Request request,
                                             CallInfo info) {
    typename P::Reply reply = co_await handler(std::as_const(request), std::as_const(info));
    co_return encode(reply);
  }
  core::Task<void> finish_request(core::Address from, Header header, core::Task<core::Bytes> work);

  void register_procedure(ProcedureId id, std::string_view name, Starter start);
  void handle_request(core::Address from, const Header& h, std::string_view body);
  void send_reply(core::Address to, const Header& request, Error status, std::string_view body);
  void count(ProcedureId id, std::string_view name, std::uint64_t ProcedureStats::*field);
  Nonce add_client(Client* client);
  void remove_client(Nonce nonce);

  core::Context& ctx_;
  Options options_;
  Nonce server_nonce_;
  NoFilter no_filter_;
  DuplicateFilter* filter_ = &no_filter_;
  std::map<ProcedureId, Served> served_;
  std::map<Nonce, Client*> clients_;
  std::map<ProcedureId, ProcedureStats> stats_;
  std::uint64_t total_counted_ = 0;
};

// The calling side of one server, with its at-most-once state: a random client nonce, the next
// xid, and xid_rep (the highest xid below which every reply has arrived or been given up on).
class Client {
 public:
  Client(Endpoint& endpoint, core::Address server);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Calls P on the server and waits for the reply, at most `timeout`. The request is encoded
  // at once, so it need not outlive the call.
  template <Procedure P>
  core::Task<CallResult<typename P::Reply>> call(const typename P::Request& request,
                                                 core::Duration timeout) {
    return decode_reply<typename P::Reply>(call_raw(P::kId, P::kName, encode(request), timeout));
  }
  template <Procedure P>
  core::Task<CallResult<typename P::Reply>> call(const typename P::Request& request) {
    return call<P>(request, endpoint_.options().default_timeout);
  }

  // After Error::server_restarted: forget the old server and become a new client of the new
  // one (a fresh nonce and xids). Calls in flight fail with server_restarted.
  void rebind();

  core::Address server() const { return server_; }
  Nonce nonce() const { return nonce_; }
  Xid xid_rep() const;
  std::size_t in_flight() const { return pending_.size(); }

  // Sends `body` as procedure `id` and returns the reply body. Used by call<P>(); public for
  // tests that need to send what a well-behaved client never would.
  core::Task<CallResult<core::Bytes>> call_raw(ProcedureId id, std::string_view name,
                                               core::Bytes body, core::Duration timeout);

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
  Nonce bound_server_ = 0;  // the server incarnation this client talks to (0: not known yet)
  Xid next_xid_ = 1;
  std::set<Xid> outstanding_;
  std::map<Xid, Pending*> pending_;
};

}  // namespace dsys::rpc
