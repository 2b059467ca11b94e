// The main of every lab's test program: Catch2, plus
//  - `--dsys-list`: one line per test case, "name<TAB>tags", for the grader;
//  - on a test's first failed assertion: the replay line (DSYS_SEED=...) and the trace of the
//    simulated world it was running, if any.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <iostream>
#include <string>

#include "dsys/testing/lab.hpp"

namespace {

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
      report();
    }
    return true;
  }

 private:
  static void report() {
    if (dsys::testing::seed_used()) {
      std::cout << "replay: DSYS_SEED=" << dsys::testing::last_seed() << "\n";
    }
    if (auto* world = dsys::testing::current_world();
        world != nullptr && world->trace().enabled()) {
      std::cout << "trace: " << world->write_trace() << "\n";
    }
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
