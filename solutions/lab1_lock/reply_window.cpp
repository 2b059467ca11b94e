// lab 1, part 2: the at-most-once duplicate filter. See reply_window.hpp for the contract.
#include "reply_window.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab1 {

rpc::Admission ReplyWindow::admit(rpc::Nonce client, rpc::Xid xid, rpc::Xid xid_rep,
                                  core::Bytes& saved_reply) {
  // SOLUTION BEGIN
  const core::Time now = now_();
  // Every half period, forget the clients that have been idle for a whole one: the cost of
  // looking is spread over the requests of half a period.
  if (now - last_sweep_ >= kForgetIdleClientsAfter / 2) {
    std::erase_if(clients_, [&](const auto& entry) {
      return now - entry.second.last_heard > kForgetIdleClientsAfter;
    });
    last_sweep_ = now;
  }
  PerClient& c = clients_[client];
  c.last_heard = now;
  if (xid_rep > c.acknowledged) {
    c.acknowledged = xid_rep;
    c.requests.erase(c.requests.begin(), c.requests.upper_bound(xid_rep));
  }
  if (xid <= c.acknowledged) return rpc::Admission::forgotten;
  auto [it, inserted] = c.requests.try_emplace(xid);
  if (inserted) return rpc::Admission::fresh;
  if (!it->second) return rpc::Admission::in_progress;
  saved_reply = *it->second;
  return rpc::Admission::done;
  // SOLUTION STUB
  // // TODO(lab1 part 2): forget clients idle for kForgetIdleClientsAfter (now_() is the
  // // time), forget what xid_rep acknowledges, then decide.
  // dsys::unimplemented("ReplyWindow::admit");
  // SOLUTION END
}

void ReplyWindow::record(rpc::Nonce client, rpc::Xid xid, const core::Bytes& reply) {
  // SOLUTION BEGIN
  auto c = clients_.find(client);
  if (c == clients_.end()) return;
  auto it = c->second.requests.find(xid);
  if (it != c->second.requests.end()) it->second = reply;  // else: acknowledged meanwhile
  // SOLUTION STUB
  // // TODO(lab1 part 2): remember the reply of a request you admitted as fresh.
  // dsys::unimplemented("ReplyWindow::record");
  // SOLUTION END
}

std::size_t ReplyWindow::remembered() const {
  // SOLUTION BEGIN
  std::size_t n = 0;
  for (const auto& [nonce, c] : clients_) n += c.requests.size();
  return n;
  // SOLUTION STUB
  // // TODO(lab1 part 2): count the requests you remember.
  // dsys::unimplemented("ReplyWindow::remembered");
  // SOLUTION END
}

}  // namespace dsys::lab1
