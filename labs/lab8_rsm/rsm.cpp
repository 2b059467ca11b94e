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
  // TODO(lab8 part 1): a restarted replica asks for a state until it has one (a task).
}

void Rsm::on_view(const lab7::View& view) {
  // TODO(lab8 part 1): a new view: stop executing in the old epoch; a replica out of the
  // view no longer holds the state (has_state); the new primary starts the view change (a
  // task: tasks_.spawn).
  (void)view;
  dsys::unimplemented("Rsm::on_view");
}

core::Time Rsm::now() const {
  // TODO(lab8 part 1): the time of the request that executes.
  dsys::unimplemented("Rsm::now");
  return {};
}

bool Rsm::primary() const {
  // TODO(lab8 part 1): the primary of the current view, its view change done.
  dsys::unimplemented("Rsm::primary");
  return false;
}

bool Rsm::has_state() const {
  // TODO(lab8 part 1): a state was installed here (or this replica, the primary, finished a
  // view change) since it started, and no view has left it out since.
  dsys::unimplemented("Rsm::has_state");
  return false;
}

Viewstamp Rsm::last() const {
  // TODO(lab8 part 1): the last request executed here.
  dsys::unimplemented("Rsm::last");
  return {};
}

std::string Rsm::state() const {
  // TODO(lab8 part 1): the table of replies, service_.snapshot() and the last request's
  // time, as one string.
  dsys::unimplemented("Rsm::state");
  return {};
}

core::Task<rsm::InvokeReply> Rsm::invoke(const rsm::Request& request) {
  // TODO(lab8 part 1): the primary orders `request`, replicates it, executes it in its turn,
  // and replies; others redirect the client (status not_primary, with the view they know).
  (void)request;
  dsys::unimplemented("Rsm::invoke");
  co_return rsm::InvokeReply{};
}

core::Task<rsm::ExecuteStatus> Rsm::execute(const rsm::ExecuteRequest& e, core::Address from) {
  // TODO(lab8 part 1): a backup runs the next request from the primary of its view and epoch.
  (void)e;
  (void)from;
  dsys::unimplemented("Rsm::execute");
  co_return rsm::ExecuteStatus::not_primary;
}

rsm::FetchReply Rsm::fetch(const rsm::FetchRequest& f, core::Address from) {
  // TODO(lab8 part 1): the primary of this view asks for this replica's viewstamp and state
  // (state()); execute nothing more until it installs one.
  (void)f;
  (void)from;
  dsys::unimplemented("Rsm::fetch");
  return {};
}

bool Rsm::install(const rsm::InstallRequest& i, core::Address from) {
  // TODO(lab8 part 1): the primary of this view installs a state and an epoch.
  (void)i;
  (void)from;
  dsys::unimplemented("Rsm::install");
  return false;
}

bool Rsm::rejoin(const rsm::FetchRequest& r, core::Address from) {
  // TODO(lab8 part 1): a member of this primary's view has no state: a view change.
  (void)r;
  (void)from;
  dsys::unimplemented("Rsm::rejoin");
  return false;
}

}  // namespace dsys::lab8
