// Seeing and searching runs: the schedulers ./dsys explore uses (dsys/sim/strategies.hpp), the
// record of a run's choices and its replay, the space-time diagram and the ShiViz log
// (dsys/trace/diagram.hpp). The browser's view of a diagram is tested by
// tests/explore/check_diagram.py, explore itself by tests/explore/check_explore.py.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <vector>

#include "busy_run.hpp"
#include "dsys/core/error.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "dsys/rpc/wire.hpp"
#include "dsys/sim/strategies.hpp"
#include "dsys/sim/world.hpp"
#include "dsys/testing/echo_service.hpp"
#include "dsys/trace/diagram.hpp"

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Task;
using dsys::sim::World;

namespace {

using dsys::testing::busy_run;
using dsys::testing::BusyRun;

// Sets an environment variable for one scope.
struct ScopedEnv {
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }
  const char* name_;
};

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / fmt::format("dsys-{}-{}", ::getpid(), name))
      .string();
}

}  // namespace

TEST_CASE("without DSYS_SCHEDULE a world runs exactly as RandomScheduler(seed) makes it run",
          "[sim][explore]") {
  ::unsetenv("DSYS_SCHEDULE");
  const BusyRun by_default = busy_run(11);
  const BusyRun explicit_random = busy_run(11, std::make_shared<dsys::sim::RandomScheduler>(11));
  CHECK(by_default.digest == explicit_random.digest);
  {
    ScopedEnv random("DSYS_SCHEDULE", "random");
    CHECK(busy_run(11).digest == by_default.digest);
  }
  CHECK(busy_run(12).digest != by_default.digest);
}

TEST_CASE("a recorded run, replayed from its choices, is the same run event for event",
          "[sim][explore]") {
  const std::string record = temp_path("record");
  std::filesystem::remove(record);
  BusyRun original;
  {
    ScopedEnv recording("DSYS_SCHEDULE_RECORD", record);
    original = busy_run(21);
  }
  std::ifstream in(record);
  std::stringstream text;
  text << in.rdbuf();
  const std::string lines = text.str();
  CHECK(lines.starts_with("world 0\n# events "));
  // A loss by its letter, delays exact (random ones are rarely a link's least); choices offered.
  CHECK_THAT(lines, Catch::Contains("route x olxd\n") && Catch::Contains("route =") &&
                        Catch::Contains(" olxd\n"));
  CHECK_THAT(lines, Catch::Contains("\nwake "));  // a late wake-up, by its number and delay
  ScopedEnv replay("DSYS_SCHEDULE", "choices:" + record);
  const BusyRun again = busy_run(21);
  CHECK(again.digest == original.digest);
  CHECK(again.events == original.events);
  std::filesystem::remove(record);
}

TEST_CASE("events due at once in a random order replay from the record's tiebreaks",
          "[sim][explore]") {
  const std::string record = temp_path("ties");
  std::filesystem::remove(record);
  BusyRun original;
  {
    ScopedEnv recording("DSYS_SCHEDULE_RECORD", record);
    original = busy_run(23, std::make_shared<dsys::sim::RandomScheduler>(23, true));
  }
  std::stringstream text;
  text << std::ifstream(record).rdbuf();
  CHECK_THAT(text.str(), Catch::Contains("\ntiebreak "));
  ScopedEnv replay("DSYS_SCHEDULE", "choices:" + record);
  CHECK(busy_run(23).digest == original.digest);
  std::filesystem::remove(record);
}

TEST_CASE("a choices file gives each world the lines of its own number", "[sim][explore]") {
  const std::string first = temp_path("first"), second = temp_path("second");
  std::filesystem::remove(first);
  std::filesystem::remove(second);
  BusyRun one, two;
  {
    ScopedEnv recording("DSYS_SCHEDULE_RECORD", first);
    one = busy_run(31);
  }
  {
    ScopedEnv recording("DSYS_SCHEDULE_RECORD", second);
    two = busy_run(32);
  }
  // One file: world 1 (seed 32's decisions) written before world 0 (seed 31's).
  const std::string both = temp_path("both");
  {
    std::stringstream a, b;
    a << std::ifstream(first).rdbuf();
    b << std::ifstream(second).rdbuf();
    std::string second_text = b.str();
    second_text.replace(0, std::string("world 0").size(), "world 1");
    std::ofstream(both) << second_text << a.str();
  }
  ScopedEnv replay("DSYS_SCHEDULE", "choices:" + both);
  CHECK(busy_run(31).digest == one.digest);
  CHECK(busy_run(32).digest == two.digest);
  for (const auto& f : {first, second, both}) std::filesystem::remove(f);
}

TEST_CASE("route decisions read back as what they say; a link offers only the faults it has",
          "[sim][explore]") {
  const dsys::sim::LinkFaults lossy{.drop = 0.1, .duplicate = 0.1, .reorder = 0.1};
  const dsys::sim::LinkFaults reliable{.min_delay = 2ms, .max_delay = 2ms};
  CHECK(dsys::sim::choices_of(lossy) == "olxd");
  CHECK(dsys::sim::choices_of(reliable) == "o");
  CHECK(dsys::sim::choices_of({}) == "ol");  // delays vary: late is a choice
  dsys::sim::Routing r;
  REQUIRE(dsys::sim::decode_routing("x", lossy, r));
  CHECK(r.copies == 0);
  REQUIRE(dsys::sim::decode_routing("d", lossy, r));
  CHECK(r.copies == 2);
  CHECK(r.delay[0] == lossy.min_delay);
  CHECK(r.delay[1] == lossy.max_delay + lossy.reorder_delay);
  CHECK(r.reordered[1]);
  REQUIRE(dsys::sim::decode_routing("l", lossy, r));
  CHECK((r.copies == 1 && r.reordered[0]));
  for (const std::string word : {"=1500000", "=1000000,=21000000r", "x"}) {
    REQUIRE(dsys::sim::decode_routing(word, lossy, r));
    CHECK(dsys::sim::encode_routing(r) == word);
  }
  // By letter when the letter gives the same delays on this link.
  for (const std::string word : {"o", "l", "x", "d"}) {
    REQUIRE(dsys::sim::decode_routing(word, lossy, r));
    CHECK(dsys::sim::encode_routing(r, lossy) == word);
  }
  REQUIRE(dsys::sim::decode_routing("=1500000", lossy, r));
  CHECK(dsys::sim::encode_routing(r, lossy) == "=1500000");
  for (const std::string bad : {"", "y", "=", "=12q", "=-5", "=1,=2,=3", "1000", "=1,"}) {
    CHECK_FALSE(dsys::sim::decode_routing(bad, lossy, r));
  }
}

TEST_CASE("PCT: the same seed and depth give the same run, and DSYS_SCHEDULE is checked",
          "[sim][explore]") {
  const BusyRun a = busy_run(5, std::make_shared<dsys::sim::PctScheduler>(5, 3));
  const BusyRun b = busy_run(5, std::make_shared<dsys::sim::PctScheduler>(5, 3));
  const BusyRun other = busy_run(5, std::make_shared<dsys::sim::PctScheduler>(6, 3));
  CHECK(a.digest == b.digest);
  CHECK(a.digest != other.digest);
  CHECK(a.digest != busy_run(5).digest);
  {
    ScopedEnv pct("DSYS_SCHEDULE", "pct:3");
    CHECK(busy_run(5).digest == a.digest);
  }
  {
    ScopedEnv pct("DSYS_SCHEDULE", "pct:3:40");  // change points among the first 40 messages
    CHECK(busy_run(5).digest ==
          busy_run(5, std::make_shared<dsys::sim::PctScheduler>(5, 3, 40)).digest);
  }
  for (const std::string bad : {"pct:0", "pct:", "pct:x", "pct:3:", "pct:3:0", "pct:3:x",
                                "exhaustive", "choices:/no/such/file"}) {
    ScopedEnv wrong("DSYS_SCHEDULE", bad);
    CHECK_THROWS_AS(World({.seed = 1}), dsys::UsageError);
  }
}

TEST_CASE("a choices file that is not one is refused, before the run, with the line that is wrong",
          "[sim][explore]") {
  const std::string path = temp_path("bad-choices");
  // Each bad line is refused even in a world that is not the one starting.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"world\nroute =12q\n", "line 2: 'route =12q' holds '=12q', which is not a route decision"},
      {"world 0\nroute o\nworld 1\nroute y ol\n", "line 4"},
      {"route o\ntiebreak abc 3\n", "line 2: 'tiebreak abc 3' is not 'tiebreak CALL VALUE'"},
      {"route =1,\n", "line 1"},
      {"world zero\n", "names no world number"},
      {"rout o\n", "is not a record line"},
      {"route o\nwake 3\n", "line 2: 'wake 3' is not 'wake CALL NS'"},
  };
  for (const auto& [text, expected] : cases) {
    std::ofstream(path) << text;
    ScopedEnv replay("DSYS_SCHEDULE", "choices:" + path);
    CHECK_THROWS_WITH(World({.seed = 1}), Catch::Contains(expected));
  }
  std::filesystem::remove(path);
}

TEST_CASE("the diagram holds every event of the run, self-contained, safe from what nodes log",
          "[trace][diagram]") {
  std::string page;
  std::size_t events = 0;
  busy_run(3, nullptr, [&](World& world) {
    world.context(1).log("a line with </script> and \"quotes\" and a \\ in it");
    world.trace().add_span({1, dsys::core::Time(10ms), std::nullopt, "an open span"});
    events = world.trace().events().size();
    page = dsys::trace::render_html(world.trace(), {.title = "busy", .failure = "it failed"});
  });
  CHECK(page.starts_with("<!doctype html>"));
  // The run's data sits in one script element, which nothing a node logs can close early.
  const auto data_at = page.find("<script type=\"application/json\" id=\"run\">");
  REQUIRE(data_at != std::string::npos);
  const auto data_end = page.find("</script>", data_at);
  const std::string data = page.substr(data_at, data_end - data_at);
  CHECK_THAT(data, Catch::Contains("a line with <\\/script> and \\\"quotes\\\" and a \\\\ in it"));
  CHECK_THAT(data, Catch::Contains("\"nodes\":[\"server\",\"client0\",\"client1\",\"client2\"]"));
  CHECK_THAT(data, Catch::Contains("request echo.echo xid 1"));
  CHECK_THAT(data, Catch::Contains("[1,10000000,-1,\"an open span\"]"));
  CHECK_THAT(data, Catch::Contains("\"failure\":\"it failed\""));
  // One entry per event in each column: count the kinds column's commas.
  const auto kinds_at = data.find("\"k\":[");
  const auto kinds_end = data.find(']', kinds_at);
  const auto commas = std::count(data.begin() + static_cast<long>(kinds_at),
                                 data.begin() + static_cast<long>(kinds_end), ',');
  CHECK(static_cast<std::size_t>(commas) + 1 == events);
  // Nothing is fetched: no external scripts, styles, fonts or images.
  CHECK_THAT(page, !Catch::Contains("src=") && !Catch::Contains("href=") &&
                       !Catch::Contains("@import") && !Catch::Contains("url("));
}

TEST_CASE("a failing run writes its diagram beside its trace, and its ShiViz log when asked",
          "[trace][diagram]") {
  const std::string dir = temp_path("traces");
  std::filesystem::remove_all(dir);
  ScopedEnv traces("DSYS_TRACE_DIR", dir);
  ScopedEnv shiviz("DSYS_SHIVIZ", "1");
  World world({.seed = 4, .label = "failing"});
  auto node = world.add_node("counter");
  world.context(node).spawn([&]() -> Task<void> {
    co_await world.context(node).sleep_for(5ms);
    world.context(node).log("about to break");
  });
  world.add_invariant("never logs", [&] {
    return world.trace().count(dsys::trace::Kind::log) > 0 ? "it logged" : "";
  });
  CHECK_THROWS_WITH(world.run_for(1s), Catch::Contains("diagram: " + dir + "/failing-seed4.html"));
  std::ifstream html(dir + "/failing-seed4.html");
  std::stringstream page;
  page << html.rdbuf();
  CHECK_THAT(page.str(), Catch::Contains("invariant 'never logs' broken: it logged"));
  CHECK(std::filesystem::exists(dir + "/failing-seed4.trace"));
  CHECK(std::filesystem::exists(dir + "/failing-seed4.shiviz"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("the ShiViz log gives each event its host's vector clock, merged on every delivery",
          "[trace][shiviz]") {
  std::string log;
  busy_run(8, nullptr, [&](World& world) { log = dsys::trace::render_shiviz(world.trace()); });
  std::istringstream lines(log);
  std::string line;
  std::getline(lines, line);
  CHECK(line == R"((?<host>\S*) (?<clock>{.*})\n(?<event>.*))");  // ShiViz's parser, as GoVector
  std::getline(lines, line);
  CHECK(line.empty());
  const std::regex entry(R"re(^(\S+) \{(.*)\}$)re");
  const std::regex count(R"re("([^"]+)": (\d+))re");
  std::map<std::string, std::map<std::string, long>> last;  // host -> its latest clock
  std::size_t entries = 0, merged = 0;
  while (std::getline(lines, line)) {
    std::smatch m;
    REQUIRE(std::regex_match(line, m, entry));
    const std::string host = m[1];
    std::map<std::string, long> clock;
    const std::string body = m[2];
    for (auto it = std::sregex_iterator(body.begin(), body.end(), count);
         it != std::sregex_iterator(); ++it) {
      clock[(*it)[1]] = std::stol((*it)[2]);
    }
    std::string event;
    REQUIRE(std::getline(lines, event));
    // The host's own entry is there and counts its events one by one; no entry goes back.
    REQUIRE(clock.count(host) == 1);
    CHECK(clock[host] == last[host][host] + 1);
    for (const auto& [other, n] : last[host]) CHECK(clock[other] >= n);
    if (event.starts_with("deliver")) merged += clock.size() > 1 ? 1 : 0;
    last[host] = clock;
    ++entries;
  }
  CHECK(entries > 100);
  CHECK(merged > 10);
  CHECK(last.count("n0-server") == 1);
  CHECK(last.count("world") == 1);  // the partition and the heal
}
