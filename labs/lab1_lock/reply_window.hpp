// lab 1, part 2: the at-most-once duplicate filter.            (You edit this file and its .cpp.)
//
// Background. A client resends a request until a reply arrives, and the network itself may
// duplicate or delay messages. Without a filter, the server would run such a request again: an
// acquire could be granted twice, and a late copy of an old release could free a lock that its
// client has since acquired again. The RPC layer asks this filter about every request before it
// runs it (see dsys/rpc/duplicate_filter.hpp):
//
//   admit(client, xid, xid_rep, saved_reply) -> Admission
//     - fresh:        never seen: remember that it is running; the server runs it
//     - in_progress:  seen, still running: the server drops this copy
//     - done:         seen and finished: set saved_reply to the reply given to record()
//     - forgotten:    xid <= the highest xid_rep seen from this client: the client already has
//                     that reply, so it was discarded; the server answers Error::forgotten
//   record(client, xid, reply): the request admitted as fresh finished with `reply`
//
// Every request carries xid_rep: the client has the replies of all its requests with
// xid <= xid_rep. Forget those replies when you learn it, so that memory stays bounded while
// clients keep acknowledging. Clients (nonces) are independent of each other.
#pragma once

#include <cstddef>
#include <map>
#include <optional>

#include "dsys/rpc/duplicate_filter.hpp"

namespace dsys::lab1 {

class ReplyWindow final : public rpc::DuplicateFilter {
 public:
  // Tested by: "filter: ..." tests, "a duplicated acquire is never granted twice", "a late
  // duplicate of a release never frees someone else's lock", "reply memory stays bounded ...".
  rpc::Admission admit(rpc::Nonce client, rpc::Xid xid, rpc::Xid xid_rep,
                       core::Bytes& saved_reply) override;
  void record(rpc::Nonce client, rpc::Xid xid, const core::Bytes& reply) override;
  // How many requests are remembered now (running or finished), over all clients.
  std::size_t remembered() const override;

 private:
  // Your state: for each client, the requests you remember (running or with their reply),
  // and how far the client has acknowledged.
};

}  // namespace dsys::lab1
