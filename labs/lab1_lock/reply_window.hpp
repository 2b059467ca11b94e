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
// xid <= xid_rep. Forget those requests (running or finished) when you learn it, so that memory
// stays bounded while clients keep acknowledging; a request that finishes after it was
// acknowledged (a late finish) is not remembered either. Clients (nonces) are independent of
// each other.
//
// Clients that go away. A client that makes one call and leaves never acknowledges its last
// reply. So forget a client entirely once it has sent nothing for kForgetIdleClientsAfter (a
// request from it after that is taken as fresh: by then every copy of its old requests has long
// left the network, and the client itself gave up on them after its call timeout). `now()` is
// the server's clock; the default clock stays at 0, so a window built without one never forgets
// a client (the "filter:" tests build it so).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>

#include "dsys/rpc/duplicate_filter.hpp"

namespace dsys::lab1 {

class ReplyWindow final : public rpc::DuplicateFilter {
 public:
  static constexpr core::Duration kForgetIdleClientsAfter = std::chrono::minutes(5);

  // (Given.) `now`: the server's clock (LockServer passes its context's).
  explicit ReplyWindow(std::function<core::Time()> now = [] { return core::Time(); })
      : now_(std::move(now)) {}

  // Tested by: the "filter: ..." tests, "a copy of an acquire that arrives after ...", "a late
  // duplicate of a release ...", "mutual exclusion over a network that drops ...", "reply memory
  // stays bounded ..." (all part 2).
  rpc::Admission admit(rpc::Nonce client, rpc::Xid xid, rpc::Xid xid_rep,
                       core::Bytes& saved_reply) override;
  // Tested by: the same tests.
  void record(rpc::Nonce client, rpc::Xid xid, const core::Bytes& reply) override;
  // How many requests are remembered now, running or finished, over all clients (a request
  // counts once it is admitted as fresh, and until it is acknowledged or its client forgotten).
  // Tested by: "filter: a request never seen ...", "filter: requests the client acknowledged
  // ...", "reply memory stays bounded ...".
  std::size_t remembered() const override;

 private:
  std::function<core::Time()> now_;
  // Your state: for each client, the requests you remember (running or with their reply),
  // how far the client has acknowledged, and when it was last heard from.
};

}  // namespace dsys::lab1
