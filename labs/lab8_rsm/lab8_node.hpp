// lab 8: the nodes of the replicated lock service. (Given.)
//
//   Replica     one replica: lab 7's Paxos and views, your Rsm over them, and your
//               LockStateMachine as the service it replicates. The lab's lock_server program
//               and the simulated tests build it.
//   LockRelay   on a client node: carries lab 5's CachingLockClient's Acquire and Release
//               through your RsmClient (an rpc::Relay plugged into the caching client's
//               rpc::Client), so lab 5's code works unchanged. The replicated service sees the
//               client's node as the caller (CallInfo::from), where the primary sends Revoke and
//               Retry, which the caching client serves as in lab 5.
//   ClientNode  a yfs client node of lab 8: lab 5's node, its locks through the relay.
#pragma once

#include <chrono>
#include <utility>
#include <vector>

#include "caching_lock_client.hpp"
#include "dir_client.hpp"
#include "dsys/fs/node.hpp"
#include "dsys/lock/protocol.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "lab7_node.hpp"
#include "lock_state_machine.hpp"
#include "locking_fs.hpp"
#include "rsm.hpp"
#include "rsm_client.hpp"

namespace dsys::lab8 {

// A replica of the service `Service`: a StateMachine built as Service(ctx, now, primary) from the
// Rsm's clock and role (LockStateMachine; the tests replicate services of their own).
template <class Service>
class BasicReplica {
 public:
  // `first`: the first replica's address (view 1); invalid: this is the first. `on_execute`: see
  // Rsm; `on_view`: called after the RSM has seen each view (the lock_server program prints it).
  BasicReplica(core::Context& ctx, core::Address first, Rsm::OnExecute on_execute = nullptr,
               lab7::Views::OnView on_view = nullptr)
      : on_view_(std::move(on_view)),
        paxos_(
            ctx, first,
            [this](const lab7::View& v) {
              rsm_->on_view(v);
              if (on_view_) on_view_(v);
            },
            nullptr,
            // A replica that restarted helps form views again once it has the state (VR's
            // recovery rule): else two restarted replicas could form a view without it.
            [this] { return rsm_ && rsm_->has_state(); }),
        service_(
            ctx, [this] { return rsm_->now(); }, [this] { return rsm_->primary(); }),
        rsm_(std::make_unique<Rsm>(ctx, paxos_.views(), service_, std::move(on_execute))) {}

  lab7::Views& views() { return paxos_.views(); }
  Rsm& rsm() { return *rsm_; }
  Service& service() { return service_; }

 private:
  lab7::Views::OnView on_view_;
  lab7::Node paxos_;
  Service service_;
  std::unique_ptr<Rsm> rsm_;  // made last: it reads the views and serves at once
};

using Replica = BasicReplica<LockStateMachine>;

class LockRelay final : public rpc::Relay {
 public:
  // `replicas`: at least one replica's address; `timeout`: the RSM client's (each call's own is
  // not used: the RSM client retries until its timeout).
  LockRelay(core::Context& ctx, std::vector<core::Address> replicas,
            core::Duration timeout = std::chrono::seconds(10))
      : rsm_(ctx, std::move(replicas), timeout) {}

  // From now on `locks` reaches the lock service through this relay (which outlives it).
  void carry(lab5::CachingLockClient& locks) { locks.server().relay_through(this); }
  RsmClient& rsm() { return rsm_; }

  core::Task<rpc::CallResult<core::Bytes>> relay(rpc::ServiceId service, rpc::ProcedureId procedure,
                                                 core::Bytes request, core::Duration) override {
    auto reply = co_await rsm_.invoke(service, procedure, std::move(request));
    if (reply || service != lock::kService) co_return reply;
    // No answer in time. Acquire: as if the service said retry (lab 5's client asks again).
    // Release: as lab 5's client does when its Release fails, it forgets the lock; the service,
    // which may still think it holds it, revokes it and gets it back at once.
    if (procedure == lock::Acquire::kId) co_return rpc::encode(lock::Status::retry);
    if (procedure == lock::Release::kId) co_return rpc::encode(lock::Status::not_held);
    co_return reply;
  }

 private:
  RsmClient rsm_;
};

class ClientNode {
 public:
  ClientNode(core::Context& ctx, fs::Servers servers)
      : relay_(ctx, {servers.lock}),
        extents_(rpc::Endpoint::of(ctx), servers.extent),
        locks_(ctx, servers.lock, ctx.rng().next()),
        files_(ctx, extents_),
        fs_(files_, locks_) {
    relay_.carry(locks_);
  }

  fs::FileSystem& fs() { return fs_; }
  lab5::CachingLockClient& locks() { return locks_; }
  extent::Client& extents() { return extents_; }

 private:
  LockRelay relay_;
  extent::Client extents_;
  lab5::CachingLockClient locks_;
  lab4::DirClient files_;
  lab4::LockingFs fs_;
};

}  // namespace dsys::lab8
