// dsys/trace/trace.hpp: the record of a run. Every send, delivery, drop, duplicate, timer, crash,
// restart and log line, with its (virtual) time and node. Same seed, same trace, byte for byte:
// render() and digest() are what determinism is checked against.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsys/core/time.hpp"

namespace dsys::trace {

enum class Kind : std::uint8_t {
  send,       // node -> peer, `size` bytes, `digest` of the bytes
  deliver,    // peer -> node
  drop,       // a message from node to peer was lost (text says why)
  duplicate,  // a message from node to peer was duplicated by the network
  timer,      // a timer of node fired
  crash,
  restart,
  log,        // a line the node logged
  partition,  // text lists the groups
  heal,
  fail,  // node code failed (an exception, an invariant)
  note,  // a line the test wrote
};
std::string_view to_string(Kind kind);

inline constexpr std::uint32_t kNoNode = 0xffffffff;

struct Event {
  core::Time time;
  Kind kind;
  std::uint32_t node = kNoNode;
  std::uint32_t peer = kNoNode;
  std::uint32_t size = 0;
  std::uint64_t digest = 0;
  std::string text;
  // Which message a send, duplicate, deliver or drop is about: the world numbers the messages it
  // is given, from 1, and every event of one message carries its number (0: not a message). Not
  // part of the rendered line (nor of the digest): diagrams use it to draw each arrow.
  std::uint64_t message = 0;
};

// A stretch of time on one node's lane, drawn beside its events in the run's diagram: an
// operation of a history, say (the linearizability checker marks its counterexample so).
struct Span {
  std::uint32_t node = kNoNode;
  core::Time begin{};
  std::optional<core::Time> end;  // none: it never ended
  std::string text;
};

// FNV-1a, 64 bits: a message's fingerprint in the trace.
std::uint64_t fnv1a(std::string_view bytes, std::uint64_t seed = 0xcbf29ce484222325ULL);

class Trace {
 public:
  // A disabled trace keeps nothing (benchmarks); names and counts are still kept.
  void set_enabled(bool on) { enabled_ = on; }
  bool enabled() const { return enabled_; }
  void set_node_name(std::uint32_t node, std::string name);

  void add(Event event);
  const std::vector<Event>& events() const { return events_; }
  // Spans are kept even when events are not; they are not part of render() or digest().
  void add_span(Span span) { spans_.push_back(std::move(span)); }
  const std::vector<Span>& spans() const { return spans_; }
  std::uint64_t count(Kind kind) const { return counts_[static_cast<std::size_t>(kind)]; }
  // "n1 client", "n3" for a node without a name, "world" for kNoNode.
  std::string node_label(std::uint32_t node) const;
  // The names given with set_node_name, by node id ("" where none was given).
  const std::vector<std::string>& node_names() const { return names_; }

  // One line per event: "   0.012000s  n1 client   send -> n0 server  36 bytes  #1f2e…".
  std::string render_line(const Event& e) const;
  std::string render() const;
  // The last `n` lines, for failure messages.
  std::string tail(std::size_t n) const;
  // A fingerprint of render(): equal traces have equal digests.
  std::uint64_t digest() const;
  // "1200 sends, 1130 deliveries, 70 drops, ...".
  std::string summary() const;
  // Writes render() to `path` (creating its directory); returns false on an I/O error.
  bool write(const std::string& path) const;

 private:
  bool enabled_ = true;
  std::vector<Event> events_;
  std::vector<Span> spans_;
  std::vector<std::string> names_;
  std::uint64_t counts_[12]{};
};

}  // namespace dsys::trace
