// lab 8, part 1: the replicated state machine (primary/backup).   (You edit this file and its
// .cpp.)
//
// One Rsm per replica, beside lab 7's views (lab8_node.hpp builds them). It replicates one
// service (a StateMachine: lab 8's lock service, or the tests' log) that serves its
// procedures on the node's endpoint with ServicePolicy::dispatch_only: nobody can call it directly,
// every request reaches it through the RSM, by rpc::Endpoint::dispatch, in the order the primary
// gave, as a call from the client's node (CallInfo::from), so the service can call that client
// back. The protocol, the messages and what each reply means: dsys/rsm/protocol.hpp. The handout
// (README.md) has a picture of one request and of a view change.
//
// What you write (the classic course's rsm.cc):
//  - invoke (the primary): order the request (the next viewstamp of the view, the primary's
//    clock), have every backup execute it, execute it yourself, in viewstamp order, and reply;
//    answer a request you executed before with its saved reply, and one whose execution is on
//    its way with busy;
//  - execute (a backup): run a request from the primary of your view, of the epoch it installed,
//    when it is the next one (wait up to kGapWait for those before it: the primary sends many at
//    once); refuse the rest;
//  - the view change: whenever this replica becomes the primary of a view (and whenever a backup
//    refuses an execute, or does not answer within kExecuteTimeout), stop ordering, fetch every
//    member's (viewstamp, state), install the highest of those that hold a state on every
//    member, with a new epoch, and only then order again (when no member holds one, only view 1
//    starts from the empty state: a later view waits);
//  - a restarted replica has no state (has_state() is false, and so is its fetch reply's), but
//    may still be a member of its view (it came back before the others noticed): until a state
//    is installed on it, it asks its primary for a view change (rsm::Rejoin) every
//    kFetchTimeout. Until then it helps form no view (lab8_node.hpp gives has_state() to lab 7);
//  - the table of replies: per client, the replies of its requests at or above its done_below;
//    it is part of the state (snapshot and restore), so it survives a fail-over.
//
// What the tests check, after every event (tests/lab8_test.cpp): no two replicas execute
// different requests as one viewstamp; each replica executes in increasing viewstamp order; no
// request is executed twice (by its name: client, sequence); every reply a client got is the one
// the service gave; and, for the lock service, no lock is held by two clients, and the history of
// acquires and releases is linearizable.
//
// Durability: none. The state lives in the replicas' memories: it survives as long as one member
// of each view that has it lives (a restarted replica gets it by install). If every member of
// the view stops at once, it is gone, and the restarted replicas wait for it (the handout says
// why, what to do, and what it would cost to keep).
//
// Threading contract: one node; handlers and tasks interleave at their co_awaits only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "dsys/core/context.hpp"
#include "dsys/core/task_group.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "dsys/rsm/protocol.hpp"
#include "dsys/rsm/state_machine.hpp"
#include "views.hpp"

namespace dsys::lab8 {

using rsm::Viewstamp;

// The service it replicates: a StateMachine (dsys/rsm/state_machine.hpp: its snapshot and
// restore, and why its procedures must be deterministic). Its procedures read the time from
// Rsm::now() and call clients back only where Rsm::primary() says so.
using rsm::StateMachine;

class Rsm {
 public:
  static constexpr core::Duration kExecuteTimeout = std::chrono::seconds(1);
  static constexpr core::Duration kGapWait = std::chrono::milliseconds(500);
  static constexpr core::Duration kFetchTimeout = std::chrono::seconds(1);

  // Called on every replica for every request it executes, before it runs (for the tests).
  using OnExecute = std::function<void(const Viewstamp&, const rsm::Request&)>;

  // Serves rsm::kService (replicas) and rsm::kClientService (clients) on the node's endpoint, both
  // admitting any incarnation's requests. When this replica is the primary of views.current(),
  // it starts the view change at once (a restarted primary has no state: it fetches it). (Given.)
  Rsm(core::Context& ctx, lab7::Views& views, StateMachine& service,
      OnExecute on_execute = nullptr);

  // The view layer learned `view` (Views::OnView). Tested by: every lab 8 test.
  void on_view(const lab7::View& view);

  // While a request executes: its time (the primary's clock when it ordered it); outside one,
  // the time of the last request executed here (or installed). Tested by: "lab 8: a waiter that
  // stops asking is forgotten ...".
  core::Time now() const;
  // This replica is the primary of its view and has finished the view change: the one that makes
  // callbacks. Tested by: "lab 8: revoke and retry ...".
  bool primary() const;
  // The last request this replica executed.
  Viewstamp last() const;
  // This replica holds the service's state: since it started, a view change installed one here
  // (or, as a primary, it finished one), and no view has left it out since (a replica out of the
  // view holds none: what it kept ages). Until then it may not help form a view (lab8_node.hpp
  // passes this to lab 7's layer as its MayVote), and a view change takes no state from it.
  // Tested by: "lab 8: two of three replicas restart without state ...".
  bool has_state() const;

  // For the RSM's own tests: the state as snapshot() makes it, with the table of replies.
  std::string state() const;

 private:
  core::Task<rsm::InvokeReply> invoke(const rsm::Request& request);
  core::Task<rsm::ExecuteStatus> execute(const rsm::ExecuteRequest& e, core::Address from);
  rsm::FetchReply fetch(const rsm::FetchRequest& f, core::Address from);
  bool install(const rsm::InstallRequest& i, core::Address from);
  bool rejoin(const rsm::FetchRequest& r, core::Address from);

  core::Context& ctx_;
  lab7::Views& views_;
  StateMachine& service_;
  OnExecute on_execute_;
  // SOLUTION BEGIN
  struct ClientReplies {
    rsm::Sequence done_below = 0;
    std::map<rsm::Sequence, std::string> replies;
    template <class Archive>
    void serialize(Archive& ar, unsigned) {
      ar& done_below& replies;
    }
  };
  bool leads() const;  // primary of views_.current()
  Viewstamp next_viewstamp() const;
  bool is_next(const Viewstamp& vs) const;
  rsm::InvokeReply redirect() const;
  core::Task<std::string> apply(const rsm::ExecuteRequest& e);
  core::Task<bool> replicate(const rsm::ExecuteRequest& e);
  void start_view_change();
  core::Task<void> view_change(std::uint64_t generation);
  core::Task<void> ask_for_state();
  bool restore_all(std::string_view state, Viewstamp last);
  rpc::Client& client(core::Address to);

  Viewstamp last_;                // the last request executed here
  Viewstamp ordered_;             // the primary: the last viewstamp it gave
  rsm::Epoch epoch_ = 0;          // the epoch executes are accepted in (0: none, frozen)
  bool ready_ = false;            // the primary: its view change is done
  bool stateless_ = true;         // nothing installed since it started or a view left it out
  bool executing_ = false;        // a request is running in the service
  std::uint64_t generation_ = 0;  // counts view changes started, to stop the older ones
  bool changing_ = false;         // a view change task runs
  core::Time now_{};              // the time of the request that executes
  // The time of the last request executed here (replicated: in the state), and the primary's
  // offset from its own clock, fixed when its view change is done so that the RSM's time never
  // goes back from one primary to the next (each process's clock starts at its own zero).
  std::int64_t last_time_ns_ = 0;
  core::Duration clock_offset_{};
  std::set<rsm::Epoch> installed_;  // epochs installed here: a late copy of one changes nothing
  std::map<rsm::ClientId, ClientReplies> table_;
  std::set<std::pair<rsm::ClientId, rsm::Sequence>> on_its_way_;
  core::Notifier executed_{ctx_};  // last_ or epoch_ changed
  std::map<core::Address, std::unique_ptr<rpc::Client>> clients_;
  // SOLUTION STUB
  // // Your state: the last viewstamp executed here, the one the primary gave last, the epoch, the
  // // table of replies and the last request's time (part of the state: see state()), the
  // // requests on their way, a core::Notifier for those that wait their turn, and an
  // // rpc::Client per replica.
  // SOLUTION END
  rpc::Service replicas_;
  rpc::Service clients_service_;
  core::TaskGroup tasks_;  // last
};

}  // namespace dsys::lab8
