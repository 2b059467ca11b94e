// dsys/rpc/procedure.hpp: how a service declares its procedures, once, in its protocol header.
//
//   inline constexpr rpc::ServiceId kService = 1;           // the lock service (table below)
//   struct Acquire {
//     static constexpr rpc::ServiceId kService = lock::kService;
//     static constexpr rpc::ProcedureId kId = 1;             // dense per service, never reused
//     static constexpr std::string_view kName = "lock.acquire";
//     using Request = LockRequest;                           // Boost-serializable types
//     using Reply = Status;
//   };
//
// Client and server name the procedure by its type: `client.call<lock::Acquire>(request)` and
// `service.serve<lock::Acquire>(handler)`, so the two sides cannot disagree on the types. A node
// hosts several services on its one endpoint; the service id travels in every message's header,
// so two protocols' procedure ids never collide.
//
// Service ids, one list for the whole kit (a new protocol takes the next free number):
//     1  lock        lock/protocol.hpp      lab 1's lock service (and lab 5's caching one)
//     2  lock_cb     lock/protocol.hpp      lab 5's callbacks to a lock client (revoke, retry)
//     3  extent      extent/protocol.hpp    lab 2's extent service
//     4  paxos       paxos/protocol.hpp     lab 7
//     5  rsm         rsm/protocol.hpp       lab 8: the replicated state machine
//     6  rsm_client  rsm/protocol.hpp       lab 8: requests from RSM clients
//     7  views       paxos/protocol.hpp     lab 7: the view layer's heartbeats
//     8  leader      leader/protocol.hpp    lab 9: the failure detector's heartbeats
//     9  multipaxos  multipaxos/protocol.hpp    lab 10: prepare, accept, learn, fetch
//    10  mp_client   multipaxos/protocol.hpp    lab 10: clients' appends and reads
//   100  echo        testing/echo_service.hpp   the library's tests, the demo, the benchmarks
//   101  probe       (tests)                    services that tests define for themselves
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>

namespace dsys::rpc {

using ServiceId = std::uint16_t;
using ProcedureId = std::uint16_t;

template <class P>
concept Procedure = requires {
  { P::kService } -> std::convertible_to<ServiceId>;
  { P::kId } -> std::convertible_to<ProcedureId>;
  { P::kName } -> std::convertible_to<std::string_view>;
  typename P::Request;
  typename P::Reply;
};

// An empty message, for procedures that take or return nothing.
struct Empty {
  template <class Archive>
  void serialize(Archive&, unsigned) {}
};

}  // namespace dsys::rpc
