#include "dsys/sim/world.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "dsys/core/error.hpp"
#include "dsys/sim/strategies.hpp"
#include "dsys/trace/diagram.hpp"

namespace dsys::sim {

using core::Address;
using core::Bytes;
using core::Duration;
using core::Time;
using trace::Kind;

std::uint64_t seed_from_env(std::uint64_t fallback) {
  const char* text = std::getenv("DSYS_SEED");
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0')
    throw UsageError(fmt::format("DSYS_SEED={} is not a number", text));
  return value;
}

// ---------------------------------------------------------------- MemoryDisk

namespace {
void check_key(std::string_view key) {
  if (!core::Storage::valid_key(key)) throw UsageError(fmt::format("bad storage key '{}'", key));
}
}  // namespace

void MemoryDisk::write(std::string_view key, std::string_view value) {
  check_key(key);
  current_.insert_or_assign(std::string(key), std::string(value));
  log_.push_back(Op{OpKind::write, std::string(key), std::string(value)});
}

void MemoryDisk::append(std::string_view key, std::string_view bytes) {
  check_key(key);
  auto it = current_.find(key);
  if (it == current_.end()) it = current_.emplace(std::string(key), std::string()).first;
  it->second.append(bytes);
  log_.push_back(Op{OpKind::append, std::string(key), std::string(bytes)});
}

void MemoryDisk::remove(std::string_view key) {
  check_key(key);
  if (auto it = current_.find(key); it != current_.end()) current_.erase(it);
  log_.push_back(Op{OpKind::remove, std::string(key), {}});
}

void MemoryDisk::apply(const Op& op, std::size_t bytes) {
  switch (op.kind) {
    case OpKind::write:
      durable_.insert_or_assign(op.key, op.bytes);
      break;
    case OpKind::append: {
      auto it = durable_.find(op.key);
      if (it == durable_.end()) it = durable_.emplace(op.key, std::string()).first;
      it->second.append(op.bytes, 0, bytes);
      break;
    }
    case OpKind::remove:
      if (auto it = durable_.find(op.key); it != durable_.end()) durable_.erase(it);
      break;
  }
  synced_bytes_ += op.kind == OpKind::append ? bytes : op.bytes.size();
}

void MemoryDisk::sync() {
  for (const Op& op : log_) apply(op, op.bytes.size());
  log_.clear();
}

std::optional<std::string> MemoryDisk::read(std::string_view key) const {
  check_key(key);
  auto it = current_.find(key);
  if (it == current_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> MemoryDisk::read_durable(std::string_view key) const {
  auto it = durable_.find(key);
  if (it == durable_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> MemoryDisk::keys() const {
  std::vector<std::string> out;
  for (const auto& [key, value] : current_) out.push_back(key);
  return out;
}

void MemoryDisk::crash(UnsyncedWrites policy, core::Rng& rng) {
  std::size_t survivors = 0;
  switch (policy) {
    case UnsyncedWrites::lost:
      survivors = 0;
      break;
    case UnsyncedWrites::kept:
      survivors = log_.size();
      break;
    case UnsyncedWrites::random_prefix:
    case UnsyncedWrites::torn:
      survivors = rng.below(log_.size() + 1);
      break;
  }
  for (std::size_t i = 0; i < survivors; ++i) apply(log_[i], log_[i].bytes.size());
  if (policy == UnsyncedWrites::torn && survivors < log_.size() &&
      log_[survivors].kind == OpKind::append) {
    // The sync was cut in the middle of this append: a prefix of its bytes reached the disk.
    const Op& torn = log_[survivors];
    apply(torn, rng.below(torn.bytes.size() + 1));
  }
  log_.clear();
  current_ = durable_;
}

// ---------------------------------------------------------------- nodes

std::string_view to_string(NodeEvent::Kind kind) {
  switch (kind) {
    case NodeEvent::Kind::deliver:
      return "delivery";
    case NodeEvent::Kind::timer:
      return "timer";
    case NodeEvent::Kind::wake:
      return "wake-up";
    case NodeEvent::Kind::unreachable:
      return "unreachable";
    case NodeEvent::Kind::send:
      return "send";
    case NodeEvent::Kind::sync:
      return "sync";
  }
  return "?";
}

// Marks the code of `node` as running (so that a crash of it is deferred), until destroyed.
class World::Inside {
 public:
  Inside(World& world, NodeId node) : world_(world), saved_(world.inside_) { world.inside_ = node; }
  ~Inside() { world_.inside_ = saved_; }
  Inside(const Inside&) = delete;
  Inside& operator=(const Inside&) = delete;

 private:
  World& world_;
  std::optional<NodeId> saved_;
};

// The storage one incarnation sees: the node's disk, with its syncs reported as node events.
// After the incarnation's crash point it is a scratch copy, so that what the dead incarnation
// still does until the end of the event is self-consistent but reaches no disk.
class World::NodeDisk final : public core::Storage {
 public:
  NodeDisk(World& world, NodeId node, MemoryDisk& disk)
      : world_(world), node_(node), disk_(&disk) {}
  void die() { ghost_ = std::make_unique<MemoryDisk>(*disk_); }

  void write(std::string_view key, std::string_view value) override { target().write(key, value); }
  void append(std::string_view key, std::string_view bytes) override {
    target().append(key, bytes);
  }
  void remove(std::string_view key) override { target().remove(key); }
  void sync() override {
    if (!ghost_) {
      Inside inside(world_, node_);
      world_.node_event(node_, NodeEvent::Kind::sync);  // may crash the node: then it is a ghost
    }
    target().sync();
  }
  std::optional<std::string> read(std::string_view key) const override {
    return ghost_ ? ghost_->read(key) : disk_->read(key);
  }
  std::vector<std::string> keys() const override { return ghost_ ? ghost_->keys() : disk_->keys(); }

 private:
  MemoryDisk& target() { return ghost_ ? *ghost_ : *disk_; }
  World& world_;
  NodeId node_;
  MemoryDisk* disk_;
  std::unique_ptr<MemoryDisk> ghost_;
};

// The Host of one incarnation of one node: forwards to the World, tagged with the incarnation
// so that timers and wake-ups of a crashed incarnation are ignored.
class World::NodeHost final : public core::Host {
 public:
  NodeHost(World& world, NodeId node, std::uint32_t incarnation, std::uint64_t seed,
           MemoryDisk& disk)
      : world_(world),
        node_(node),
        incarnation_(incarnation),
        disk_(world, node, disk),
        context_(*this, Address::node(node), world.name(node), seed) {}

  core::Context& context() { return context_; }
  std::uint32_t incarnation() const { return incarnation_; }
  // The incarnation passed its crash point while its code was running: from now on it is a ghost
  // until the world destroys it after the current event.
  void die() {
    dead_ = true;
    disk_.die();
  }

  Time now() const override { return world_.now_; }
  void arm_timer(Time when, core::WaiterId id) override {
    world_.push(std::max(when, world_.now_), EventKind::timer, node_, incarnation_, node_, id);
  }
  void cancel_timer(core::WaiterId) override {}  // a stale timer finds no waiter and is skipped
  void post_wake(core::WaiterId id) override {
    const core::Duration max = world_.options_.max_wake_delay;
    const core::Duration late =
        max > core::Duration::zero() ? world_.scheduler_->wake_delay(max) : core::Duration::zero();
    world_.push(world_.now_ + late, EventKind::wake, node_, incarnation_, node_, id);
  }
  void send(Address to, Bytes message) override {
    if (dead_) {
      world_.trace_.add(
          {world_.now_, Kind::drop, node_, to.is_node() ? to.node_index() : trace::kNoNode,
           static_cast<std::uint32_t>(message.size()), 0, "not sent: sender crashed"});
      return;
    }
    world_.send(node_, to, std::move(message));
  }
  void disconnect(Address peer, std::string_view reason) override {
    world_.trace_.add({world_.now_, Kind::log, node_, trace::kNoNode, 0, 0,
                       fmt::format("disconnect {}: {}", peer.to_string(), reason)});
  }
  core::Storage& storage() override { return disk_; }
  void breakpoint(std::string_view name) override {
    if (!dead_) world_.reach_breakpoint(node_, name);
  }
  void log_line(std::string_view text) override {
    if (world_.options_.log_to_stderr) {
      std::cerr << fmt::format("{} {}: {}\n", core::format_time(world_.now_), world_.name(node_),
                               text);
    }
    world_.trace_.add({world_.now_, Kind::log, node_, trace::kNoNode, 0, 0,
                       dead_ ? fmt::format("(after its crash) {}", text) : std::string(text)});
  }
  void fail(std::string_view what) override {
    world_.trace_.add({world_.now_, Kind::fail, node_, trace::kNoNode, 0, 0, std::string(what)});
    if (!world_.failure_)
      world_.failure_ = fmt::format("node {} failed: {}", world_.name(node_), what);
  }

 private:
  World& world_;
  NodeId node_;
  std::uint32_t incarnation_;
  bool dead_ = false;
  NodeDisk disk_;
  core::Context context_;
};

struct World::NodeSlot {
  std::string name;
  Factory factory;
  bool up = false;
  std::uint32_t incarnation = 0;
  MemoryDisk disk;
  std::unique_ptr<NodeHost> host;
  std::shared_ptr<void> service;
  bool doomed = false;  // crashed from its own code: host and service destroyed after the event
  // crash points
  std::uint64_t steps = 0;
  NodeEventHook hook;
  std::optional<std::uint64_t> crash_step;
  struct Armed {
    std::string name;
    std::uint64_t nth;
    std::uint64_t hits = 0;
  };
  std::vector<Armed> armed;
  std::map<std::string, std::uint64_t, std::less<>> breakpoint_hits;
};

void* World::service_object(NodeId node) {
  NodeSlot& n = slot(node);
  if (!n.up) throw UsageError(fmt::format("node {} is down", n.name));
  return n.service.get();
}

World::World(Options options)
    : options_(std::move(options)),
      scheduler_(options_.scheduler),
      world_rng_(options_.seed ^ 0x5eed5eed5eedULL),
      hold_back_rng_(options_.seed ^ 0x51090051090ULL) {
  // Worlds are numbered from 0 in the order this process made them, per DSYS_SCHEDULE value (a
  // choices file has a part for each) and per record file (whose "world K" lines name them): in
  // a run of one test, the two numbers agree (strategies.hpp).
  static std::map<std::string, std::size_t> worlds_scheduled, worlds_recorded;
  if (!scheduler_) {
    const char* schedule = std::getenv("DSYS_SCHEDULE");
    const std::size_t index = worlds_scheduled[schedule != nullptr ? schedule : ""]++;
    scheduler_ = scheduler_from_env(options_.seed, options_.shuffle_simultaneous, index);
  }
  if (const char* record = std::getenv("DSYS_SCHEDULE_RECORD"); record != nullptr && *record) {
    recorder_ = std::make_shared<RecordingScheduler>(scheduler_);
    scheduler_ = recorder_;
    record_path_ = record;
    record_index_ = worlds_recorded[record_path_]++;
  }
  trace_.set_enabled(options_.trace);
}

World::~World() {
  if (recorder_) {
    std::ofstream out(record_path_, std::ios::app);
    out << "world " << record_index_ << "\n# events " << events_run_ << "\n" << recorder_->record();
  }
  for (auto& n : nodes_) {
    if (!n->host) continue;
    n->host->context().shutdown();
    n->service.reset();
    n->host.reset();
  }
}

World::NodeSlot& World::slot(NodeId node) {
  if (node >= nodes_.size()) throw UsageError(fmt::format("no node {}", node));
  return *nodes_[node];
}
const World::NodeSlot& World::slot(NodeId node) const {
  if (node >= nodes_.size()) throw UsageError(fmt::format("no node {}", node));
  return *nodes_[node];
}

NodeId World::add_node(std::string name, Factory factory) {
  const auto id = static_cast<NodeId>(nodes_.size());
  auto n = std::make_unique<NodeSlot>();
  n->name = std::move(name);
  n->factory = std::move(factory);
  trace_.set_node_name(id, n->name);
  nodes_.push_back(std::move(n));
  if (!group_of_.empty()) group_of_.push_back(-1 - static_cast<int>(id));
  start(id);
  return id;
}

void World::start(NodeId node) {
  NodeSlot& n = slot(node);
  const std::uint64_t seed = options_.seed * 0x100000001b3ULL + node * 7919ULL + n.incarnation;
  n.host = std::make_unique<NodeHost>(*this, node, n.incarnation, seed, n.disk);
  n.up = true;
  if (n.factory) n.service = n.factory(n.host->context());
}

const std::string& World::name(NodeId node) const {
  return slot(node).name;
}
bool World::is_up(NodeId node) const {
  return slot(node).up;
}
MemoryDisk& World::disk(NodeId node) {
  return slot(node).disk;
}

core::Context& World::context(NodeId node) {
  NodeSlot& n = slot(node);
  if (!n.up) throw UsageError(fmt::format("node {} is down", n.name));
  return n.host->context();
}

void World::crash(NodeId node) {
  crash_node(node, {});
}

void World::crash_node(NodeId node, const std::string& why) {
  NodeSlot& n = slot(node);
  if (!n.up) return;
  trace_.add(
      {now_, Kind::crash, node, trace::kNoNode, 0, 0,
       fmt::format("{}{}{} unsynced writes", why, why.empty() ? "" : "; ", n.disk.unsynced())});
  n.up = false;
  if (inside_ == node) {
    // Its own code is running and cannot be destroyed under its feet: it becomes a ghost now
    // (nothing it sends or stores has effect) and is destroyed after the current event.
    n.host->die();
    n.disk.crash(options_.unsynced_on_crash, world_rng_);
    n.incarnation++;
    n.doomed = true;
    any_doomed_ = true;
    return;
  }
  n.host->context().shutdown();  // pending coroutines, timers and calls first
  n.service.reset();             // then the node's object
  n.host.reset();                // then its context
  n.disk.crash(options_.unsynced_on_crash, world_rng_);
  n.incarnation++;
}

void World::bury_doomed() {
  if (!any_doomed_) return;
  any_doomed_ = false;
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    NodeSlot& n = *nodes_[id];
    if (!n.doomed) continue;
    if (inside_ == id) {
      any_doomed_ = true;  // still running: later
      continue;
    }
    n.doomed = false;
    n.host->context().shutdown();
    n.service.reset();
    n.host.reset();
  }
}

void World::restart(NodeId node) {
  NodeSlot& n = slot(node);
  if (n.up) return;
  if (n.doomed) {
    if (inside_ == node) throw UsageError(fmt::format("node {} cannot restart itself", n.name));
    bury_doomed();
  }
  trace_.add({now_, Kind::restart, node, trace::kNoNode, 0, 0, {}});
  start(node);
}

void World::on_node_event(NodeId node, NodeEventHook hook) {
  slot(node).hook = std::move(hook);
}

void World::crash_at_step(NodeId node, std::uint64_t step) {
  slot(node).crash_step = step;
}

std::uint64_t World::steps(NodeId node) const {
  return slot(node).steps;
}

void World::crash_at_breakpoint(NodeId node, std::string name, std::uint64_t nth) {
  if (nth == 0) throw UsageError("crash_at_breakpoint: nth counts from 1");
  slot(node).armed.push_back({std::move(name), nth});
}

std::uint64_t World::breakpoint_hits(NodeId node, std::string_view name) const {
  const auto& hits = slot(node).breakpoint_hits;
  auto it = hits.find(name);
  return it == hits.end() ? 0 : it->second;
}

bool World::node_event(NodeId node, NodeEvent::Kind kind, NodeId peer) {
  NodeSlot& n = slot(node);
  const NodeEvent event{kind, node, n.incarnation, ++n.steps, peer};
  if (n.hook) {
    const NodeEventHook hook = n.hook;  // the hook may replace itself
    hook(event);
  }
  if (n.up && n.incarnation == event.incarnation && n.crash_step == event.step) {
    n.crash_step.reset();
    crash_node(node,
               fmt::format("at its step {}: {}{}", event.step, to_string(kind),
                           peer == trace::kNoNode
                               ? ""
                               : fmt::format(" {} n{}",
                                             kind == NodeEvent::Kind::send ? "to" : "from", peer)));
  }
  return n.up && n.incarnation == event.incarnation;
}

void World::reach_breakpoint(NodeId node, std::string_view name) {
  NodeSlot& n = slot(node);
  auto hit = n.breakpoint_hits.find(name);
  if (hit == n.breakpoint_hits.end()) hit = n.breakpoint_hits.emplace(std::string(name), 0).first;
  ++hit->second;
  for (auto it = n.armed.begin(); it != n.armed.end(); ++it) {
    if (it->name != name || ++it->hits < it->nth) continue;
    n.armed.erase(it);
    Inside inside(*this, node);
    crash_node(node, fmt::format("at breakpoint {} (reached {} times)", name, hit->second));
    return;
  }
}

void World::set_faults(const LinkFaults& faults) {
  options_.faults = faults;
}
void World::set_link_faults(NodeId from, NodeId to, const LinkFaults& faults) {
  link_faults_[{from, to}] = faults;
}
const LinkFaults& World::faults(NodeId from, NodeId to) const {
  if (link_faults_.empty()) return options_.faults;
  auto it = link_faults_.find({from, to});
  return it == link_faults_.end() ? options_.faults : it->second;
}

void World::partition(const std::vector<std::vector<NodeId>>& groups) {
  group_of_.assign(nodes_.size(), 0);
  for (NodeId i = 0; i < nodes_.size(); ++i) group_of_[i] = -1 - static_cast<int>(i);
  std::string text;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    text += g == 0 ? "{" : " | {";
    for (std::size_t k = 0; k < groups[g].size(); ++k) {
      group_of_.at(groups[g][k]) = static_cast<int>(g);
      text += fmt::format("{}{}", k == 0 ? "" : " ", name(groups[g][k]));
    }
    text += "}";
  }
  trace_.add({now_, Kind::partition, trace::kNoNode, trace::kNoNode, 0, 0, text});
}

void World::heal() {
  group_of_.clear();
  trace_.add({now_, Kind::heal, trace::kNoNode, trace::kNoNode, 0, 0, {}});
}

bool World::connected(NodeId a, NodeId b) const {
  return group_of_.empty() || group_of_[a] == group_of_[b];
}

void World::at(Time when, std::function<void()> action) {
  const std::uint64_t id = seq_;
  actions_.emplace(id, std::move(action));
  push(std::max(when, now_), EventKind::action, trace::kNoNode, 0, trace::kNoNode, id);
}

void World::note(std::string text) {
  trace_.add({now_, Kind::note, trace::kNoNode, trace::kNoNode, 0, 0, std::move(text)});
}

void World::add_invariant(std::string name, Invariant check) {
  invariants_.emplace_back(std::move(name), std::move(check));
}

// ---------------------------------------------------------------- events

void World::push(Time at, EventKind kind, NodeId node, std::uint32_t incarnation, NodeId from,
                 std::uint64_t id) {
  queue_.push(Event{at, scheduler_->tiebreak(), seq_++, kind, node, incarnation, from, id});
}

std::uint64_t World::store_payload(Bytes bytes, std::uint64_t number) {
  if (!free_payloads_.empty()) {
    const std::uint64_t slot_index = free_payloads_.back();
    free_payloads_.pop_back();
    payloads_[slot_index] = std::move(bytes);
    payload_numbers_[slot_index] = number;
    return slot_index;
  }
  payloads_.push_back(std::move(bytes));
  payload_numbers_.push_back(number);
  return payloads_.size() - 1;
}

void World::send(NodeId from, Address to, Bytes message) {
  const bool traced = trace_.enabled();
  const auto size = static_cast<std::uint32_t>(message.size());
  const std::uint64_t digest = traced ? trace::fnv1a(message) : 0;
  const std::uint64_t number = ++messages_;
  {
    Inside inside(*this, from);
    const NodeId peer =
        to.is_node() && to.node_index() < nodes_.size() ? to.node_index() : trace::kNoNode;
    if (!node_event(from, NodeEvent::Kind::send, peer)) {
      trace_.add({now_, Kind::drop, from, peer, size, digest, "not sent: sender crashed", number});
      return;
    }
  }
  if (!to.is_node() || to.node_index() >= nodes_.size()) {
    trace_.add({now_, Kind::drop, from, trace::kNoNode, size, digest,
                fmt::format("no such node {}", to.to_string()), number});
    push(now_, EventKind::unreachable, from, slot(from).incarnation, from, to.raw());
    return;
  }
  const NodeId dest = to.node_index();
  trace_.add({now_, Kind::send, from, dest, size, digest,
              traced && options_.describe ? options_.describe(message) : std::string(), number});
  if (tap_) tap_(from, dest, message);
  if (!connected(from, dest)) {
    trace_.add({now_, Kind::drop, from, dest, size, digest, "partitioned", number});
    return;
  }
  const LinkFaults& link = faults(from, dest);
  const Routing routing = scheduler_->route(from, dest, link);
  if (routing.copies == 0) {
    trace_.add({now_, Kind::drop, from, dest, size, digest, "lost", number});
    return;
  }
  if (routing.copies > 1) trace_.add({now_, Kind::duplicate, from, dest, size, digest, {}, number});
  Duration held{};
  if (options_.hold_back && options_.hold_back(message)) {
    held = options_.hold_back_min +
           Duration(hold_back_rng_.below(static_cast<std::uint64_t>(
               (options_.hold_back_max - options_.hold_back_min).count() + 1)));
  }
  for (int copy = 0; copy < routing.copies; ++copy) {
    Time at = now_ + routing.delay[copy] + held;
    if (!routing.reordered[copy]) {
      // In order with everything sent before on this link (unless that was held back).
      Time& last = link_last_[{from, dest}];
      if (at <= last) at = last + Duration(1);
      last = at;
    }
    // Moved only into the last copy (which clang-tidy does not see).
    const bool last_copy = copy + 1 == routing.copies;
    const std::uint64_t payload =
        store_payload(last_copy ? std::move(message) : message,  // NOLINT(bugprone-use-after-move)
                      number);
    push(at, EventKind::deliver, dest, 0, from, payload);
  }
}

void World::inject(NodeId from, NodeId to, Bytes message) {
  slot(from);
  slot(to);
  const std::uint64_t number = ++messages_;
  trace_.add({now_, Kind::note, from, to, static_cast<std::uint32_t>(message.size()),
              trace::fnv1a(message), "injected by the test: a late copy", number});
  push(now_ + options_.faults.min_delay, EventKind::deliver, to, 0, from,
       store_payload(std::move(message), number));
}

bool World::step() {
  bury_doomed();  // crashed from their own code outside an event
  while (!queue_.empty()) {
    Event e = queue_.top();
    queue_.pop();
    now_ = std::max(now_, e.at);
    const bool ran = [&] {
      switch (e.kind) {
        case EventKind::deliver:
        case EventKind::action:
          return true;
        default: {
          const NodeSlot& n = *nodes_[e.node];
          if (!n.up || n.incarnation != e.incarnation) return false;
          return e.kind == EventKind::unreachable || n.host->context().is_waiting(e.id);
        }
      }
    }();
    if (!ran) continue;  // stale: a timer or wake-up of a waiter that is gone
    run_event(e);
    bury_doomed();
    ++events_run_;
    check();
    return true;
  }
  return false;
}

void World::run_event(Event& e) {
  switch (e.kind) {
    case EventKind::deliver: {
      Bytes message = std::move(payloads_[e.id]);
      payloads_[e.id] = Bytes();
      free_payloads_.push_back(e.id);
      const std::uint64_t number = payload_numbers_[e.id];
      const auto size = static_cast<std::uint32_t>(message.size());
      const std::uint64_t digest = trace_.enabled() ? trace::fnv1a(message) : 0;
      NodeSlot& n = *nodes_[e.node];
      if (!n.up) {
        trace_.add({now_, Kind::drop, e.from, e.node, size, digest, "destination down", number});
      } else if (!connected(e.from, e.node)) {
        trace_.add({now_, Kind::drop, e.from, e.node, size, digest, "partitioned", number});
      } else if (!node_event(e.node, NodeEvent::Kind::deliver, e.from)) {
        trace_.add({now_, Kind::drop, e.from, e.node, size, digest, "destination crashed", number});
      } else {
        trace_.add({now_, Kind::deliver, e.node, e.from, size, digest, {}, number});
        Inside inside(*this, e.node);
        n.host->context().deliver(Address::node(e.from), std::move(message));
      }
      break;
    }
    case EventKind::timer:
      if (!node_event(e.node, NodeEvent::Kind::timer)) break;
      trace_.add({now_, Kind::timer, e.node, trace::kNoNode, 0, 0, {}});
      {
        Inside inside(*this, e.node);
        nodes_[e.node]->host->context().wake(e.id, core::WakeCause::timer);
      }
      break;
    case EventKind::wake:
      if (!node_event(e.node, NodeEvent::Kind::wake)) break;
      {
        Inside inside(*this, e.node);
        nodes_[e.node]->host->context().wake(e.id, core::WakeCause::signal);
      }
      break;
    case EventKind::unreachable:
      if (!node_event(e.node, NodeEvent::Kind::unreachable)) break;
      {
        Inside inside(*this, e.node);
        nodes_[e.node]->host->context().report_unreachable(Address::from_raw(e.id));
      }
      break;
    case EventKind::action: {
      auto it = actions_.find(e.id);
      auto action = std::move(it->second);
      actions_.erase(it);
      action();
      break;
    }
  }
}

void World::check() {
  if (!failure_) {
    for (const auto& [name, invariant] : invariants_) {
      std::string broken = invariant();
      if (!broken.empty()) {
        failure_ = fmt::format("invariant '{}' broken: {}", name, broken);
        trace_.add({now_, Kind::fail, trace::kNoNode, trace::kNoNode, 0, 0, *failure_});
        break;
      }
    }
  }
  if (failure_) {
    std::string what = std::move(*failure_);
    failure_.reset();
    fail_run(what);
  }
}

std::string World::write_trace(std::string_view failure) const {
  const char* dir = std::getenv("DSYS_TRACE_DIR");
  const std::string stem = fmt::format("{}/{}-seed{}", dir != nullptr && *dir ? dir : "traces",
                                       options_.label, options_.seed);
  std::string path = stem + ".trace";
  if (!trace_.write(path)) return fmt::format("(could not write {})", path);
  if (failure_told_.empty()) failure_told_ = std::string(failure);  // the first one told wins
  trace::DiagramOptions diagram;
  diagram.title = fmt::format("{}, seed {}", options_.label, options_.seed);
  diagram.failure = failure_told_;
  if (!trace::write_text_file(diagram_path(path), trace::render_html(trace_, diagram))) {
    fmt::print(stderr, "dsys: could not write the diagram {}\n", diagram_path(path));
  }
  if (const char* shiviz = std::getenv("DSYS_SHIVIZ"); shiviz != nullptr && *shiviz == '1') {
    trace::write_text_file(stem + ".shiviz", trace::render_shiviz(trace_));
  }
  return path;
}

std::string diagram_path(std::string_view trace_path) {
  std::string path(trace_path);
  if (path.ends_with(".trace")) path.resize(path.size() - 6);
  return path + ".html";
}

void World::fail_run(const std::string& what) {
  if (!trace_.enabled()) {
    throw RunFailure(
        fmt::format("{}\n  at {} of run '{}'\n  replay: DSYS_SEED={}\n"
                    "  trace: none (tracing is off in this run)",
                    what, core::format_time(now_), options_.label, options_.seed));
  }
  const std::string path = write_trace(what);
  const std::string diagram =
      path.ends_with(".trace") ? fmt::format("  diagram: {}\n", diagram_path(path)) : "";
  throw RunFailure(
      fmt::format("{}\n  at {} of run '{}'\n  replay: DSYS_SEED={}\n  trace: {}\n{}"
                  "  last events:\n{}",
                  what, core::format_time(now_), options_.label, options_.seed, path, diagram,
                  trace_.tail(12)));
}

void World::run_for(Duration d) {
  const Time until = now_ + d;
  while (!queue_.empty() && queue_.top().at <= until) step();
  now_ = std::max(now_, until);
}

bool World::run_until(const std::function<bool()>& done, Duration limit) {
  const Time until = now_ + limit;
  while (!done()) {
    if (queue_.empty() || queue_.top().at > until) return done();
    step();
  }
  return true;
}

void World::run_until_idle(Duration limit) {
  const Time until = now_ + limit;
  while (!queue_.empty() && queue_.top().at <= until) step();
}

}  // namespace dsys::sim
