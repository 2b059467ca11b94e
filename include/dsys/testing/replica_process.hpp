// dsys/testing/replica_process.hpp: the replicas of labs 7 and 8 as real processes, for their
// tests: `lock_server MASTER_PORT MY_PORT --dir DIR` programs (from DSYS_APPS_DIR, the lab's
// program directory, which the test program defines), restartable on their port and disk, cut off
// from one another by the runtime's partition knob (DSYS_PARTITION_FILE), with their printed views
// read under deadlines. Nothing here sleeps a fixed time.
#pragma once

#include <signal.h>
#include <stdlib.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dsys/testing/process.hpp"

#ifndef DSYS_APPS_DIR
#error "dsys/testing/replica_process.hpp needs DSYS_APPS_DIR (a lab test program's)"
#endif

namespace dsys::testing {

using namespace std::chrono_literals;

// A lock_server process of this lab, with its own disk directory, restartable on its port.
class Replica {
 public:
  // `master`: the first replica's port (0: this is the first, on any free port); `port`: 0 for
  // any free port (the first start), the port it had (restarts).
  Replica(std::string dir, std::uint16_t master, std::uint16_t port,
          std::vector<std::string> env = {})
      : dir_(std::move(dir)), master_(master) {
    start(port, std::move(env));
  }
  void start(std::uint16_t port, std::vector<std::string> env = {}) {
    const std::string mine = std::to_string(port);
    const std::string first = master_ == 0 ? mine : std::to_string(master_);
    std::ofstream(partition_file(), std::ios::trunc).flush();  // cut off from no one
    env.push_back("DSYS_PARTITION_FILE=" + partition_file());
    process_ = std::make_unique<Process>(
        std::vector<std::string>{DSYS_APPS_DIR "/lock_server", first, mine, "--dir", dir_},
        std::move(env));
    auto line = process_->wait_for_line("listening on", 20s);
    INFO("lock_server output:\n" << process_->output());
    REQUIRE(line);
    port_ = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
    if (master_ == 0) master_ = port_;
  }
  void restart() { start(port_); }
  // Drops every message to and from the replicas on `ports` (none: heals), with the runtime's
  // partition knob (DSYS_PARTITION_FILE, reread at SIGUSR1), once the process says it does.
  void cut_off(const std::set<std::uint16_t>& ports) {
    {
      std::ofstream out(partition_file(), std::ios::trunc);
      for (auto p : ports) out << p << "\n";
    }
    process_->signal(SIGUSR1);
    auto line = process_->wait_for_line("partition: cut off from", 20s);
    INFO("lock_server output:\n" << process_->output());
    REQUIRE(line);
  }
  void kill() {
    process_->signal(SIGKILL);
    process_->wait(20s);
  }
  // Reads the views this replica prints until one numbered above `after` is made of exactly
  // `ports`; its number, or nullopt when none comes within `limit`.
  std::optional<std::uint64_t> wait_for_view(const std::set<std::uint16_t>& ports,
                                             dsys::core::Duration limit, std::uint64_t after = 0) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= dsys::core::Duration::zero()) return std::nullopt;
      auto line =
          process_->wait_for_line("view ", std::chrono::duration_cast<dsys::core::Duration>(left));
      if (!line) return std::nullopt;
      // "view N: 127.0.0.1:P 127.0.0.1:Q" on stdout (the log lines on stderr start with "[").
      const auto colon = line->find(':');
      const auto at = line->find("view ");
      if (colon == std::string::npos || at != 0) continue;
      std::set<std::uint16_t> members;
      std::size_t pos = colon + 1;
      while ((pos = line->find(':', pos)) != std::string::npos) {
        members.insert(static_cast<std::uint16_t>(std::stoi(line->substr(pos + 1))));
        ++pos;
      }
      const std::uint64_t number = std::stoull(line->substr(at + 5));
      if (members == ports && number > after) return number;
    }
  }
  std::uint16_t port() const { return port_; }
  Process& process() { return *process_; }

 private:
  std::string partition_file() const { return dir_ + ".partition"; }
  std::string dir_;
  std::uint16_t master_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

// A fresh directory for the disks of one test's replicas, removed at the end.
struct Disks : TempDir {
  Disks() : TempDir("dsys-replicas") {}
  std::string dir(int k) const {
    return (std::filesystem::path(path()) / fmt::format("r{}", k)).string();
  }
};

inline std::string outputs(std::vector<Replica*> replicas) {
  std::string out;
  for (std::size_t i = 0; i < replicas.size(); ++i) {
    out += fmt::format("--- replica {}:\n{}", i + 1, replicas[i]->process().output());
  }
  return out;
}

// Starts replicas r1, r2 and r3 (each once the one before is in a view; r1 with `first_env`)
// and waits until each prints view 3, of them all.
inline std::vector<std::unique_ptr<Replica>> start_three(const Disks& disks,
                                                         std::vector<std::string> first_env = {}) {
  std::vector<std::unique_ptr<Replica>> r;
  r.push_back(std::make_unique<Replica>(disks.dir(1), 0, 0, std::move(first_env)));
  r.push_back(std::make_unique<Replica>(disks.dir(2), r[0]->port(), 0));
  {
    INFO(outputs({r[0].get(), r[1].get()}));
    REQUIRE(r[1]->wait_for_view({r[0]->port(), r[1]->port()}, 30s) == 2u);
  }
  r.push_back(std::make_unique<Replica>(disks.dir(3), r[0]->port(), 0));
  const std::set<std::uint16_t> all = {r[0]->port(), r[1]->port(), r[2]->port()};
  for (auto& replica : r) {
    INFO(outputs({r[0].get(), r[1].get(), r[2].get()}));
    REQUIRE(replica->wait_for_view(all, 30s) == 3u);
  }
  return r;
}

}  // namespace dsys::testing
