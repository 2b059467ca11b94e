// bench_locks: ./dsys bench locks. Lab 4's file-system workloads over lab 4's lock client (an RPC
// per acquire and per release) and over lab 5's caching lock client, side by side in one run, in
// the simulated world over a network that drops, duplicates and reorders (seeded: the same counts
// every run). For each: acquire and release RPCs the clients made, file-system operations per
// second of virtual time, and the wall-clock time the simulation took; then the ratios.
//
//   own dirs   each of two clients makes a directory, creates 100 files in it and deletes 99
//   shared     the same, both clients in one directory (contention: locks move back and forth)
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "caching_lock_server.hpp"
#include "dsys/sim/world.hpp"
#include "extent_server.hpp"
#include "lab4_node.hpp"
#include "lab5_node.hpp"
#include "lock_server.hpp"

using namespace std::chrono_literals;
using dsys::core::Task;
using dsys::fs::kRootInum;

namespace {

struct Figures {
  std::uint64_t acquires = 0;
  std::uint64_t releases = 0;
  int operations = 0;
  int failures = 0;
  double virtual_seconds = 0;
  double wall_seconds = 0;
};

template <class Node, class LockServer>
Figures run(bool shared, std::uint64_t seed) {
  const auto wall_start = std::chrono::steady_clock::now();
  dsys::sim::World world(
      {.seed = seed, .faults = {.drop = 0.05, .duplicate = 0.05, .reorder = 0.1}, .trace = false});
  auto extent = world.add_node("extent_server", dsys::core::make_node<dsys::lab2::ExtentServer>());
  auto lock = world.add_node("lock_server", dsys::core::make_node<LockServer>());
  const dsys::fs::Servers servers{world.address(extent), world.address(lock)};
  std::vector<dsys::sim::NodeId> clients;
  for (int c = 1; c <= 2; ++c) {
    clients.push_back(
        world.add_node(fmt::format("yfs{}", c), dsys::core::make_node<Node>(servers)));
  }
  Figures f;
  int finished = 0;
  bool made = !shared;
  if (shared) {
    world.context(clients[0]).spawn([&]() -> Task<void> {
      auto dir = co_await world.service<Node>(clients[0]).fs().mkdir(kRootInum, "shared");
      if (!dir) ++f.failures;
      made = true;
    });
    world.run_until([&] { return made; }, 10min);
  }
  const auto virtual_start = world.now();
  for (int c = 1; c <= 2; ++c) {
    world.context(clients[c - 1]).spawn([&, c]() -> Task<void> {
      dsys::fs::FileSystem& fs = world.service<Node>(clients[c - 1]).fs();
      auto dir = shared ? co_await fs.lookup(kRootInum, "shared")
                        : co_await fs.mkdir(kRootInum, fmt::format("dir-{}", c));
      ++f.operations;
      if (dir) {
        for (int i = 0; i < 100; ++i, ++f.operations) {
          if (!co_await fs.create(*dir, fmt::format("c{}-f{}", c, i))) ++f.failures;
        }
        for (int i = 0; i < 99; ++i, ++f.operations) {
          if (!co_await fs.unlink(*dir, fmt::format("c{}-f{}", c, i))) ++f.failures;
        }
      } else {
        ++f.failures;
      }
      ++finished;
    });
  }
  if (!world.run_until([&] { return finished == 2; }, 120min)) f.failures += 1000;
  f.virtual_seconds = std::chrono::duration<double>(world.now() - virtual_start).count();
  for (auto node : clients) {
    auto& endpoint = dsys::rpc::Endpoint::of(world.context(node));
    f.acquires += endpoint.stats<dsys::lock::Acquire>().calls;
    f.releases += endpoint.stats<dsys::lock::Release>().calls;
  }
  f.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return f;
}

void row(const char* workload, const char* client, const Figures& f) {
  std::printf("%-10s %-16s %10llu %10llu %12.0f %10.2f %9d\n", workload, client,
              static_cast<unsigned long long>(f.acquires),
              static_cast<unsigned long long>(f.releases), f.operations / f.virtual_seconds,
              f.wall_seconds, f.failures);
}

}  // namespace

int main() {
  std::printf("lock RPCs for lab 4's workloads, 2 clients, a lossy simulated network (seed 1)\n");
  std::printf("%-10s %-16s %10s %10s %12s %10s %9s\n", "workload", "lock client", "acquires",
              "releases", "ops/s (sim)", "wall s", "failures");
  int failures = 0;
  for (bool shared : {false, true}) {
    const char* name = shared ? "shared" : "own dirs";
    const auto lab4 = run<dsys::lab4::Node, dsys::lab1::LockServer>(shared, 1);
    const auto lab5 = run<dsys::lab5::Node, dsys::lab5::CachingLockServer>(shared, 1);
    row(name, "lab 4 (lab 1's)", lab4);
    row(name, "lab 5 (caching)", lab5);
    std::printf(
        "%-10s %-16s %9.1fx %21.1fx\n", name, "lab 4 / lab 5",
        static_cast<double>(lab4.acquires) / std::max<std::uint64_t>(lab5.acquires, 1),
        (lab5.operations / lab5.virtual_seconds) / (lab4.operations / lab4.virtual_seconds));
    failures += lab4.failures + lab5.failures;
  }
  std::printf(
      "(acquires: the clients' acquire RPCs; ops/s: file-system operations per second of\n"
      "virtual time; lab 5's goal is at least 50x fewer acquires in \"own dirs\")\n");
  return failures == 0 ? 0 : 1;
}
