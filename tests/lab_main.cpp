// The main of every lab's test program: Catch2, plus
//  - `--dsys-list`: one line per test case, "name<TAB>tags", for the grader;
//  - on a test's first failed assertion, between the lines "dsys: first failed assertion" and
//    "dsys: end of first failed assertion": that assertion in full (where, the expression, its
//    expansion, the messages, the exception); then the replay line (DSYS_SEED=...) and the trace
//    of the simulated world it was running, if any, and its diagram (an HTML page). The grader
//    (tools/grade.py) shows these.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "dsys/testing/lab.hpp"

namespace {

// `text`, each line indented by two spaces.
std::string indented(const std::string& text) {
  std::string out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) out += "  " + line + "\n";
  if (out.empty()) out = "  \n";
  return out;
}

std::string describe(const Catch::AssertionStats& stats) {
  const Catch::AssertionResult& result = stats.assertionResult;
  std::ostringstream out;
  out << result.getSourceInfo() << ": FAILED:\n";
  if (result.hasExpression()) out << indented(result.getExpressionInMacro());
  if (result.getResultType() == Catch::ResultWas::ExpressionFailed &&
      result.hasExpandedExpression()) {
    out << "with expansion:\n" << indented(result.getExpandedExpression());
  }
  // INFO, UNSCOPED_INFO, CAPTURE and WARN messages (Catch appends the result's own message to
  // infoMessages too, with the result's type: that one is shown below).
  std::vector<std::string> messages;
  for (const auto& info : stats.infoMessages) {
    if (info.type == Catch::ResultWas::Info || info.type == Catch::ResultWas::Warning) {
      messages.push_back(info.message);
    }
  }
  if (!messages.empty()) {
    out << (messages.size() == 1 ? "with message:\n" : "with messages:\n");
    for (const auto& message : messages) out << indented(message);
  }
  switch (result.getResultType()) {
    case Catch::ResultWas::ThrewException:
      out << "due to unexpected exception with message:\n" << indented(result.getMessage());
      break;
    case Catch::ResultWas::FatalErrorCondition:
      out << "due to a fatal error condition:\n" << indented(result.getMessage());
      break;
    case Catch::ResultWas::DidntThrowException:
      out << "because no exception was thrown where one was expected\n";
      break;
    case Catch::ResultWas::ExplicitFailure:
      out << "explicitly with message:\n" << indented(result.getMessage());
      break;
    default:
      if (result.hasMessage() && result.getResultType() != Catch::ResultWas::ExpressionFailed) {
        out << indented(result.getMessage());
      }
      break;
  }
  return out.str();
}

class FailureReporter : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;

  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    reported_ = false;
    dsys::testing::reset_test_state();
    TestEventListenerBase::testCaseStarting(info);
  }
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    if (!stats.assertionResult.succeeded() && !reported_) {
      reported_ = true;
      report(stats);
    }
    return true;
  }

 private:
  static void report(const Catch::AssertionStats& stats) {
    const std::string failure = describe(stats);
    std::cout << "dsys: first failed assertion\n"
              << failure << "dsys: end of first failed assertion\n";
    if (dsys::testing::seed_used()) {
      std::cout << "replay: DSYS_SEED=" << dsys::testing::last_seed();
      // A schedule of ./dsys explore's (dsys/sim/strategies.hpp) is part of the replay.
      if (const char* schedule = std::getenv("DSYS_SCHEDULE");
          schedule != nullptr && *schedule && std::string(schedule) != "random") {
        std::cout << " DSYS_SCHEDULE=" << schedule;
      }
      std::cout << "\n";
    }
    if (const std::string trace = dsys::testing::trace_for_report(failure); !trace.empty()) {
      std::cout << "trace: " << trace << "\n";
      if (trace.ends_with(".trace"))
        std::cout << "diagram: " << dsys::sim::diagram_path(trace) << "\n";
    }
    std::cout << std::flush;
  }
  bool reported_ = false;
};

}  // namespace

CATCH_REGISTER_LISTENER(FailureReporter)

int main(int argc, char* argv[]) {
  if (argc == 2 && std::string(argv[1]) == "--dsys-list") {
    for (const auto& test : Catch::getRegistryHub().getTestCaseRegistry().getAllTests()) {
      std::cout << test.name << "\t";
      for (const auto& tag : test.tags) std::cout << "[" << tag << "]";
      std::cout << "\n";
    }
    return 0;
  }
  return Catch::Session().run(argc, argv);
}
