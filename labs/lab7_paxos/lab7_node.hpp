// lab 7: a replica's node: your Acceptor and Proposer, and the view layer over them, on one
// endpoint. The lab's lock_server program and its simulated tests build it. (Given.)
#pragma once

#include <utility>

#include "dsys/core/context.hpp"
#include "paxos.hpp"
#include "views.hpp"

namespace dsys::lab7 {

class Node {
 public:
  // `first`: the first node's address (view 1); an invalid address: this node is the first. The
  // callbacks: see Views; `may_vote` (paxos.hpp), for the acceptor and the views.
  Node(core::Context& ctx, core::Address first, Views::OnView on_view = nullptr,
       Views::OnPropose on_propose = nullptr, MayVote may_vote = nullptr)
      : acceptor_(
            ctx, [this](Instance i, const std::string& v) { views_.learned(i, v); }, may_vote),
        proposer_(ctx, acceptor_),
        views_(ctx, first.valid() ? first : ctx.address(), acceptor_, proposer_, std::move(on_view),
               std::move(on_propose), std::move(may_vote)) {}

  Acceptor& acceptor() { return acceptor_; }
  Proposer& proposer() { return proposer_; }
  Views& views() { return views_; }

 private:
  Acceptor acceptor_;
  Proposer proposer_;
  Views views_;
};

}  // namespace dsys::lab7
