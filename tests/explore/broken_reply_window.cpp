// A planted bug, for the kit's own tests of ./dsys explore and of the diagrams: lab 1's reply
// window (solutions/lab1_lock/reply_window.hpp) without its "forgotten" answer. A copy of a
// request that its client has acknowledged is taken as fresh and runs again, so a late copy of
// an old release frees the lock its client has acquired again since, and another client is
// granted it while the first still holds it. Not in labs/: students never see it.
#include "reply_window.hpp"

namespace dsys::lab1 {

rpc::Admission ReplyWindow::admit(rpc::Nonce client, rpc::Xid xid, rpc::Xid xid_rep,
                                  core::Bytes& saved_reply) {
  PerClient& c = clients_[client];
  c.last_heard = now_();
  if (xid_rep > c.acknowledged) {
    c.acknowledged = xid_rep;
    c.requests.erase(c.requests.begin(), c.requests.upper_bound(xid_rep));
  }
  // The bug: no "if (xid <= c.acknowledged) return rpc::Admission::forgotten;" here.
  auto [it, inserted] = c.requests.try_emplace(xid);
  if (inserted) return rpc::Admission::fresh;
  if (!it->second) return rpc::Admission::in_progress;
  saved_reply = *it->second;
  return rpc::Admission::done;
}

void ReplyWindow::record(rpc::Nonce client, rpc::Xid xid, const core::Bytes& reply) {
  auto c = clients_.find(client);
  if (c == clients_.end()) return;
  auto it = c->second.requests.find(xid);
  if (it != c->second.requests.end()) it->second = reply;
}

std::size_t ReplyWindow::remembered() const {
  std::size_t n = 0;
  for (const auto& [nonce, c] : clients_) n += c.requests.size();
  return n;
}

}  // namespace dsys::lab1
