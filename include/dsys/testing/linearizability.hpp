// dsys/testing/linearizability.hpp: does a recorded history of operations on a service look as if
// each operation took effect at one instant between its call and its response (Herlihy & Wing,
// "Linearizability", 1990)? Tests record what their clients called and saw, then ask:
//
//   auto result = dsys::testing::check_linearizable(dsys::testing::lock_model(), history);
//   INFO(result.explain());
//   CHECK(result.linearizable);
//
// The history is checked one key at a time: a key names one object of the model (a lock, a
// register, a name in a directory) and operations on different keys never constrain each other.
//
// Times. Operation A precedes operation B only when A's response is strictly earlier than B's call;
// when A's response time equals B's call time the two count as concurrent (either may take effect
// first). Virtual time has ties, and a tie proves no order. An operation whose response is unknown
// (the client crashed or gave up) is concurrent with everything after its call, and may or may not
// have taken effect: the history is linearizable if some choice of the unknown operations that took
// effect, together with every operation that responded, has a legal order.
//
// Not thread-safe: a Model's step must be callable from the thread that checks; check_linearizable
// keeps no state between calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dsys/core/time.hpp"
#include "dsys/trace/trace.hpp"

namespace dsys::testing {

// One call of one client, as the client saw it.
struct Operation {
  std::uint32_t client = 0;  // who called it (a node id), for printing
  std::string key;           // the object it acts on: the history is checked per key
  std::string action;        // "acquire", "release", "put", "get", "create", "lookup", "unlink"
  std::string argument;      // e.g. the value put; may be empty
  core::Time call{};         // invocation time
  // nullopt: unknown outcome (client crashed / timed out); the operation then need not have taken
  // effect. Otherwise response >= call (check_linearizable throws std::invalid_argument if not).
  std::optional<core::Time> response;
  // The output seen; nullopt when the outcome is unknown. A model lets an operation without a
  // result return anything.
  std::optional<std::string> result;
};

// A sequential specification, its states as strings (so that they hash and print).
struct Model {
  std::string name;     // "lock", "register", "namespace"
  std::string initial;  // the state of every key at the start
  // The state after `op` runs in `state`, or nullopt if op's result is impossible there.
  // When op.result is nullopt (unknown outcome), any result is allowed: return the state the
  // op leaves if it ran (the checker also allows it to never take effect).
  std::function<std::optional<std::string>(const std::string& state, const Operation& op)> step;
};

// key = a lock; state "" = free, else the holder's client id as text.
//   acquire -> "ok":       legal iff free; then held by op.client.
//   release -> "ok":       legal iff held by op.client; then free.
//   release -> "not_held": legal iff not held by op.client; unchanged.
// Any other action throws std::invalid_argument; any other result is illegal.
Model lock_model();

// key = a register; initial "".
//   put(argument) -> "ok": state = argument.
//   get -> r:              legal iff r == state.
Model register_model();

// One directory; key = a file name; state "" = absent, else the file's inum as text.
//   create -> "exists": legal iff present; unchanged.
//   create -> r:        (any other non-empty r) legal iff absent; then present with inum r.
//   lookup -> "noent":  legal iff absent.  lookup -> r: legal iff present with inum r.
//   unlink -> "ok":     legal iff present; then absent.  unlink -> "noent": legal iff absent.
// A create of unknown outcome that took effect leaves the name present with an inum not yet
// known; the first lookup that returns one fixes it.
Model namespace_model();

struct CheckResult {
  bool linearizable = true;
  std::string model;  // the model's name
  std::string key;    // the first key (in key order) whose history is not linearizable
  // A minimal non-linearizable sub-history of that key, sorted by call time: the operations of
  // the shortest failing prefix (by call time) whose outcomes are needed. With the key's other
  // operations kept but of unknown outcome, the key still fails; give any one of these an unknown
  // outcome as well and it passes (1-minimal). It fails on its own, and never holds an operation
  // of unknown outcome. If shrinking ran out of time it is merely smaller than the key's history.
  std::vector<Operation> counterexample;
  std::size_t operations = 0, keys = 0;  // what was checked
  // The budget ran out before every key was decided: `linearizable` stays true, but nothing was
  // proven about the keys not yet decided.
  bool timed_out = false;

  // "linearizable (N operations on K keys)", a sentence saying the check was undecided, or, on
  // failure, the key, the model, and one line per counterexample operation sorted by call time:
  //   "[  0.010000s,   0.020000s] client 3 acquire(a) -> ok"     (see format_operation)
  std::string explain() const;
};

// One line for a person: "[  0.010000s,   0.020000s] client 3 put(k, x) -> ok"; an unknown
// response prints as "?", an unknown result as "(unknown)", an empty result as "".
std::string format_operation(const Operation& op);

// Wing & Gong's search for a legal order, with Lowe's memoization of (operations already ordered,
// state) pairs, per key in key order; it stops at the first key that fails and shrinks that key's
// history to a counterexample (allowed up to min(budget, 2 s) more). `history` may come in any
// order. The budget bounds the search (wall-clock time, checked every few thousand steps).
CheckResult check_linearizable(const Model& model, std::vector<Operation> history,
                               std::chrono::milliseconds budget = std::chrono::seconds(10));

// Draws the counterexample in the run's diagram (dsys/trace/diagram.hpp): one span per
// operation, on its client's lane (Operation::client is the node id), from call to response,
// named as format_operation names it (without the times). Nothing when there is none.
void add_to_diagram(const CheckResult& result, trace::Trace& trace);

}  // namespace dsys::testing
