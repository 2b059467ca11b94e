// lab 8, part 2: the RSM client.                                 (You edit this file and its .cpp.)
//
// Calls a replicated service: finds the primary, sends it each request (rsm::Invoke), and retries
// until the request has executed, through fail-overs and view changes, without it ever executing
// twice. One RsmClient per client node (lab8_node.hpp: the lock service's clients have one).
//
// How (dsys/rsm/protocol.hpp says what each answer means):
//  - each request gets the next sequence number of this client, and keeps it on every retry; the
//    client id is random (ctx.rng()), new at every start of the node;
//  - done_below: the lowest sequence number whose reply has not arrived yet (or the next one, when
//    none is on its way), so the replicas can drop the replies this client has;
//  - ask the replica you believe is the primary (at first the first of `replicas`); not_primary:
//    ask the primary it names (and remember the members it names); busy: ask again after
//    kBusyPause; no answer within kAttemptTimeout (a dead or cut-off replica): ask the next
//    replica you know of;
//  - give up after the call's timeout: rpc::Error::timeout (the request may or may not have run).
//
// Tested by: every lab 8 test ("rsm_tester ...", the lock service's, the fail-overs), and alone by
// "lab 8: the RSM client finds the primary ...".
//
// Threading contract: one node; calls interleave at their co_awaits; many may be on their way at
// once (the primary orders them in the order they arrive).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "dsys/core/context.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "dsys/rsm/protocol.hpp"

namespace dsys::lab8 {

class RsmClient {
 public:
  static constexpr core::Duration kAttemptTimeout = std::chrono::milliseconds(1500);
  static constexpr core::Duration kBusyPause = std::chrono::milliseconds(20);

  // `replicas`: at least one replica's address (any; the master's will do).
  RsmClient(core::Context& ctx, std::vector<core::Address> replicas,
            core::Duration timeout = std::chrono::seconds(10));

  // Runs procedure P of the replicated service, as the primary's RSM executes it, and returns
  // its reply.
  template <rpc::Procedure P>
  core::Task<rpc::CallResult<typename P::Reply>> call(const typename P::Request& request) {
    auto bytes = co_await invoke(P::kService, P::kId, rpc::encode(request));
    if (!bytes) co_return bytes.error();
    typename P::Reply reply{};
    if (!rpc::decode(*bytes, reply)) co_return rpc::Error::decode_failure;
    co_return reply;
  }

  // The same on marshalled bytes. Tested by: every lab 8 test.
  core::Task<rpc::CallResult<core::Bytes>> invoke(rpc::ServiceId service,
                                                  rpc::ProcedureId procedure, core::Bytes body);

  rsm::ClientId id() const { return id_; }
  // The replica it believes is the primary.
  core::Address primary() const;

 private:
  core::Context& ctx_;
  rsm::ClientId id_;
  core::Duration timeout_;
  // Your state: the replicas you know of, the one you believe is the primary, the next
  // sequence number, those whose reply has not come yet, and an rpc::Client per replica
  // (rpc::Client(endpoint, address, /*detect_restarts=*/false): a replica that restarted is
  // still the same replica).
  std::vector<core::Address> replicas_;
};

}  // namespace dsys::lab8
