// dsys/rpc/duplicate_filter.hpp: at-most-once execution, server side.
//
// Networks duplicate and delay messages, and clients retransmit, so a server may see one request
// many times. Before running a request the server asks its DuplicateFilter whether the request
// is new; after running it, it hands the filter the reply. Lab 1 (part 2) asks you to write the
// real filter: see labs/lab1_lock. The library's own tests use NoFilter.
#pragma once

#include <cstddef>

#include "dsys/core/context.hpp"
#include "dsys/rpc/wire.hpp"

#include <string_view>

namespace dsys::rpc {

enum class Admission {
  fresh,        // never seen: run it
  in_progress,  // seen and still running: drop this copy (the reply will come)
  done,         // seen and finished: send `saved_reply` again
  forgotten,    // older than what the client acknowledged: answer Error::forgotten
};

constexpr std::string_view to_string(Admission a) {
  switch (a) {
    case Admission::fresh:
      return "fresh";
    case Admission::in_progress:
      return "in_progress";
    case Admission::done:
      return "done";
    case Admission::forgotten:
      return "forgotten";
  }
  return "?";
}

class DuplicateFilter {
 public:
  virtual ~DuplicateFilter() = default;

  // Called for each arriving request of client `client` with number `xid`. `xid_rep` says the
  // client has every reply up to and including xid_rep, so those may be forgotten now. On
  // Admission::done, `saved_reply` receives the reply body that record() was given.
  virtual Admission admit(Nonce client, Xid xid, Xid xid_rep, core::Bytes& saved_reply) = 0;

  // Called once the request (client, xid) admitted as fresh has produced its reply body.
  virtual void record(Nonce client, Xid xid, const core::Bytes& reply) = 0;

  // How many requests are remembered now, running or finished, over all clients (to check that
  // memory stays bounded).
  virtual std::size_t remembered() const = 0;
};

// Admits every request as fresh: "at least once" when clients retransmit. For library tests.
class NoFilter final : public DuplicateFilter {
 public:
  Admission admit(Nonce, Xid, Xid, core::Bytes&) override { return Admission::fresh; }
  void record(Nonce, Xid, const core::Bytes&) override {}
  std::size_t remembered() const override { return 0; }
};

}  // namespace dsys::rpc
