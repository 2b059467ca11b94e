// check_history MODEL FILE...: is a recorded history linearizable? The kit's checker
// (dsys/testing/linearizability.hpp) on histories that real processes wrote, such as
// lock_workload's (apps/main/lock_workload.hpp): one operation per line,
//
//   CLIENT KEY ACTION CALL_NS RESPONSE_NS|? RESULT|?      e.g.  4001 101 acquire 9120331 9120950 ok
//
// with times in nanoseconds of one clock that every file shares (CLOCK_MONOTONIC of one machine).
// MODEL is lock (ACTION acquire or release, RESULT ok or not_held) or namespace (KEY a file name;
// create, lookup or unlink): the models whose operations take no argument. Several files are one
// history (one file per client process).
//
// Prints the verdict (linearizable, with the operations and keys checked; or the key that is not,
// with a minimal counterexample, one operation per line) and exits 0 when linearizable, 1 when
// not, 3 when the check ran out of its budget (--budget-seconds S, default 60): undecided is never
// a pass. A malformed line is named (file and line number) with status 2.
#include <charconv>
#include <chrono>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dsys/testing/linearizability.hpp"

namespace {

using dsys::testing::Operation;

int usage(const std::string& why) {
  std::cerr << "check_history: " << why
            << "\nusage: check_history [--budget-seconds S] lock|namespace FILE...\n"
               "  checks that the operations the FILEs record are linearizable "
               "(apps/check_history.cpp)\n";
  return 2;
}

bool parse_ns(const std::string& text, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::chrono::milliseconds budget = std::chrono::seconds(60);
  if (args.size() >= 2 && args[0] == "--budget-seconds") {
    std::int64_t s = 0;
    if (!parse_ns(args[1], s) || s < 1 || s > 86400) {
      return usage("--budget-seconds takes a whole number from 1 to 86400");
    }
    budget = std::chrono::seconds(s);
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.size() < 2) return usage("expected a model and at least one file");
  dsys::testing::Model model;
  if (args[0] == "lock") {
    model = dsys::testing::lock_model();
  } else if (args[0] == "namespace") {
    model = dsys::testing::namespace_model();
  } else {
    return usage(fmt::format("no model '{}'", args[0]));
  }
  std::vector<Operation> history;
  std::int64_t origin = -1;  // the earliest call: times print from there
  struct Raw {
    Operation op;
    std::int64_t call = 0;
    std::optional<std::int64_t> response;
  };
  std::vector<Raw> raw;
  for (std::size_t f = 1; f < args.size(); ++f) {
    std::ifstream in(args[f]);
    if (!in) {
      std::cerr << fmt::format("check_history: cannot read {}\n", args[f]);
      return 2;
    }
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      if (line.empty()) continue;
      std::istringstream fields(line);
      std::string client, key, action, call, response, result, extra;
      fields >> client >> key >> action >> call >> response >> result;
      Raw r;
      std::int64_t client_id = 0;
      const bool ok = !result.empty() && !(fields >> extra) && parse_ns(client, client_id) &&
                      client_id <= std::numeric_limits<std::uint32_t>::max() &&
                      parse_ns(call, r.call) &&
                      (response == "?" || parse_ns(response, r.response.emplace()));
      if (!ok || (response == "?") != (result == "?")) {
        std::cerr << fmt::format(
            "check_history: {}:{}: not 'CLIENT KEY ACTION CALL_NS RESPONSE_NS|? RESULT|?': {}\n",
            args[f], number, line);
        return 2;
      }
      if (response == "?") r.response.reset();
      if (r.response && *r.response < r.call) {
        std::cerr << fmt::format("check_history: {}:{}: the response is before the call: {}\n",
                                 args[f], number, line);
        return 2;
      }
      r.op.client = static_cast<std::uint32_t>(client_id);
      r.op.key = key;
      r.op.action = action;
      if (result != "?") r.op.result = result;
      raw.push_back(std::move(r));
      if (origin < 0 || raw.back().call < origin) origin = raw.back().call;
    }
  }
  for (auto& r : raw) {
    r.op.call = dsys::core::Time(std::chrono::nanoseconds(r.call - origin));
    if (r.response)
      r.op.response = dsys::core::Time(std::chrono::nanoseconds(*r.response - origin));
    history.push_back(std::move(r.op));
  }
  try {
    const auto result = dsys::testing::check_linearizable(model, std::move(history), budget);
    std::cout << result.explain() << "\n";
    if (result.timed_out) return 3;
    return result.linearizable ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "check_history: " << e.what() << "\n";
    return 2;
  }
}
