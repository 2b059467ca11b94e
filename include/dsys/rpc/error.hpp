// dsys/rpc/error.hpp: how a call can fail. Network faults are values, never exceptions.
#pragma once

#include <cstdint>
#include <string_view>

#include "dsys/core/result.hpp"

namespace dsys::rpc {

enum class Error : std::uint8_t {
  timeout = 1,        // no reply before the deadline (the request may or may not have run)
  unreachable,        // the server's address refused the connection: nothing is listening
  server_restarted,   // the server is a new incarnation; it has forgotten this client
  unknown_procedure,  // the server does not serve this procedure id
  decode_failure,     // the request (at the server) or the reply (here) did not decode
  forgotten,          // the server already discarded this request's reply (a stale retransmission)
};

constexpr std::string_view to_string(Error e) {
  switch (e) {
    case Error::timeout:
      return "timeout";
    case Error::unreachable:
      return "unreachable";
    case Error::server_restarted:
      return "server restarted";
    case Error::unknown_procedure:
      return "unknown procedure";
    case Error::decode_failure:
      return "decode failure";
    case Error::forgotten:
      return "forgotten";
  }
  return "unknown error";
}

template <class T>
using CallResult = Result<T, Error>;

}  // namespace dsys::rpc
