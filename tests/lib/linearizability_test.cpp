#include "dsys/testing/linearizability.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

#include "dsys/core/rng.hpp"
#include "histories.hpp"

using namespace std::chrono_literals;
using dsys::core::Time;
using dsys::testing::check_linearizable;
using dsys::testing::Operation;

namespace {

using dsys::testing::histories::ns;
using dsys::testing::histories::simulated_locks;
using dsys::testing::histories::simulated_registers;

// An operation that responded: times in milliseconds of virtual time.
Operation done(std::uint32_t client, std::string key, std::string action, std::string argument,
               int call_ms, int response_ms, std::string result) {
  return {client,
          std::move(key),
          std::move(action),
          std::move(argument),
          Time{std::chrono::milliseconds(call_ms)},
          Time{std::chrono::milliseconds(response_ms)},
          std::move(result)};
}

// An operation whose client never heard back.
Operation unknown(std::uint32_t client, std::string key, std::string action, std::string argument,
                  int call_ms) {
  return {client,
          std::move(key),
          std::move(action),
          std::move(argument),
          Time{std::chrono::milliseconds(call_ms)},
          std::nullopt,
          std::nullopt};
}

// A counterexample is a history that fails on its own.
bool fails_alone(const dsys::testing::Model& model, const dsys::testing::CheckResult& result) {
  return !check_linearizable(model, result.counterexample).linearizable;
}

}  // namespace

TEST_CASE("a sequential history that follows each model is linearizable", "[linearizability]") {
  const auto lock = check_linearizable(
      dsys::testing::lock_model(),
      {done(1, "a", "acquire", "", 0, 10, "ok"), done(2, "a", "release", "", 20, 30, "not_held"),
       done(1, "a", "release", "", 40, 50, "ok"), done(2, "a", "acquire", "", 60, 70, "ok"),
       done(1, "b", "acquire", "", 60, 70, "ok")});
  INFO(lock.explain());
  CHECK(lock.linearizable);
  CHECK_FALSE(lock.timed_out);
  CHECK(lock.operations == 5);
  CHECK(lock.keys == 2);
  CHECK(lock.explain() == "linearizable (5 operations on 2 keys)");

  const auto reg =
      check_linearizable(dsys::testing::register_model(),
                         {done(1, "x", "get", "", 0, 1, ""), done(1, "x", "put", "5", 2, 3, "ok"),
                          done(2, "x", "get", "", 4, 5, "5"), done(2, "x", "put", "6", 6, 7, "ok"),
                          done(1, "x", "get", "", 8, 9, "6")});
  INFO(reg.explain());
  CHECK(reg.linearizable);
}

TEST_CASE(
    "a lock granted to two clients whose holds overlap is not linearizable, and the "
    "counterexample is just the two acquires",
    "[linearizability]") {
  // Client 1 holds lock a from 10 ms to 40 ms, client 2 from 30 ms to 60 ms.
  const auto result = check_linearizable(
      dsys::testing::lock_model(),
      {done(1, "a", "acquire", "", 0, 10, "ok"), done(3, "b", "acquire", "", 0, 10, "ok"),
       done(2, "a", "acquire", "", 20, 30, "ok"), done(1, "a", "release", "", 40, 50, "ok"),
       done(2, "a", "release", "", 60, 70, "ok")});
  INFO(result.explain());
  CHECK_FALSE(result.linearizable);
  CHECK(result.key == "a");
  REQUIRE(result.counterexample.size() == 2);
  CHECK(result.counterexample[0].client == 1);
  CHECK(result.counterexample[0].action == "acquire");
  CHECK(result.counterexample[1].client == 2);
  CHECK(result.counterexample[1].action == "acquire");
  CHECK(fails_alone(dsys::testing::lock_model(), result));
}

TEST_CASE("an operation called at the instant another responds may take effect before it",
          "[linearizability]") {
  // The get is called at 10 ms, when the put responds: a tie is concurrency, not order.
  const auto model = dsys::testing::register_model();
  CHECK(check_linearizable(
            model, {done(1, "k", "put", "x", 0, 10, "ok"), done(2, "k", "get", "", 10, 20, "")})
            .linearizable);
  // One nanosecond later, the put is over.
  auto late = done(2, "k", "get", "", 10, 20, "");
  late.call += std::chrono::nanoseconds(1);
  CHECK_FALSE(
      check_linearizable(model, {done(1, "k", "put", "x", 0, 10, "ok"), late}).linearizable);
}

TEST_CASE("a release by the holder that says not_held, or by another that says ok, fails",
          "[linearizability]") {
  const auto model = dsys::testing::lock_model();
  CHECK_FALSE(check_linearizable(model, {done(1, "a", "acquire", "", 0, 10, "ok"),
                                         done(1, "a", "release", "", 20, 30, "not_held")})
                  .linearizable);
  CHECK_FALSE(check_linearizable(model, {done(1, "a", "acquire", "", 0, 10, "ok"),
                                         done(2, "a", "release", "", 20, 30, "ok")})
                  .linearizable);
  CHECK_FALSE(check_linearizable(model, {done(1, "a", "acquire", "", 0, 10, "busy")}).linearizable);
}

TEST_CASE("a get overlapping two puts may see either value, or the one before them",
          "[linearizability]") {
  const auto model = dsys::testing::register_model();
  for (const std::string seen : {"", "x", "y"}) {
    const auto result = check_linearizable(
        model, {done(1, "k", "put", "x", 0, 10, "ok"), done(2, "k", "put", "y", 5, 15, "ok"),
                done(3, "k", "get", "", 8, 20, seen)});
    INFO(result.explain());
    CHECK(result.linearizable);
  }
  // Once both puts are over, the get sees the one that took effect last: either may be last.
  for (const std::string seen : {"x", "y"}) {
    CHECK(check_linearizable(
              model, {done(1, "k", "put", "x", 0, 10, "ok"), done(2, "k", "put", "y", 5, 15, "ok"),
                      done(3, "k", "get", "", 16, 20, seen)})
              .linearizable);
  }
}

TEST_CASE("a get that returns a value never put is not linearizable", "[linearizability]") {
  const auto result = check_linearizable(
      dsys::testing::register_model(),
      {done(1, "k", "put", "x", 0, 10, "ok"), done(2, "k", "get", "", 5, 15, "z")});
  INFO(result.explain());
  CHECK_FALSE(result.linearizable);
  REQUIRE(result.counterexample.size() == 1);
  CHECK(*result.counterexample[0].result == "z");
}

TEST_CASE("a read of an old value after a put completed is not linearizable", "[linearizability]") {
  const auto model = dsys::testing::register_model();
  // The initial value, after put(x) responded: the counterexample needs both.
  const auto result = check_linearizable(
      model, {done(1, "k", "put", "x", 0, 10, "ok"), done(2, "k", "get", "", 11, 15, "")});
  INFO(result.explain());
  CHECK_FALSE(result.linearizable);
  CHECK(result.counterexample.size() == 2);
  // x, after put(y) followed put(x): all three are needed (without put(x), x was never put;
  // without put(y), x is current).
  const auto older = check_linearizable(
      model, {done(1, "k", "put", "x", 0, 10, "ok"), done(3, "k", "get", "", 12, 14, "x"),
              done(1, "k", "put", "y", 20, 30, "ok"), done(2, "k", "get", "", 31, 35, "x"),
              done(3, "k", "get", "", 40, 45, "y")});
  INFO(older.explain());
  CHECK_FALSE(older.linearizable);
  CHECK(older.counterexample.size() == 3);
  CHECK(fails_alone(model, older));
}

TEST_CASE("a put of unknown outcome may or may not have taken effect, but not both",
          "[linearizability]") {
  const auto model = dsys::testing::register_model();
  const auto base = std::vector<Operation>{done(1, "k", "put", "x", 0, 10, "ok"),
                                           unknown(2, "k", "put", "y", 20)};
  auto with = [&](std::vector<Operation> more) {
    auto history = base;
    history.insert(history.end(), more.begin(), more.end());
    return check_linearizable(model, history);
  };
  CHECK(with({done(3, "k", "get", "", 30, 40, "y")}).linearizable);
  CHECK(with({done(3, "k", "get", "", 30, 40, "x")}).linearizable);
  // It took effect late: x first, then y.
  CHECK(with({done(3, "k", "get", "", 30, 40, "x"), done(3, "k", "get", "", 50, 60, "y")})
            .linearizable);
  // Seen, then unseen: y cannot be undone, and x was put before y was called.
  const auto flip =
      with({done(3, "k", "get", "", 30, 40, "y"), done(3, "k", "get", "", 50, 60, "x")});
  INFO(flip.explain());
  CHECK_FALSE(flip.linearizable);
  // The unknown put is not needed to show it: without it, y was never put at all.
  CHECK(flip.counterexample.size() == 3);
  // An acquire of unknown outcome on a lock that is never released need never take effect.
  CHECK(check_linearizable(dsys::testing::lock_model(), {done(1, "a", "acquire", "", 0, 10, "ok"),
                                                         unknown(2, "a", "acquire", "", 5)})
            .linearizable);
  // An unknown-outcome put cannot take effect before its call.
  CHECK_FALSE(with({done(3, "k", "get", "", 5, 15, "y")}).linearizable);
}

TEST_CASE("names in a directory are created, looked up and unlinked in some legal order",
          "[linearizability]") {
  const auto model = dsys::testing::namespace_model();
  const auto legal = check_linearizable(
      model, {done(1, "f", "lookup", "", 0, 1, "noent"), done(1, "f", "create", "", 2, 3, "7"),
              done(2, "f", "lookup", "", 4, 5, "7"), done(2, "f", "create", "", 6, 7, "exists"),
              done(1, "f", "unlink", "", 8, 9, "ok"), done(2, "f", "lookup", "", 10, 11, "noent"),
              done(2, "f", "unlink", "", 12, 13, "noent"), done(1, "f", "create", "", 14, 15, "9"),
              done(2, "g", "create", "", 14, 15, "10"), done(1, "f", "lookup", "", 16, 17, "9")});
  INFO(legal.explain());
  CHECK(legal.linearizable);

  // Two creates of one name that both succeed, concurrently: one of them must see "exists".
  CHECK_FALSE(check_linearizable(model, {done(1, "f", "create", "", 0, 10, "7"),
                                         done(2, "f", "create", "", 5, 15, "8")})
                  .linearizable);
  // A lookup that finds a name after its unlink completed.
  const auto stale = check_linearizable(
      model, {done(1, "f", "create", "", 0, 1, "7"), done(1, "f", "unlink", "", 2, 3, "ok"),
              done(2, "f", "lookup", "", 4, 5, "7")});
  INFO(stale.explain());
  CHECK_FALSE(stale.linearizable);
  // The create's outcome is not needed: the unlink's "ok" already says the name was there.
  REQUIRE(stale.counterexample.size() == 2);
  CHECK(stale.counterexample[0].action == "unlink");
  CHECK(stale.counterexample[1].action == "lookup");
  // A lookup of an absent name that answers neither "noent" nor an inum.
  CHECK_FALSE(check_linearizable(model, {done(2, "f", "lookup", "", 4, 5, "")}).linearizable);
  // A lookup that finds the wrong inum.
  CHECK_FALSE(check_linearizable(model, {done(1, "f", "create", "", 0, 1, "7"),
                                         done(2, "f", "lookup", "", 4, 5, "8")})
                  .linearizable);
  // A create of unknown outcome: the inum a later lookup sees is the one it made.
  CHECK(check_linearizable(model,
                           {unknown(1, "f", "create", "", 0), done(2, "f", "lookup", "", 4, 5, "8"),
                            done(2, "f", "lookup", "", 6, 7, "8")})
            .linearizable);
  CHECK_FALSE(check_linearizable(
                  model, {unknown(1, "f", "create", "", 0), done(2, "f", "lookup", "", 4, 5, "8"),
                          done(2, "f", "lookup", "", 6, 7, "9")})
                  .linearizable);
}

TEST_CASE("the first failing key in key order is reported", "[linearizability]") {
  const auto result =
      check_linearizable(dsys::testing::register_model(),
                         {done(1, "b", "get", "", 0, 1, "nope"), done(1, "c", "get", "", 0, 1, ""),
                          done(1, "a", "get", "", 0, 1, "never")});
  CHECK_FALSE(result.linearizable);
  CHECK(result.key == "a");
  CHECK(result.keys == 3);
}

TEST_CASE("explain() names the key, the model and each operation of the counterexample",
          "[linearizability]") {
  const auto result = check_linearizable(
      dsys::testing::lock_model(),
      {done(2, "door", "acquire", "", 20, 30, "ok"), done(1, "door", "acquire", "", 0, 10, "ok")});
  const std::string text = result.explain();
  INFO(text);
  CHECK_THAT(text, Catch::Contains("'door'") && Catch::Contains("lock model"));
  CHECK_THAT(text, Catch::Contains("[  0.000000s,   0.010000s] client 1 acquire(door) -> ok\n"
                                   "  [  0.020000s,   0.030000s] client 2 acquire(door) -> ok"));
  const auto put = check_linearizable(
      dsys::testing::register_model(),
      {done(4, "r", "put", "x", 0, 10, "ok"), done(5, "r", "get", "", 20, 30, "")});
  CHECK_THAT(put.explain(), Catch::Contains("client 4 put(r, x) -> ok"));
  CHECK(dsys::testing::format_operation(unknown(7, "r", "put", "y", 1500)) ==
        "[  1.500000s,           ?] client 7 put(r, y) -> (unknown)");
}

TEST_CASE("a malformed history or an unknown action is refused", "[linearizability]") {
  CHECK_THROWS_AS(
      check_linearizable(dsys::testing::register_model(), {done(1, "k", "put", "x", 10, 5, "ok")}),
      std::invalid_argument);
  CHECK_THROWS_AS(
      check_linearizable(dsys::testing::lock_model(), {done(1, "k", "steal", "", 0, 1, "ok")}),
      std::invalid_argument);
}

TEST_CASE("a check whose budget runs out says it decided nothing", "[linearizability]") {
  const auto result =
      check_linearizable(dsys::testing::register_model(), simulated_registers(7, 100, 100, 5), 0ms);
  CHECK(result.timed_out);
  CHECK(result.linearizable);
  CHECK_THAT(result.explain(), Catch::StartsWith("undecided"));
}

TEST_CASE("a dozen concurrent puts followed by an impossible read are refuted quickly",
          "[linearizability]") {
  // 12! orders of the puts, but only 12 * 2^11 distinct (puts taken, value) configurations: without
  // memoization this would not finish within the budget.
  std::vector<Operation> history;
  for (int i = 0; i < 12; ++i) {
    history.push_back(done(i, "k", "put", fmt::format("v{}", i), i, 100 + i, "ok"));
  }
  history.push_back(done(12, "k", "get", "", 200, 210, "never"));
  const auto result = check_linearizable(dsys::testing::register_model(), history, 5s);
  INFO(result.explain());
  CHECK_FALSE(result.timed_out);
  CHECK_FALSE(result.linearizable);
  CHECK(result.counterexample.size() == 1);
}

TEST_CASE("10,000 register operations on 100 keys are found linearizable within the default budget",
          "[linearizability]") {
  const auto history = simulated_registers(1, 100, 100, 5);
  const auto result = check_linearizable(dsys::testing::register_model(), history);
  INFO(result.explain());
  CHECK(result.linearizable);
  CHECK_FALSE(result.timed_out);
  CHECK(result.operations == 10'000);
  CHECK(result.keys == 100);
}

TEST_CASE("10,000 lock operations on 100 locks are found linearizable within the default budget",
          "[linearizability]") {
  const auto history = simulated_locks(2, 100, 100, 5);
  const auto result = check_linearizable(dsys::testing::lock_model(), history);
  INFO(result.explain());
  CHECK(result.linearizable);
  CHECK_FALSE(result.timed_out);
  CHECK(result.keys == 100);
}

TEST_CASE("one stale read among 10,000 operations is found, with a small counterexample",
          "[linearizability]") {
  auto history = simulated_registers(3, 100, 100, 5);
  // On key r42: a get that responded after put(p1) then put(p2) both completed (p1 before p2's
  // call) now returns p1's value. Values are unique, so no order explains it.
  std::vector<Operation*> ops;
  for (Operation& op : history) {
    if (op.key == "r42" && op.response) ops.push_back(&op);
  }
  std::sort(ops.begin(), ops.end(), [](auto* a, auto* b) { return a->call < b->call; });
  Operation* stale = nullptr;
  std::string old_value;
  for (Operation* get : ops) {
    if (get->action != "get" || stale) continue;
    for (Operation* p2 : ops) {
      if (p2->action != "put" || !(*p2->response < get->call) || stale) continue;
      for (Operation* p1 : ops) {
        if (p1->action == "put" && *p1->response < p2->call && *get->result != p1->argument) {
          stale = get, old_value = p1->argument;
          break;
        }
      }
    }
  }
  REQUIRE(stale != nullptr);
  const auto injected_call = ns(stale->call);
  *stale->result = old_value;

  const auto result = check_linearizable(dsys::testing::register_model(), history);
  INFO(result.explain());
  CHECK_FALSE(result.linearizable);
  CHECK(result.key == "r42");
  CHECK(result.counterexample.size() < 10);
  CHECK(fails_alone(dsys::testing::register_model(), result));
  CHECK(std::any_of(result.counterexample.begin(), result.counterexample.end(), [&](auto& op) {
    return op.action == "get" && ns(op.call) == injected_call && op.result == old_value;
  }));
}
