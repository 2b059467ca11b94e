// dsys/sim/world.hpp: the deterministic simulated world.
//
// Many nodes live in one process on virtual time. Messages between them cross a seeded network
// that drops, duplicates, delays, reorders and partitions; nodes crash (their object and every
// pending coroutine, timer and call are destroyed) and restart (built again from their disk).
// The World owns the only clock and the only event queue, and its Scheduler makes every random
// choice: the same seed gives the same run, and the same trace, byte for byte.
//
// Threading contract: a World and all its nodes run on the thread that calls step()/run_*().
//
//   sim::World world({.seed = sim::seed_from_env(7)});
//   auto server = world.add_node<EchoServer>("server");
//   world.context(client).spawn([&]() -> core::Task<void> { ... });
//   world.run_until([&] { return done; }, 10s);
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dsys/core/context.hpp"
#include "dsys/sim/faults.hpp"
#include "dsys/sim/scheduler.hpp"
#include "dsys/trace/trace.hpp"

namespace dsys::sim {

using NodeId = std::uint32_t;

// DSYS_SEED from the environment when set (a replay), otherwise `fallback`.
std::uint64_t seed_from_env(std::uint64_t fallback);

// A run stopped: node code threw, or an invariant failed. what() says what, the seed to replay
// with, where the trace was written, and the last events before the failure.
class RunFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Options {
  std::uint64_t seed = 1;
  LinkFaults faults;  // every link's faults, unless set per link
  UnsyncedWrites unsynced_on_crash = UnsyncedWrites::lost;
  bool trace = true;                  // keep every event (benchmarks turn this off)
  bool log_to_stderr = false;         // also print node log lines as they happen
  std::string label = "sim";          // names the trace file written on failure
  bool shuffle_simultaneous = false;  // RandomScheduler: random order among same-time events
  // Null: the one DSYS_SCHEDULE names (dsys/sim/strategies.hpp), RandomScheduler(seed) when
  // unset. With DSYS_SCHEDULE_RECORD=FILE, the world adds its decisions to FILE when it ends.
  std::shared_ptr<Scheduler> scheduler;
  // Says what a message is, on the trace's send lines (rpc::describe: "request proc 1 xid 3 …").
  // The world itself knows nothing of message formats.
  std::function<std::string(const core::Bytes&)> describe;
  // Held back: each message `hold_back` picks is delivered a further uniform [hold_back_min,
  // hold_back_max] later, still in order on its link (the test world's "slowed" variant: the
  // replies of slower services; see testing::TestWorld). The world knows nothing of the format.
  std::function<bool(const core::Bytes&)> hold_back;
  core::Duration hold_back_min = 1ms;
  core::Duration hold_back_max = 50ms;
  // A coroutine woken by a signal (Context::post_wake) runs up to this much later, as the
  // Scheduler chooses (Scheduler::wake_delay): messages that arrive meanwhile run first, as on a
  // real executor. 0: every woken coroutine runs right after the current event.
  core::Duration max_wake_delay = 2ms;
};

// The simulated disk of a node: it outlives crashes of the node. It keeps the durable state and
// the operations made since the last sync; sync() applies only those, so it costs the bytes
// written since the last sync (not the size of the disk).
class MemoryDisk final : public core::Storage {
 public:
  void write(std::string_view key, std::string_view value) override;
  void append(std::string_view key, std::string_view bytes) override;
  void remove(std::string_view key) override;
  void sync() override;
  std::optional<std::string> read(std::string_view key) const override;
  std::vector<std::string> keys() const override;

  // What a crash does to unsynced writes; `rng` picks the prefix (and the torn bytes).
  void crash(UnsyncedWrites policy, core::Rng& rng);
  std::size_t unsynced() const { return log_.size(); }  // operations since the last sync
  // What would survive a crash that loses every unsynced write (for invariants).
  std::optional<std::string> read_durable(std::string_view key) const;
  // Bytes that sync() has copied to the durable state, over the disk's life (for tests that
  // check that a sync costs what was written since the last one).
  std::uint64_t synced_bytes() const { return synced_bytes_; }

 private:
  enum class OpKind : std::uint8_t { write, append, remove };
  struct Op {
    OpKind kind;
    std::string key;
    std::string bytes;  // the value (write) or the bytes added (append)
  };
  void apply(const Op& op, std::size_t bytes);  // to durable_, only `bytes` of an append
  std::map<std::string, std::string, std::less<>> durable_;
  std::map<std::string, std::string, std::less<>> current_;
  std::vector<Op> log_;  // operations since the last sync, in order
  std::uint64_t synced_bytes_ = 0;
};

// One event of one node, as World::on_node_event's hook sees it.
struct NodeEvent {
  enum class Kind : std::uint8_t {
    deliver,      // a message arrives (from `peer`)
    timer,        // a timer fires
    wake,         // a coroutine is woken (a notify, a spawned task's start)
    unreachable,  // the world reports that a send could not reach its address
    send,         // the node sends a message (to `peer`; trace::kNoNode if not a node)
    sync,         // the node calls Storage::sync()
  };
  Kind kind;
  NodeId node;
  std::uint32_t incarnation;
  std::uint64_t step;  // 1 for the node's first event; counted across its incarnations
  NodeId peer = trace::kNoNode;
};
std::string_view to_string(NodeEvent::Kind kind);

class World {
 public:
  using Factory = core::NodeFactory;
  using Invariant = std::function<std::string()>;  // "" when it holds, else what is wrong

  explicit World(Options options = {});
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // --- nodes. A node's service object is built by `factory` at start and at every restart.
  NodeId add_node(std::string name, Factory factory = nullptr);
  template <class T>
  NodeId add_node(std::string name) {
    return add_node(std::move(name), core::make_node<T>());
  }
  std::size_t node_count() const { return nodes_.size(); }
  core::Address address(NodeId node) const { return core::Address::node(node); }
  const std::string& name(NodeId node) const;
  bool is_up(NodeId node) const;
  // The running incarnation's context (precondition: the node is up).
  core::Context& context(NodeId node);
  // The running incarnation's service object, as built by its factory (precondition: up).
  template <class T>
  T& service(NodeId node) {
    return *static_cast<T*>(service_object(node));
  }
  MemoryDisk& disk(NodeId node);

  // --- faults
  // Crashes the node (see docs/architecture.md). Safe from anywhere, node code included: when
  // the node's own code is running (an event of the node, or a send, sync or breakpoint it made),
  // the node is crashed at once as far as the world is concerned (is_up() is false, its disk
  // keeps only what the fault plan keeps, nothing it does from then on is sent or stored) and
  // its object is destroyed right after the current event.
  void crash(NodeId node);
  // Restarts a crashed node (not from its own code while it is being crashed).
  void restart(NodeId node);

  // --- crash points. The hook sees every event of `node` before it happens (one hook per node;
  // null removes it). It may call crash(node): then a delivery, timer, wake-up or unreachable
  // report does not happen (a delivery is dropped), a send is not sent, a sync does not sync.
  using NodeEventHook = std::function<void(const NodeEvent&)>;
  void on_node_event(NodeId node, NodeEventHook hook);
  // Crashes `node` at its event number `step` (NodeEvent::step), before it happens; once.
  void crash_at_step(NodeId node, std::uint64_t step);
  std::uint64_t steps(NodeId node) const;  // events of `node` so far
  // Crashes `node` the `nth` time (counted from now) its code reaches ctx.breakpoint(name):
  // from that instant its sends are dropped and its storage calls reach no disk, and its object
  // is destroyed after the current event. Once.
  void crash_at_breakpoint(NodeId node, std::string name, std::uint64_t nth = 1);
  // How many times `node` reached ctx.breakpoint(name), over all its incarnations.
  std::uint64_t breakpoint_hits(NodeId node, std::string_view name) const;
  void set_faults(const LinkFaults& faults);  // every link without its own
  void set_link_faults(NodeId from, NodeId to, const LinkFaults& faults);
  void partition(const std::vector<std::vector<NodeId>>& groups);  // nodes in no group: alone
  void heal();
  bool connected(NodeId a, NodeId b) const;

  // --- the test's view of the wire. The tap sees every message as it is sent (before faults);
  // inject() puts a copy of a message back on the wire, from `from` to `to`, as a network that
  // delivers an old duplicate late would.
  using Tap = std::function<void(NodeId from, NodeId to, const core::Bytes& message)>;
  void set_tap(Tap tap) { tap_ = std::move(tap); }
  void inject(NodeId from, NodeId to, core::Bytes message);

  // --- the test's own actions, run as events at a virtual time
  void at(core::Time when, std::function<void()> action);
  void after(core::Duration delay, std::function<void()> action) {
    at(now() + delay, std::move(action));
  }
  void note(std::string text);  // a line in the trace

  // --- running. Each call checks the invariants after every event, and throws RunFailure when
  // node code failed or an invariant broke.
  bool step();                     // runs one event; false when there was none
  void run_for(core::Duration d);  // runs everything due in the next `d`; now() advances by `d`
  bool run_until(const std::function<bool()>& done, core::Duration limit);  // true if done()
  void run_until_idle(core::Duration limit);  // until no event is left, or `limit` passes
  void add_invariant(std::string name, Invariant check);

  core::Time now() const { return now_; }
  std::uint64_t seed() const { return options_.seed; }
  const trace::Trace& trace() const { return trace_; }
  trace::Trace& trace() { return trace_; }
  std::uint64_t events_run() const { return events_run_; }
  std::uint64_t deliveries() const { return trace_.count(trace::Kind::deliver); }
  // Writes the trace to $DSYS_TRACE_DIR (default ./traces), as LABEL-seedN.trace, and beside it
  // its space-time diagram, LABEL-seedN.html (dsys/trace/diagram.hpp), which shows the first
  // `failure` this world was told of; with DSYS_SHIVIZ=1 also LABEL-seedN.shiviz.
  // Returns the trace's path.
  std::string write_trace(std::string_view failure = {}) const;

 private:
  class NodeHost;
  class NodeDisk;
  struct NodeSlot;
  class Inside;
  enum class EventKind : std::uint8_t { deliver, timer, wake, unreachable, action };
  struct Event {
    core::Time at;
    std::uint64_t tiebreak;
    std::uint64_t seq;
    EventKind kind;
    NodeId node;
    std::uint32_t incarnation;
    NodeId from;
    std::uint64_t id;  // waiter id, payload slot or action slot
    bool operator>(const Event& o) const {
      if (at != o.at) return at > o.at;
      if (tiebreak != o.tiebreak) return tiebreak > o.tiebreak;
      return seq > o.seq;
    }
  };

  void* service_object(NodeId node);
  NodeSlot& slot(NodeId node);
  const NodeSlot& slot(NodeId node) const;
  void push(core::Time at, EventKind kind, NodeId node, std::uint32_t incarnation, NodeId from,
            std::uint64_t id);
  void start(NodeId node);
  void send(NodeId from, core::Address to, core::Bytes message);
  // Counts the event and runs the hooks; false when they crashed the node (skip the event).
  bool node_event(NodeId node, NodeEvent::Kind kind, NodeId peer = trace::kNoNode);
  void reach_breakpoint(NodeId node, std::string_view name);
  void crash_node(NodeId node, const std::string& why);
  void bury_doomed();  // destroys nodes crashed from their own code
  void run_event(Event& e);
  void check();
  [[noreturn]] void fail_run(const std::string& what);
  std::uint64_t store_payload(core::Bytes bytes, std::uint64_t number);
  const LinkFaults& faults(NodeId from, NodeId to) const;

  Options options_;
  std::shared_ptr<Scheduler> scheduler_;
  std::shared_ptr<class RecordingScheduler> recorder_;  // with DSYS_SCHEDULE_RECORD
  std::string record_path_;
  std::size_t record_index_ = 0;  // among the worlds recorded to record_path_, from 0
  core::Rng world_rng_;           // crash policies and node seeds
  core::Rng hold_back_rng_;       // Options::hold_back's delays (apart: schedules stay the same)
  core::Time now_{};
  std::uint64_t seq_ = 0;
  std::uint64_t events_run_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::vector<core::Bytes> payloads_;
  std::vector<std::uint64_t> payload_numbers_;  // per payload slot: its message's number
  std::uint64_t messages_ = 0;                  // messages sent so far (trace::Event::message)
  std::vector<std::uint64_t> free_payloads_;
  std::map<std::uint64_t, std::function<void()>> actions_;
  std::vector<std::unique_ptr<NodeSlot>> nodes_;
  std::map<std::pair<NodeId, NodeId>, LinkFaults> link_faults_;
  std::map<std::pair<NodeId, NodeId>, core::Time> link_last_;  // FIFO per link
  std::vector<int> group_of_;  // partition group per node; empty when healed
  std::vector<std::pair<std::string, Invariant>> invariants_;
  std::optional<std::string> failure_;
  std::optional<NodeId> inside_;  // the node whose code is running, if any
  bool any_doomed_ = false;
  Tap tap_;
  trace::Trace trace_;
  mutable std::string failure_told_;  // what the first write_trace told of a failure said
};

// The diagram written beside the trace at `trace_path` (write_trace): ".trace" -> ".html".
std::string diagram_path(std::string_view trace_path);

}  // namespace dsys::sim
