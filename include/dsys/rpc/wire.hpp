// dsys/rpc/wire.hpp: the RPC message format, below the bodies.
//
// Every RPC message is a fixed 36-byte header, little-endian, then the body:
//
//   offset size field
//        0    4 magic "dRPC"
//        4    1 kind           1 request, 2 reply
//        5    1 status         replies: 0 ok, else an rpc::Error
//        6    2 service        ServiceId (which protocol: see procedure.hpp)
//        8    2 procedure      ProcedureId, dense within its service
//       10    2 reserved       0
//       12    4 client_nonce   a client's random identity (at-most-once: who is asking)
//       16    4 server_nonce   request: the server incarnation it expects (0: any);
//                              reply: the server's incarnation
//       20    8 xid            the client's request number, from 1, increasing
//       28    8 xid_rep        requests: every reply with xid <= xid_rep has been received
//
// On TCP each message is a frame: a 4-byte little-endian length, then the message (see
// net::kMaxFrame). A message with a bad header is dropped and its connection closed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dsys/rpc/procedure.hpp"

namespace dsys::rpc {

using Xid = std::uint64_t;
using Nonce = std::uint32_t;

enum class Kind : std::uint8_t { request = 1, reply = 2 };

struct Header {
  Kind kind = Kind::request;
  std::uint8_t status = 0;
  ServiceId service = 0;
  ProcedureId procedure = 0;
  Nonce client_nonce = 0;
  Nonce server_nonce = 0;
  Xid xid = 0;
  Xid xid_rep = 0;
};

inline constexpr std::size_t kHeaderSize = 36;

// Appends the header's 36 bytes to `out`.
void write_header(std::string& out, const Header& h);
// "request lock.acquire xid 3 (acks 2) client 5f3a0c1e", for traces: the procedure's name once
// this process has served or called it (else "service.procedure" numbers); "not an RPC message"
// otherwise.
std::string describe(std::string_view message);
// Tells describe() the name of a procedure (rpc::Service and rpc::Client do; thread-safe).
void name_procedure(ServiceId service, ProcedureId procedure, std::string_view name);

// Parses the header at the front of `message`; nullopt when it is not a valid one (with `why`).
std::optional<Header> read_header(std::string_view message, std::string* why = nullptr);

}  // namespace dsys::rpc
