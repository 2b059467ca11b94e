#include "dsys/testing/linearizability.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>
#include <tuple>
#include <unordered_set>
#include <utility>

namespace dsys::testing {

namespace {

using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void unknown_action(const std::string& model, const Operation& op) {
  throw std::invalid_argument(
      fmt::format("{} model: no action '{}' (key '{}')", model, op.action, op.key));
}

// ---------------------------------------------------------------- the search (one key)

enum class Verdict { linearizable, not_linearizable, undecided };

// The call and the return of every operation, as a doubly linked list in time order that the
// search lifts operations out of and puts back in last-out-first-in order ("dancing links").
// Node 0 is the head; -1 ends the list.
struct EntryList {
  struct Node {
    int op = -1;  // index into the key's operations
    bool is_call = false;
    bool unbounded = false;  // the return of an operation whose response is unknown
    int match = -1;          // a call's return node
    int prev = -1, next = -1;
  };
  std::vector<Node> nodes;

  explicit EntryList(const std::vector<Operation>& ops) {
    struct Timed {
      std::int64_t time;
      bool is_return;  // at equal times calls come first: a tie is concurrency, not order
      int op;
    };
    std::vector<Timed> order;
    order.reserve(2 * ops.size());
    for (int i = 0; i < static_cast<int>(ops.size()); ++i) {
      const Operation& op = ops[i];
      if (op.response && *op.response < op.call) {
        throw std::invalid_argument(
            fmt::format("linearizability: {}({}) responds before its call", op.action, op.key));
      }
      order.push_back({op.call.time_since_epoch().count(), false, i});
      order.push_back({op.response ? op.response->time_since_epoch().count()
                                   : std::numeric_limits<std::int64_t>::max(),
                       true, i});
    }
    std::sort(order.begin(), order.end(), [](const Timed& a, const Timed& b) {
      return std::tie(a.time, a.is_return, a.op) < std::tie(b.time, b.is_return, b.op);
    });
    nodes.resize(order.size() + 1);
    std::vector<int> call_node(ops.size());
    for (int n = 1; n <= static_cast<int>(order.size()); ++n) {
      Node& node = nodes[n];
      node.op = order[n - 1].op;
      node.is_call = !order[n - 1].is_return;
      node.unbounded = !node.is_call && !ops[node.op].response;
      if (node.is_call)
        call_node[node.op] = n;
      else
        nodes[call_node[node.op]].match = n;
    }
    for (int n = 0; n < static_cast<int>(nodes.size()); ++n) {
      nodes[n].prev = n - 1;
      nodes[n].next = n + 1 < static_cast<int>(nodes.size()) ? n + 1 : -1;
    }
  }

  void unlink(int n) {
    nodes[nodes[n].prev].next = nodes[n].next;
    if (nodes[n].next != -1) nodes[nodes[n].next].prev = nodes[n].prev;
  }
  void relink(int n) {
    nodes[nodes[n].prev].next = n;
    if (nodes[n].next != -1) nodes[nodes[n].next].prev = n;
  }
  void lift(int call) {
    unlink(call);
    unlink(nodes[call].match);
  }
  void unlift(int call) {
    relink(nodes[call].match);
    relink(call);
  }
};

// Lowe's memo: a configuration is the set of operations linearized so far and the state they
// leave; reaching one twice cannot lead anywhere new.
struct Configuration {
  std::vector<std::uint64_t> linearized;
  std::string state;
  bool operator==(const Configuration&) const = default;
};

struct ConfigurationHash {
  static std::uint64_t mix(std::uint64_t x) {  // splitmix64's finalizer
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  std::size_t operator()(const Configuration& c) const {
    std::uint64_t h = std::hash<std::string>{}(c.state);
    for (std::uint64_t word : c.linearized) h = mix(h ^ word) + 0x9e3779b97f4a7c15ULL;
    return static_cast<std::size_t>(h);
  }
};

// Wing & Gong's search: walk the entries; at a call try to take that operation's effect now, at
// a return (of an operation not yet taken) undo the last choice. Success when nothing is left but
// calls whose response is unknown: those need never take effect.
Verdict search(const Model& model, const std::vector<Operation>& ops,
               SteadyClock::time_point deadline) {
  EntryList list(ops);
  std::unordered_set<Configuration, ConfigurationHash> seen;
  Configuration current{std::vector<std::uint64_t>((ops.size() + 63) / 64), model.initial};
  struct Choice {
    int call;
    std::string state_before;
  };
  std::vector<Choice> stack;
  auto flip = [&](int op) { current.linearized[op / 64] ^= std::uint64_t{1} << (op % 64); };

  std::uint64_t steps = 0;
  int cursor = list.nodes[0].next;
  while (cursor != -1) {
    if (steps++ % 4096 == 0 && SteadyClock::now() > deadline) return Verdict::undecided;
    const EntryList::Node& node = list.nodes[cursor];
    if (node.is_call) {
      if (auto after = model.step(current.state, ops[node.op])) {
        flip(node.op);
        std::string before = std::exchange(current.state, std::move(*after));
        if (seen.insert(current).second) {
          stack.push_back({cursor, std::move(before)});
          list.lift(cursor);
          cursor = list.nodes[0].next;
          continue;
        }
        current.state = std::move(before);
        flip(node.op);
      }
      cursor = node.next;
    } else {
      if (node.unbounded) return Verdict::linearizable;  // only unknown outcomes remain
      if (stack.empty()) return Verdict::not_linearizable;
      Choice last = std::move(stack.back());
      stack.pop_back();
      current.state = std::move(last.state_before);
      flip(list.nodes[last.call].op);
      list.unlift(last.call);
      cursor = list.nodes[last.call].next;
    }
  }
  return Verdict::linearizable;
}

// The key's history, with the operations not `known` given unknown outcomes (a relaxation: it can
// only make a history more linearizable, never less).
std::vector<Operation> with_outcomes(std::vector<Operation> ops, const std::vector<bool>& known) {
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (!known[i]) ops[i].response.reset(), ops[i].result.reset();
  }
  return ops;
}

// The counterexample of a failing key (`ops` sorted by call): the shortest prefix whose outcomes
// cannot be explained, even if every later operation had an unknown outcome (failing prefixes are
// upward closed, so a binary search finds it); then the outcomes of that prefix that the failure
// does not need are forgotten, a range at a time, halving the ranges that cannot all go, latest
// first. Forgetting is monotone, so every outcome left was needed when it was tried alone and is
// needed still (1-minimal), unless the deadline cuts the search short.
std::vector<Operation> counterexample(const Model& model, const std::vector<Operation>& ops,
                                      SteadyClock::time_point deadline) {
  auto fails = [&](const std::vector<bool>& known) {
    return search(model, with_outcomes(ops, known), deadline) == Verdict::not_linearizable;
  };
  auto prefix = [&](std::size_t length) {
    std::vector<bool> first(ops.size(), false);
    std::fill_n(first.begin(), length, true);
    return first;
  };
  std::size_t shortest = ops.size(), longest_passing = 0;
  while (longest_passing + 1 < shortest) {
    const std::size_t middle = (longest_passing + shortest) / 2;
    (fails(prefix(middle)) ? shortest : longest_passing) = middle;
  }
  std::vector<bool> known = prefix(shortest);
  auto forget = [&](auto& self, std::size_t begin, std::size_t end) -> void {
    if (begin == end || SteadyClock::now() > deadline) return;
    std::vector<bool> trial = known;
    std::fill(trial.begin() + static_cast<std::ptrdiff_t>(begin),
              trial.begin() + static_cast<std::ptrdiff_t>(end), false);
    if (fails(trial)) {
      known = std::move(trial);
    } else if (end - begin > 1) {
      const std::size_t middle = begin + (end - begin) / 2;
      self(self, middle, end);
      self(self, begin, middle);
    }
  };
  forget(forget, 0, shortest - 1);  // the last of the prefix is needed: it made the prefix fail
  // An operation of unknown outcome is never needed: "it never took effect" was always allowed.
  std::vector<Operation> needed;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (known[i] && ops[i].response) needed.push_back(ops[i]);
  }
  return needed;
}

}  // namespace

// ---------------------------------------------------------------- models

Model lock_model() {
  Model model{"lock", "", {}};
  model.step = [](const std::string& state, const Operation& op) -> std::optional<std::string> {
    const std::string me = std::to_string(op.client);
    if (op.action == "acquire") {
      if (op.result && *op.result != "ok") return std::nullopt;
      if (!state.empty()) return std::nullopt;
      return me;
    }
    if (op.action == "release") {
      const bool mine = state == me;
      if (!op.result) return mine ? std::string() : state;
      if (*op.result == "ok" && mine) return std::string();
      if (*op.result == "not_held" && !mine) return state;
      return std::nullopt;
    }
    unknown_action("lock", op);
  };
  return model;
}

Model register_model() {
  Model model{"register", "", {}};
  model.step = [](const std::string& state, const Operation& op) -> std::optional<std::string> {
    if (op.action == "put") {
      if (op.result && *op.result != "ok") return std::nullopt;
      return op.argument;
    }
    if (op.action == "get") {
      if (op.result && *op.result != state) return std::nullopt;
      return state;
    }
    unknown_action("register", op);
  };
  return model;
}

Model namespace_model() {
  // A name that a create of unknown outcome made present, its inum never seen.
  static const std::string present_inum_unknown = "?";
  Model model{"namespace", "", {}};
  model.step = [](const std::string& state, const Operation& op) -> std::optional<std::string> {
    const bool present = !state.empty();
    if (op.action == "create") {
      if (!op.result) return present ? state : present_inum_unknown;
      if (*op.result == "exists") return present ? std::optional(state) : std::nullopt;
      if (op.result->empty() || present) return std::nullopt;
      return *op.result;
    }
    if (op.action == "lookup") {
      if (!op.result) return state;
      if (*op.result == "noent") return present ? std::nullopt : std::optional(state);
      if (present && *op.result == state) return state;
      if (state == present_inum_unknown && !op.result->empty()) return *op.result;
      return std::nullopt;
    }
    if (op.action == "unlink") {
      if (!op.result) return std::string();
      if (*op.result == "ok") return present ? std::optional(std::string()) : std::nullopt;
      if (*op.result == "noent") return present ? std::nullopt : std::optional(state);
      return std::nullopt;
    }
    unknown_action("namespace", op);
  };
  return model;
}

// ---------------------------------------------------------------- the checker

std::string format_operation(const Operation& op) {
  const std::string response = op.response ? core::format_time(*op.response) : "?";
  const std::string call = op.argument.empty()
                               ? fmt::format("{}({})", op.action, op.key)
                               : fmt::format("{}({}, {})", op.action, op.key, op.argument);
  return fmt::format("[{:>11}, {:>11}] client {} {} -> {}", core::format_time(op.call), response,
                     op.client, call,
                     !op.result           ? "(unknown)"
                     : op.result->empty() ? "\"\""
                                          : *op.result);
}

CheckResult check_linearizable(const Model& model, std::vector<Operation> history,
                               std::chrono::milliseconds budget) {
  const auto start = SteadyClock::now();
  CheckResult result;
  result.model = model.name;
  result.operations = history.size();

  std::map<std::string, std::vector<Operation>> by_key;
  for (Operation& op : history) by_key[op.key].push_back(std::move(op));
  result.keys = by_key.size();

  for (auto& [key, ops] : by_key) {
    const Verdict verdict = search(model, ops, start + budget);
    if (verdict == Verdict::undecided) {
      result.timed_out = true;
      return result;
    }
    if (verdict == Verdict::linearizable) continue;
    result.linearizable = false;
    result.key = key;
    std::stable_sort(ops.begin(), ops.end(),
                     [](const Operation& a, const Operation& b) { return a.call < b.call; });
    const auto shrink_time = std::min<std::chrono::milliseconds>(budget, std::chrono::seconds(2));
    result.counterexample = counterexample(model, ops, SteadyClock::now() + shrink_time);
    return result;
  }
  return result;
}

std::string CheckResult::explain() const {
  if (timed_out) {
    return fmt::format(
        "undecided: the checker's budget ran out before every key was checked ({} operations on "
        "{} keys); no violation found so far",
        operations, keys);
  }
  if (linearizable) return fmt::format("linearizable ({} operations on {} keys)", operations, keys);
  std::string text = fmt::format(
      "not linearizable: key '{}' under the {} model; these {} operations have no legal order, "
      "and each of them is needed to show it:",
      key, model, counterexample.size());
  for (const Operation& op : counterexample) text += "\n  " + format_operation(op);
  return text;
}

}  // namespace dsys::testing

namespace dsys::testing {

void add_to_diagram(const CheckResult& result, trace::Trace& trace) {
  for (const Operation& op : result.counterexample) {
    const std::string call = op.argument.empty()
                                 ? fmt::format("{}({})", op.action, op.key)
                                 : fmt::format("{}({}, {})", op.action, op.key, op.argument);
    trace.add_span({op.client, op.call, op.response,
                    fmt::format("not linearizable: {} -> {}", call, op.result.value_or("?"))});
  }
}

}  // namespace dsys::testing
