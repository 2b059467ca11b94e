// lab 1, part 2: the at-most-once duplicate filter. See reply_window.hpp for the contract.
#include "reply_window.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab1 {

rpc::Admission ReplyWindow::admit(rpc::Nonce client, rpc::Xid xid, rpc::Xid xid_rep,
                                  core::Bytes& saved_reply) {
  // TODO(lab1 part 2): forget clients idle for kForgetIdleClientsAfter (now_() is the
  // time), forget what xid_rep acknowledges, then decide.
  dsys::unimplemented("ReplyWindow::admit");
}

void ReplyWindow::record(rpc::Nonce client, rpc::Xid xid, const core::Bytes& reply) {
  // TODO(lab1 part 2): remember the reply of a request you admitted as fresh.
  dsys::unimplemented("ReplyWindow::record");
}

std::size_t ReplyWindow::remembered() const {
  // TODO(lab1 part 2): count the requests you remember.
  dsys::unimplemented("ReplyWindow::remembered");
}

}  // namespace dsys::lab1
