// lab 8, part 1: the replicated state machine. See rsm.hpp and dsys/rsm/protocol.hpp.
#include "rsm.hpp"

#include <algorithm>
#include <vector>

#include "dsys/core/combinators.hpp"
#include "dsys/core/error.hpp"
#include "dsys/rpc/marshal.hpp"

namespace dsys::lab8 {

using namespace std::chrono_literals;

Rsm::Rsm(core::Context& ctx, lab7::Views& views, StateMachine& service, OnExecute on_execute)
    : ctx_(ctx),
      views_(views),
      service_(service),
      on_execute_(std::move(on_execute)),
      replicas_(ctx, rsm::kService, "rsm", {.refuse_other_incarnations = false}),
      clients_service_(ctx, rsm::kClientService, "rsm_client",
                       {.refuse_other_incarnations = false}),
      tasks_(ctx) {
  replicas_.serve<rsm::Execute>([this](const rsm::ExecuteRequest& e, const rpc::CallInfo& call) {
    return execute(e, call.from);
  });
  replicas_.serve<rsm::Fetch>(
      [this](const rsm::FetchRequest& f, const rpc::CallInfo& call) -> core::Task<rsm::FetchReply> {
        co_return fetch(f, call.from);
      });
  replicas_.serve<rsm::Install>(
      [this](const rsm::InstallRequest& i, const rpc::CallInfo& call) -> core::Task<bool> {
        co_return install(i, call.from);
      });
  replicas_.serve<rsm::Rejoin>(
      [this](const rsm::FetchRequest& r, const rpc::CallInfo& call) -> core::Task<bool> {
        co_return rejoin(r, call.from);
      });
  clients_service_.serve<rsm::Invoke>(
      [this](const rsm::Request& r, const rpc::CallInfo&) { return invoke(r); });
  on_view(views_.current());
  // SOLUTION BEGIN
  tasks_.spawn(ask_for_state());
  // SOLUTION STUB
  // // TODO(lab8 part 1): a restarted replica asks for a state until it has one (a task).
  // SOLUTION END
}

// SOLUTION BEGIN
// The replicated part of the state: the table of replies and the service's state.
struct Snapshot {
  std::string table;  // the encoded table
  std::string service;
  std::int64_t time_ns = 0;  // the last request's time
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& table& service& time_ns;
  }
};

rpc::Client& Rsm::client(core::Address to) {
  auto& c = clients_[to];
  if (!c) c = std::make_unique<rpc::Client>(rpc::Endpoint::of(ctx_), to, false);
  return *c;
}

bool Rsm::leads() const {
  return views_.member() && views_.primary() == ctx_.address();
}

// The next viewstamp after `last` in the view `view`.
static Viewstamp after(const Viewstamp& last, std::uint64_t view) {
  return last.view == view ? Viewstamp{view, last.seq + 1} : Viewstamp{view, 1};
}

Viewstamp Rsm::next_viewstamp() const {
  return after(ordered_, views_.current().number);
}

bool Rsm::is_next(const Viewstamp& vs) const {
  return vs == after(last_, vs.view);
}

rsm::InvokeReply Rsm::redirect() const {
  rsm::InvokeReply r;
  r.status = rsm::InvokeStatus::not_primary;
  const auto& members = views_.current().members;
  if (!members.empty()) r.primary = members.front().raw();
  for (auto m : members) r.members.push_back(m.raw());
  return r;
}
// SOLUTION END

void Rsm::on_view(const lab7::View& view) {
  // SOLUTION BEGIN
  // A new view: whatever epoch a backup had is over (the new primary installs a new one), and a
  // new primary must bring every member to one state before it orders anything. A replica out of
  // the view holds no state from now on: the view goes on without it, and what it kept ages.
  // (A view learned with one missed before it changes nothing more: had the missed one served
  // without this replica, its members are ahead of this one's viewstamp, and the view change
  // takes the highest.)
  if (!view.has(ctx_.address())) stateless_ = true;
  epoch_ = 0;
  ready_ = false;
  executed_.notify_all();
  if (leads()) start_view_change();
  // SOLUTION STUB
  // // TODO(lab8 part 1): a new view: stop executing in the old epoch; a replica out of the
  // // view no longer holds the state (has_state); the new primary starts the view change (a
  // // task: tasks_.spawn).
  // (void)view;
  // dsys::unimplemented("Rsm::on_view");
  // SOLUTION END
}

core::Time Rsm::now() const {
  // SOLUTION BEGIN
  return now_;
  // SOLUTION STUB
  // // TODO(lab8 part 1): the time of the request that executes.
  // dsys::unimplemented("Rsm::now");
  // return {};
  // SOLUTION END
}

bool Rsm::primary() const {
  // SOLUTION BEGIN
  return leads() && ready_;
  // SOLUTION STUB
  // // TODO(lab8 part 1): the primary of the current view, its view change done.
  // dsys::unimplemented("Rsm::primary");
  // return false;
  // SOLUTION END
}

bool Rsm::has_state() const {
  // SOLUTION BEGIN
  return !stateless_;
  // SOLUTION STUB
  // // TODO(lab8 part 1): a state was installed here (or this replica, the primary, finished a
  // // view change) since it started, and no view has left it out since.
  // dsys::unimplemented("Rsm::has_state");
  // return false;
  // SOLUTION END
}

Viewstamp Rsm::last() const {
  // SOLUTION BEGIN
  return last_;
  // SOLUTION STUB
  // // TODO(lab8 part 1): the last request executed here.
  // dsys::unimplemented("Rsm::last");
  // return {};
  // SOLUTION END
}

std::string Rsm::state() const {
  // SOLUTION BEGIN
  return rpc::encode(Snapshot{rpc::encode(table_), service_.snapshot(), last_time_ns_});
  // SOLUTION STUB
  // // TODO(lab8 part 1): the table of replies, service_.snapshot() and the last request's
  // // time, as one string.
  // dsys::unimplemented("Rsm::state");
  // return {};
  // SOLUTION END
}

// SOLUTION BEGIN
bool Rsm::restore_all(std::string_view state, Viewstamp last) {
  Snapshot s;
  std::map<rsm::ClientId, ClientReplies> table;
  if (!rpc::decode(state, s) || !rpc::decode(s.table, table)) return false;
  if (!service_.restore(s.service)) return false;
  table_ = std::move(table);
  last_ = last;
  last_time_ns_ = s.time_ns;
  now_ = core::Time(core::Duration(last_time_ns_));
  stateless_ = false;
  return true;
}

// Runs `e` in the service (every replica, in viewstamp order): the saved reply if this request
// ran before; the reply, saved in the table.
core::Task<std::string> Rsm::apply(const rsm::ExecuteRequest& e) {
  executing_ = true;
  const rsm::Request& r = e.request;
  if (on_execute_) on_execute_(e.vs, r);
  ClientReplies& c = table_[r.client];
  if (r.done_below > c.done_below) {
    c.done_below = r.done_below;
    c.replies.erase(c.replies.begin(), c.replies.lower_bound(c.done_below));
  }
  std::string reply;
  if (auto saved = c.replies.find(r.seq); saved != c.replies.end()) {
    reply = saved->second;  // ordered twice (a retry reached a new primary): run once
  } else {
    now_ = core::Time(core::Duration(e.time_ns));
    rpc::CallInfo call{.from = core::Address::from_raw(r.caller)};
    auto result = co_await rpc::Endpoint::of(ctx_).dispatch(r.service, r.procedure, r.body, call);
    if (result) {
      reply = std::move(*result);
    } else {
      ctx_.log("rsm: {}: request {}.{} of client {:#x} did not run: {}", e.vs.seq, r.service,
               r.procedure, r.client, to_string(result.error()));
    }
    if (r.seq >= c.done_below) table_[r.client].replies[r.seq] = reply;
  }
  last_ = e.vs;
  last_time_ns_ = std::max(last_time_ns_, e.time_ns);
  executing_ = false;
  executed_.notify_all();
  co_return reply;
}

core::Task<rsm::InvokeReply> Rsm::invoke(const rsm::Request& request) {
  // Every answer names the view's members: a client that knew one replica learns the others.
  rsm::InvokeReply r = redirect();
  if (!leads()) co_return r;
  r.status = rsm::InvokeStatus::busy;
  if (!ready_) co_return r;
  if (auto c = table_.find(request.client); c != table_.end()) {
    if (auto saved = c->second.replies.find(request.seq); saved != c->second.replies.end()) {
      r.status = rsm::InvokeStatus::ok;
      r.body = saved->second;
      co_return r;
    }
    if (request.seq < c->second.done_below) {
      r.status = rsm::InvokeStatus::forgotten;
      co_return r;
    }
  }
  const std::pair name{request.client, request.seq};
  if (!on_its_way_.insert(name).second) co_return r;  // a copy of it is being executed: busy
  ordered_ = next_viewstamp();
  const rsm::ExecuteRequest e(epoch_, ordered_,
                              (ctx_.now() + clock_offset_).time_since_epoch().count(), request);
  const bool everyone = co_await replicate(e);
  // Its turn: every request ordered before it has executed here.
  while (epoch_ == e.epoch && !is_next(e.vs)) co_await executed_.wait();
  on_its_way_.erase(name);
  if (epoch_ != e.epoch) co_return r;  // a view change came between: the client asks again
  if (!everyone) {
    start_view_change();  // a backup refused or did not answer: bring them all to one state
    co_return r;
  }
  r.body = co_await apply(e);
  r.status = rsm::InvokeStatus::ok;
  co_return r;
}

// Has every backup of the view execute `e`; true when they all did.
core::Task<bool> Rsm::replicate(const rsm::ExecuteRequest& e) {
  std::vector<core::Task<bool>> calls;
  bool first = true;
  for (auto member : views_.current().members) {
    if (member == ctx_.address()) continue;
    calls.push_back(
        [](Rsm& self, rpc::Client& to, rsm::ExecuteRequest e, bool& first) -> core::Task<bool> {
          auto r = co_await to.call<rsm::Execute>(e, kExecuteTimeout);
          const bool ok = r && *r == rsm::ExecuteStatus::ok;
          if (ok && first) {
            first = false;
            self.ctx_.breakpoint("rsm:ordered");  // one backup has executed it, perhaps not all
          }
          co_return ok;
        }(*this, client(member), e, first));
  }
  const auto results = co_await core::when_all(ctx_, std::move(calls));
  const bool all = std::all_of(results.begin(), results.end(), [](bool ok) { return ok; });
  if (all) ctx_.breakpoint("rsm:executed");  // every backup has, the primary not yet
  co_return all;
}

core::Task<rsm::ExecuteStatus> Rsm::execute(const rsm::ExecuteRequest& e, core::Address from) {
  const core::Time deadline = ctx_.now() + kGapWait;
  for (;;) {
    if (!views_.member() || from != views_.primary() || e.vs.view != views_.current().number) {
      co_return rsm::ExecuteStatus::not_primary;
    }
    if (e.epoch != epoch_) co_return rsm::ExecuteStatus::out_of_order;
    if (e.vs <= last_) co_return rsm::ExecuteStatus::ok;  // a resent execute: it ran
    if (!executing_ && is_next(e.vs)) {
      ctx_.breakpoint("rsm:ordered");  // a backup, before it executes
      co_await apply(e);
      ctx_.breakpoint("rsm:executed");  // a backup, after it executed, before it says so
      co_return rsm::ExecuteStatus::ok;
    }
    // Those before it are on their way (or running): wait for them, a little.
    if (ctx_.now() >= deadline) co_return rsm::ExecuteStatus::out_of_order;
    co_await executed_.wait_until(deadline);
  }
}

rsm::FetchReply Rsm::fetch(const rsm::FetchRequest& f, core::Address from) {
  rsm::FetchReply r;
  if (!views_.member() || from != views_.primary() || f.view != views_.current().number) {
    return r;
  }
  // From now on nothing executes here until the primary installs a state: the state it gets
  // now is the last this replica has.
  epoch_ = 0;
  executed_.notify_all();
  if (executing_) return r;  // (a service that waits in a handler: ask again)
  r.ok = true;
  r.has_state = !stateless_;
  r.last = last_;
  r.state = state();
  return r;
}

bool Rsm::install(const rsm::InstallRequest& i, core::Address from) {
  if (!views_.member() || from != views_.primary() || i.view != views_.current().number) {
    return false;
  }
  if (installed_.contains(i.epoch)) return true;  // a late copy: installed already
  if (executing_ || !restore_all(i.state, i.last)) return false;
  installed_.insert(i.epoch);
  epoch_ = i.epoch;
  executed_.notify_all();
  return true;
}

bool Rsm::rejoin(const rsm::FetchRequest& r, core::Address from) {
  if (!leads() || r.view != views_.current().number || !views_.current().has(from)) return false;
  if (ready_) start_view_change();  // (one on its way reaches the new incarnation too)
  return true;
}

// Until a state is installed here (or this replica leads its view), asks the primary for one.
core::Task<void> Rsm::ask_for_state() {
  while (stateless_) {
    if (leads()) break;  // its own view change gives it one
    if (views_.member()) {
      co_await client(views_.primary())
          .call<rsm::Rejoin>(rsm::FetchRequest(views_.current().number), kFetchTimeout);
    }
    co_await ctx_.sleep_for(kFetchTimeout);
  }
}

void Rsm::start_view_change() {
  ready_ = false;
  epoch_ = 0;
  executed_.notify_all();
  ++generation_;
  tasks_.spawn(view_change(generation_));
}

// The primary brings every member of its view to the state with the highest viewstamp, then
// orders again, in a new epoch. Until every member answers (or the view changes), it tries again.
core::Task<void> Rsm::view_change(std::uint64_t generation) {
  const std::uint64_t view = views_.current().number;
  auto current = [&] {
    return generation == generation_ && leads() && views_.current().number == view;
  };
  bool warned = false;
  while (current()) {
    while (executing_ && current()) co_await executed_.wait_until(ctx_.now() + 10ms);
    if (!current()) break;
    std::vector<core::Address> others;
    for (auto m : views_.current().members) {
      if (m != ctx_.address()) others.push_back(m);
    }
    std::vector<core::Task<rpc::CallResult<rsm::FetchReply>>> fetches;
    fetches.reserve(others.size());
    for (auto m : others) {
      fetches.push_back(client(m).call<rsm::Fetch>(rsm::FetchRequest(view), kFetchTimeout));
    }
    auto fetched = co_await core::when_all(ctx_, std::move(fetches));
    if (!current()) break;
    // The highest state among the members that hold one (a restarted replica's empty state is
    // none). When no member holds one, only the first view starts from the empty state: in any
    // later one the state is out of this view (or lost), and the view change waits.
    Viewstamp best = last_;
    std::string best_state = state();
    bool best_held = !stateless_;
    bool all = true;
    for (auto& f : fetched) {
      if (!f || !f->ok) {
        all = false;
      } else if (f->has_state && (!best_held || f->last > best)) {
        best = f->last;
        best_state = std::move(f->state);
        best_held = true;
      }
    }
    if (all && !best_held && view != 1) {
      if (!warned) ctx_.log("rsm: view {}: no member holds the state: waiting", view);
      warned = true;
      all = false;
    }
    if (all) {
      rsm::Epoch epoch = 0;
      while (epoch == 0) epoch = ctx_.rng().next();
      const rsm::InstallRequest install(view, epoch, best, best_state);
      std::vector<core::Task<rpc::CallResult<bool>>> installs;
      installs.reserve(others.size());
      for (auto m : others)
        installs.push_back(client(m).call<rsm::Install>(install, kFetchTimeout));
      auto installed = co_await core::when_all(ctx_, std::move(installs));
      if (!current()) break;
      all = std::all_of(installed.begin(), installed.end(),
                        [](const rpc::CallResult<bool>& r) { return r && *r; });
      if (all && !executing_ && restore_all(best_state, best)) {
        installed_.insert(epoch);
        epoch_ = epoch;
        ordered_ = last_;
        // Order at this clock, or later: never before the last request's time.
        const auto here = ctx_.now().time_since_epoch().count();
        clock_offset_ = core::Duration(std::max<std::int64_t>(0, last_time_ns_ - here));
        ready_ = true;
        executed_.notify_all();
        ctx_.log("rsm: view {}: every member at {}.{}, epoch {:#x}", view, best.view, best.seq,
                 epoch);
        co_return;
      }
    }
    co_await ctx_.sleep_for(std::chrono::milliseconds(100 + ctx_.rng().below(100)));
  }
}
// SOLUTION END

// SOLUTION BEGIN
// SOLUTION STUB
// core::Task<rsm::InvokeReply> Rsm::invoke(const rsm::Request& request) {
//   // TODO(lab8 part 1): the primary orders `request`, replicates it, executes it in its turn,
//   // and replies; others redirect the client (status not_primary, with the view they know).
//   (void)request;
//   dsys::unimplemented("Rsm::invoke");
//   co_return rsm::InvokeReply{};
// }
//
// core::Task<rsm::ExecuteStatus> Rsm::execute(const rsm::ExecuteRequest& e, core::Address from) {
//   // TODO(lab8 part 1): a backup runs the next request from the primary of its view and epoch.
//   (void)e;
//   (void)from;
//   dsys::unimplemented("Rsm::execute");
//   co_return rsm::ExecuteStatus::not_primary;
// }
//
// rsm::FetchReply Rsm::fetch(const rsm::FetchRequest& f, core::Address from) {
//   // TODO(lab8 part 1): the primary of this view asks for this replica's viewstamp and state
//   // (state()); execute nothing more until it installs one.
//   (void)f;
//   (void)from;
//   dsys::unimplemented("Rsm::fetch");
//   return {};
// }
//
// bool Rsm::install(const rsm::InstallRequest& i, core::Address from) {
//   // TODO(lab8 part 1): the primary of this view installs a state and an epoch.
//   (void)i;
//   (void)from;
//   dsys::unimplemented("Rsm::install");
//   return false;
// }
//
// bool Rsm::rejoin(const rsm::FetchRequest& r, core::Address from) {
//   // TODO(lab8 part 1): a member of this primary's view has no state: a view change.
//   (void)r;
//   (void)from;
//   dsys::unimplemented("Rsm::rejoin");
//   return false;
// }
// SOLUTION END

}  // namespace dsys::lab8
