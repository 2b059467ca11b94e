// ./dsys demo: a counter service with three clients, first in the simulated world under faults
// (with a crash and a restart of the server), then over real TCP between two processes.
//
//   demo                 both parts
//   demo serve PORT      the real-world server process (started by the demo itself)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "dsys/net/runtime.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "dsys/sim/world.hpp"
#include "dsys/testing/echo_service.hpp"

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Task;
namespace echo = dsys::testing::echo;

namespace {

constexpr int kClients = 3;
constexpr int kCallsEach = 5;

// One client: increments the counter kCallsEach times, retrying across a server restart.
Task<void> client_body(dsys::rpc::Endpoint& endpoint, dsys::core::Address server,
                       std::string& report) {
  Context& ctx = endpoint.context();
  dsys::rpc::Client counter(endpoint, server);
  for (int i = 0; i < kCallsEach; ++i) {
    auto r = co_await counter.call<echo::Increment>({}, 2s);
    if (!r && r.error() == dsys::rpc::Error::server_restarted) {
      report += " [server restarted: rebinding]";
      counter.rebind();
      r = co_await counter.call<echo::Increment>({}, 2s);
    }
    report += r ? fmt::format(" {}", *r) : fmt::format(" ({})", to_string(r.error()));
    co_await ctx.sleep_for(std::chrono::milliseconds(ctx.rng().between(20, 80)));
  }
}

// The real world's client node: kClients clients of one counter server, sharing the node's one
// endpoint (built by the Runtime, so its tasks go before it).
struct Clients {
  Clients(Context& ctx, dsys::core::Address server) : reports(kClients) {
    dsys::rpc::Endpoint& endpoint = dsys::rpc::Endpoint::of(ctx);
    for (int c = 0; c < kClients; ++c) {
      ctx.spawn([this, &endpoint, server, c]() -> Task<void> {
        co_await client_body(endpoint, server, reports[c]);
        ++finished;
      });
    }
  }
  std::vector<std::string> reports;
  int finished = 0;
};

int simulated() {
  const std::uint64_t seed = dsys::sim::seed_from_env(2026);
  fmt::print(
      "\n== 1. The simulated world (seed {}): 10 % of messages lost, 10 % duplicated, 10 % "
      "reordered\n",
      seed);
  dsys::sim::World world(
      {.seed = seed,
       .faults = {.drop = 0.1, .duplicate = 0.1, .reorder = 0.1},
       .label = "demo",
       .describe = [](const dsys::core::Bytes& m) { return dsys::rpc::describe(m); }});
  auto server = world.add_node<echo::Server>("counter");
  std::vector<std::string> reports(kClients);
  for (int c = 0; c < kClients; ++c) {
    auto node = world.add_node(fmt::format("client{}", c));
    Context& ctx = world.context(node);
    ctx.spawn([&ctx, &report = reports[c], to = world.address(server)]() -> Task<void> {
      dsys::rpc::Endpoint& endpoint = dsys::rpc::Endpoint::of(ctx);  // one endpoint per node
      co_await client_body(endpoint, to, report);
    });
  }
  world.after(120ms, [&] { world.crash(server); });
  world.after(300ms, [&] { world.restart(server); });
  world.run_until_idle(1min);
  for (int c = 0; c < kClients; ++c) fmt::print("client{} saw counter values:{}\n", c, reports[c]);
  fmt::print("\nfirst 25 events of the trace:\n{}", [&] {
    std::string out;
    const auto& events = world.trace().events();
    for (std::size_t i = 0; i < events.size() && i < 25; ++i)
      out += world.trace().render_line(events[i]) + "\n";
    return out;
  }());
  fmt::print("...\nin all, {} of virtual time: {}\n", dsys::core::format_time(world.now()),
             world.trace().summary());
  fmt::print("whole trace: {}\n", world.write_trace());
  fmt::print("(without a duplicate filter a retried increment may run twice: lab 1 fixes that)\n");
  fmt::print("replay exactly this run: DSYS_SEED={} ./dsys demo\n", seed);
  return 0;
}

int serve(const char* port_text) {
  auto port = dsys::core::Address::parse(port_text);
  if (!port && std::string(port_text) != "0") {
    std::cerr << "usage: demo serve PORT\n";
    return 2;
  }
  auto options = dsys::net::Options::from_environment();
  options.name = "counter";
  options.listen_port = port ? port->port() : 0;
  options.stop_on_signals = true;
  dsys::net::Runtime runtime(options, dsys::core::make_node<echo::Server>());
  fmt::print("listening {} pid {}\n", runtime.address().to_string(), ::getpid());
  std::fflush(stdout);
  return runtime.run() ? 0 : 1;
}

int real(const char* self) {
  fmt::print("\n== 2. The real world: the counter server in its own process, clients over TCP\n");
  FILE* child = ::popen(fmt::format("exec '{}' serve 0", self).c_str(), "r");
  if (child == nullptr) {
    std::perror("popen");
    return 1;
  }
  char line[256] = {};
  if (std::fgets(line, sizeof line, child) == nullptr) {
    std::cerr << "the server process did not start\n";
    ::pclose(child);
    return 1;
  }
  char address_text[64] = {};
  int pid = 0;
  if (std::sscanf(line, "listening %63s pid %d", address_text, &pid) != 2) {
    std::cerr << "unexpected line from the server: " << line;
    ::pclose(child);
    return 1;
  }
  const auto server = dsys::core::Address::parse(address_text);
  fmt::print("server process {} listens on {}\n", pid, address_text);

  auto options = dsys::net::Options::from_environment();
  options.name = "clients";
  dsys::net::Runtime runtime(options, dsys::core::make_node<Clients>(*server));
  const std::vector<std::string>& reports = runtime.service<Clients>().reports;
  const bool ok =
      runtime.run_until([&] { return runtime.service<Clients>().finished == kClients; }, 30s);
  for (int c = 0; c < kClients; ++c) fmt::print("client{} saw counter values:{}\n", c, reports[c]);
  ::kill(pid, SIGTERM);
  ::pclose(child);
  fmt::print("server process stopped. {}\n",
             ok                           ? "All clients finished."
             : !runtime.failure().empty() ? "The clients failed: " + runtime.failure()
                                          : std::string("The clients did not finish in 30 s!"));
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 3 && std::string(argv[1]) == "serve") return serve(argv[2]);
    if (argc != 1) {
      std::cerr
          << "usage: demo            (both parts)\n       demo serve PORT (the server process)\n";
      return 2;
    }
    if (simulated() != 0) return 1;
    char self[4096] = {};
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) throw std::runtime_error("cannot find this program's path");
    return real(self);
  } catch (const std::exception& e) {
    std::cerr << "demo: " << e.what() << "\n";
    return 1;
  }
}
