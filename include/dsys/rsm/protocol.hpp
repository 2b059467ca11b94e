// dsys/rsm/protocol.hpp: the replicated state machine's procedures (lab 8), between replicas
// (service kService) and from clients to replicas (service kClientService).
//
// Primary/backup over lab 7's views. The primary of a view (its first member) orders the
// clients' requests: the k-th request it orders in view v gets the viewstamp (v, k), and it has
// every backup of the view execute each request, in viewstamp order, before it executes it
// itself and replies. So every replica of a view executes the same requests in the same order.
//
//   invoke(request)         client -> any replica. The primary answers ok with the reply's bytes
//                           once every member has executed the request (or at once, with the
//                           saved reply, for a request it has executed before); another replica
//                           answers not_primary with the primary and members it knows; a primary
//                           that is still bringing its view's members to one state answers busy.
//   execute(epoch, vs, r)   primary -> backup: run request r as number vs. A backup runs it only
//                           when it comes from the primary of its view, in the epoch the primary
//                           last installed on it, and vs is the next viewstamp after its own;
//                           one that arrives early waits a little for those before it.
//   fetch(view)             a new primary -> member: your last viewstamp and your whole state
//                           (and whether you hold one); execute nothing more until an install.
//   install(view, epoch, vs, s)
//                           the primary -> member: your state is s, as of vs; accept executes of
//                           this epoch from now on.
//   rejoin(view)            a restarted member that has had no install yet -> its primary: I
//                           have no state; make a view change (it installs one on me).
//
// The view change (state transfer). Whenever a replica becomes primary, and whenever a backup
// refuses an execute as out of order, nothing executes until the primary has fetched every
// member's (viewstamp, state), installed the one with the highest viewstamp on them all, and
// taken a new epoch (a random number): executes of an older epoch are then refused, so a request
// ordered before the change can never run after it. A request that some member executed survives
// in the highest state; one that no member executed was never answered and its client sends it
// again.
//
// At most once. A client names its requests (client id, sequence number) and sends the same name
// again when it retries. The table of each client's last replies is part of the replicated state
// (it is carried by install), so a retry after a fail-over gets the saved reply instead of running
// twice. A request says which of its client's replies are still wanted (done_below: the client has
// the replies of every request numbered below it), so the table keeps only those.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dsys/rpc/procedure.hpp"

namespace dsys::rsm {

using ClientId = std::uint64_t;
using Sequence = std::uint64_t;
using Epoch = std::uint64_t;

// The position of a request in the order: the view that ordered it, and its number in that view
// (from 1). {0, 0}: nothing executed yet.
struct Viewstamp {
  std::uint64_t view = 0;
  std::uint64_t seq = 0;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 sees a literal 0 in a defaulted <=>
  friend constexpr auto operator<=>(const Viewstamp&, const Viewstamp&) = default;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& view& seq;
  }
};

// The largest request or reply body, and the largest state, the RSM carries.
inline constexpr std::size_t kMaxBodySize = 64u << 10;
inline constexpr std::size_t kMaxStateSize = 64u << 20;

// One client request, as the replicated service will run it: procedure (service, procedure) of
// the service, on `body`, as a call from `caller` (the client's node: CallInfo::from, where the
// service may call it back).
struct Request {
  Request() = default;
  Request(ClientId c, Sequence s, Sequence d, std::uint64_t from, rpc::ServiceId sv,
          rpc::ProcedureId p, std::string b)
      : client(c),
        seq(s),
        done_below(d),
        caller(from),
        service(sv),
        procedure(p),
        body(std::move(b)) {}
  ClientId client = 0;
  Sequence seq = 0;          // from 1, one per request of this client; the same on a retry
  Sequence done_below = 0;   // the client has the replies of all its requests below this number
  std::uint64_t caller = 0;  // an Address's raw()
  rpc::ServiceId service = 0;
  rpc::ProcedureId procedure = 0;
  std::string body;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& client& seq& done_below& caller& service& procedure& body;
  }
};

// ---- replica to replica

inline constexpr rpc::ServiceId kService = 5;  // see rpc/procedure.hpp

struct ExecuteRequest {
  ExecuteRequest() = default;
  ExecuteRequest(Epoch e, Viewstamp v, std::int64_t t, Request r)
      : epoch(e), vs(v), time_ns(t), request(std::move(r)) {}
  Epoch epoch = 0;
  Viewstamp vs;
  // The primary's clock when it ordered the request, in nanoseconds: the time every replica's
  // service sees while it runs it (a service must not read its own clock: replicas would differ).
  std::int64_t time_ns = 0;
  Request request;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& epoch& vs& time_ns& request;
  }
};

enum class ExecuteStatus : std::uint8_t {
  ok = 0,            // executed (now, or before: a resent execute)
  not_primary = 1,   // the sender is not the primary of this replica's view, or another view
  out_of_order = 2,  // another epoch, or a gap before vs that did not fill: install again
};

constexpr std::string_view to_string(ExecuteStatus s) {
  switch (s) {
    case ExecuteStatus::ok:
      return "ok";
    case ExecuteStatus::not_primary:
      return "not primary";
    case ExecuteStatus::out_of_order:
      return "out of order";
  }
  return "unknown execute status";
}

struct Execute {
  static constexpr rpc::ServiceId kService = rsm::kService;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "rsm.execute";
  using Request = ExecuteRequest;
  using Reply = ExecuteStatus;
  static bool valid(const ExecuteRequest& r) {
    return r.vs.seq != 0 && r.request.body.size() <= kMaxBodySize;
  }
};

struct FetchRequest {
  FetchRequest() = default;
  explicit FetchRequest(std::uint64_t v) : view(v) {}
  std::uint64_t view = 0;  // the view whose primary asks
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& view;
  }
};

struct FetchReply {
  bool ok = false;         // false: the sender is not the primary of this replica's view
  Viewstamp last;          // the last request this replica executed
  std::string state;       // its whole state (the service's, and the table of replies)
  bool has_state = false;  // false: it restarted or was out of the view, and was given no state
                           // since (last, state: none)
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& ok& last& state& has_state;
  }
};

struct Fetch {
  static constexpr rpc::ServiceId kService = rsm::kService;
  static constexpr rpc::ProcedureId kId = 2;
  static constexpr std::string_view kName = "rsm.fetch";
  using Request = FetchRequest;
  using Reply = FetchReply;
};

struct InstallRequest {
  InstallRequest() = default;
  InstallRequest(std::uint64_t v, Epoch e, Viewstamp l, std::string s)
      : view(v), epoch(e), last(l), state(std::move(s)) {}
  std::uint64_t view = 0;
  Epoch epoch = 0;
  Viewstamp last;
  std::string state;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& view& epoch& last& state;
  }
};

struct Install {
  static constexpr rpc::ServiceId kService = rsm::kService;
  static constexpr rpc::ProcedureId kId = 3;
  static constexpr std::string_view kName = "rsm.install";
  using Request = InstallRequest;
  using Reply = bool;  // false: the sender is not the primary of this replica's view
  static bool valid(const InstallRequest& r) {
    return r.epoch != 0 && r.state.size() <= kMaxStateSize;
  }
};

// A member that has no state (it restarted, and its view has not changed since: the others did
// not notice) asks the primary of its view for a view change, which installs the state on it.
struct Rejoin {
  static constexpr rpc::ServiceId kService = rsm::kService;
  static constexpr rpc::ProcedureId kId = 4;
  static constexpr std::string_view kName = "rsm.rejoin";
  using Request = FetchRequest;  // the view it is a member of
  using Reply = bool;            // true: the receiver is that view's primary, and will install
};

// ---- client to replica

inline constexpr rpc::ServiceId kClientService = 6;  // see rpc/procedure.hpp

enum class InvokeStatus : std::uint8_t {
  ok = 0,           // executed by every member: the reply is in `body`
  not_primary = 1,  // ask `primary` (when known; `members`: the view this replica knows)
  busy = 2,         // the primary is bringing its members to one state, or this very request
                    // is on its way: ask again in a moment
  forgotten = 3,    // the request is below the client's done_below: its reply was dropped
};

constexpr std::string_view to_string(InvokeStatus s) {
  switch (s) {
    case InvokeStatus::ok:
      return "ok";
    case InvokeStatus::not_primary:
      return "not primary";
    case InvokeStatus::busy:
      return "busy";
    case InvokeStatus::forgotten:
      return "forgotten";
  }
  return "unknown invoke status";
}

struct InvokeReply {
  InvokeStatus status = InvokeStatus::busy;
  std::uint64_t primary = 0;           // an Address's raw(); 0: not known
  std::vector<std::uint64_t> members;  // the replicas of the view it knows (raw addresses)
  std::string body;                    // ok: the service's reply
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& status& primary& members& body;
  }
};

struct Invoke {
  static constexpr rpc::ServiceId kService = rsm::kClientService;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "rsm_client.invoke";
  using Request = rsm::Request;
  using Reply = InvokeReply;
  static bool valid(const rsm::Request& r) { return r.seq != 0 && r.body.size() <= kMaxBodySize; }
};

}  // namespace dsys::rsm
