// dsys/rpc/procedure.hpp: how a service declares its procedures, once, in its protocol header.
//
//   struct Acquire {
//     static constexpr rpc::ProcedureId kId = 1;            // dense per service, never reused
//     static constexpr std::string_view kName = "lock.acquire";
//     using Request = AcquireRequest;                        // Boost-serializable types
//     using Reply = AcquireReply;
//   };
//
// Client and server name the procedure by its type: `client.call<lock::Acquire>(request)` and
// `endpoint.serve<lock::Acquire>(handler)`, so the two sides cannot disagree on the types.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>

namespace dsys::rpc {

using ProcedureId = std::uint16_t;

template <class P>
concept Procedure = requires {
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
