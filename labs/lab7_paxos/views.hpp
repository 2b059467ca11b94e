// lab 7: views — who is alive, agreed by Paxos.                (Given: you do not edit this.)
//
// A view is a numbered list of members: view 1 is {the first node} (known to every node from its
// command line, never proposed), and view k+1 is decided by Paxos instance k+1, whose acceptors
// are the members of view k. So a view is formed only if a majority of the previous view accepts
// it, and two views with one number never exist.
//
// What this layer does (the classic course's config layer):
//  - joining: a node that is not a member of the latest view it knows proposes the next view
//    with itself added, every kJoinEvery (with some jitter), until it is a member. A proposal for
//    an instance that is decided already gets the decided value back (your Proposer adopts it),
//    so a node that was down catches up one view at a time this way (at once, without waiting
//    kJoinEvery, while each try teaches it a later view);
//  - heartbeats: every kHeartbeatEvery the primary (the first member) pings every other member,
//    and every other member pings the primary. A ping and its reply carry the latest view of
//    their sender, so either side learns (Acceptor::learn) a decision it missed that the other
//    knows of;
//  - failure: a member that has had no answer from a peer it pings for kSuspectAfter proposes the
//    next view without it. When the proposal fails (no majority: a partition, or too many down),
//    it tries again at the next heartbeat, after a random delay so that two proposers do not
//    keep outbidding each other;
//  - unfinished instances: a member whose acceptor has accepted a value for the next view that
//    no decision has followed for kSuspectAfter (its proposer died, or the decides were lost)
//    proposes the next view itself (the current members, if nothing else), and P2c makes that
//    proposal carry the accepted value wherever it may have been chosen. This is how a member
//    that nobody pings (one alone in its view) learns a view it helped decide.
// Members are kept in the order they joined; the primary is the first of them.
//
// Why this is given: it is policy (who pings whom, when to give up on a peer), and the tests
// predict views from it; lab 8's replicated state machine builds on exactly this code. Read it:
// it is the user of your Proposer and Acceptor.
//
// Threading contract: one node; its tasks interleave at their co_awaits only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsys/core/context.hpp"
#include "dsys/core/task_group.hpp"
#include "dsys/paxos/protocol.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "paxos.hpp"

namespace dsys::lab7 {

struct View {
  Instance number = 0;
  std::vector<core::Address> members;  // in the order they joined; the first is the primary
  bool operator==(const View&) const = default;
  bool has(core::Address a) const;
  std::string to_string() const;  // "view 3: 127.0.0.1:7001 127.0.0.1:7002"
};

// A view's member list as a Paxos value, and back (nullopt for bytes that are not one).
std::string encode_members(const std::vector<core::Address>& members);
std::optional<std::vector<core::Address>> decode_members(const std::string& value);

class Views {
 public:
  static constexpr core::Duration kHeartbeatEvery = std::chrono::seconds(1);
  static constexpr core::Duration kSuspectAfter = std::chrono::seconds(3);
  static constexpr core::Duration kJoinEvery = std::chrono::seconds(1);

  // Called for each view this node learns that is later than every view it knew, so in order of
  // number (not for the views read back at start: current() has the latest of those). A view
  // older than current() learned late (a gap filled in) is kept in known() without a call.
  using OnView = std::function<void(const View&)>;
  // Called with each value this node passes to Proposer::propose (the tests' validity check).
  using OnPropose = std::function<void(Instance, const std::string& value)>;

  // `first` is the first node's address (view 1 = {first}). Reads the views the acceptor has
  // decided, then starts joining or heartbeating. While `may_vote` says no, this node proposes
  // no view but its own joining (the others remove whom they suspect).
  Views(core::Context& ctx, core::Address first, Acceptor& acceptor, Proposer& proposer,
        OnView on_view = nullptr, OnPropose on_propose = nullptr, MayVote may_vote = nullptr);

  // The acceptor learned that `instance` is decided (Acceptor::OnDecided): the view it names.
  void learned(Instance instance, const std::string& value);

  const View& current() const { return views_.rbegin()->second; }
  // Every view this node knows, by number (view 1 always; gaps where it learned a later one
  // from a heartbeat without the ones between).
  const std::map<Instance, View>& known() const { return views_; }
  bool member() const { return current().has(ctx_.address()); }
  core::Address primary() const { return current().members.front(); }

 private:
  core::Task<void> run();
  core::Task<void> join();
  core::Task<void> heartbeat();
  core::Task<void> ping(core::Address peer);
  core::Task<void> propose(std::vector<core::Address> members);
  core::Task<paxos::HeartbeatMessage> answer(const paxos::HeartbeatMessage& request);
  rpc::Client& client(core::Address to);
  core::Duration jitter(core::Duration most);
  // True when the acceptor has had the same undecided acceptance for `next` for kSuspectAfter.
  bool stuck(Instance next);

  core::Context& ctx_;
  Acceptor& acceptor_;
  Proposer& proposer_;
  OnView on_view_;
  OnPropose on_propose_;
  MayVote may_vote_;
  std::map<Instance, View> views_;
  std::map<core::Address, core::Time> last_answer_;  // of the peers this node pings
  struct Open {
    Instance instance;
    ProposalNumber n_a;
    core::Time since;
  };
  std::optional<Open> open_;  // the undecided acceptance for the next view, since when
  std::map<core::Address, std::unique_ptr<rpc::Client>> clients_;
  rpc::Service service_;
  core::TaskGroup tasks_;  // last
};

}  // namespace dsys::lab7
