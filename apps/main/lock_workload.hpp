// apps/main/lock_workload.hpp: a lock workload that records its history, for a nemesis run
// (./dsys nemesis, tools/nemesis.py) and for anyone who wants to check a lock service from outside.
//
//   lock_workload [--seconds S] [--users N] [--locks K] [--history FILE] [--listen ADDR]
//                 [--announce ADDR] PORT|HOST:PORT
//
// One caching lock client (lab 5's, the student's) of the service at PORT, shared by N local
// users (default 5). For S seconds (default 30) each user loops: pick one of K locks (default 3),
// acquire it, hold it 0-5 ms, release it, wait 0-20 ms. Every acquire and release is recorded with
// the steady clock's time (CLOCK_MONOTONIC, which every process of this machine shares, whatever
// its network namespace) at its call and at its return. An acquire still waiting at the end (for
// at most kDrainLimit more), or that the client gave up on, has an unknown outcome. At the end it
// gives its cached locks back, writes the history to FILE (default stdout's summary only), one
// operation per line:
//
//   USER LOCK ACTION CALL_NS RESPONSE_NS|? RESULT|?      e.g.  4001 101 acquire 9120331 9120950 ok
//
// (USER: this process's id times 1000 plus the user's number), prints
// "lock_workload: N operations (U of unknown outcome) by N users in S s", and exits 0; 1 if a user
// saw a lock granted to two local users at once (also printed), 2 for a bad argument.
// check_history (apps/check_history.cpp) checks such files with the lock model.
//
// `relay`: what carries the lock client's calls (lab 8: the RSM's LockRelay), or none (lab 5).
#pragma once

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "caching_lock_client.hpp"
#include "dsys/core/context.hpp"
#include "dsys/net/host.hpp"
#include "dsys/net/runtime.hpp"
#include "main/node_address.hpp"

namespace dsys::apps {

struct WorkloadOptions {
  int seconds = 30;
  int users = 5;
  int locks = 3;
  std::string history;  // where the history goes; empty: nowhere
};

// One recorded call.
struct WorkloadOperation {
  std::uint64_t user = 0;
  lock::LockId lock = 0;
  const char* action = "";
  std::int64_t call_ns = 0;
  std::optional<std::int64_t> response_ns;
  std::string result;  // "ok", or "" while unknown
};

inline std::int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The workload's node. `Relayed` supplies the relay (lab 8) before the lock client is built.
struct LockWorkload {
  // How long a user's acquire may wait (the lock client's own bound): long enough to outlast a
  // view change after a partition or a crash, so that most outcomes are known.
  static constexpr auto kAcquireLimit = std::chrono::seconds(60);
  // After the S seconds, how long calls in progress have to return before they count as unknown.
  static constexpr auto kDrainLimit = std::chrono::seconds(20);

  core::Context& ctx;
  WorkloadOptions options;
  lab5::CachingLockClient locks;
  std::vector<WorkloadOperation> history;
  std::map<lock::LockId, int> inside;
  std::string failure;
  int running = 0;
  bool stopping = false;
  bool done = false;
  core::Notifier users_done;

  LockWorkload(core::Context& c, core::Address server, WorkloadOptions o,
               rpc::Relay* relay = nullptr)
      : ctx(c),
        options(std::move(o)),
        locks(c, server, static_cast<lock::ClientId>(::getpid()), kAcquireLimit),
        users_done(c) {
    if (relay != nullptr) locks.server().relay_through(relay);
    ctx.spawn(run());
  }

  void fail(std::string what) {
    if (failure.empty()) failure = std::move(what);
  }

  core::Task<void> user(int number) {
    const std::uint64_t id = static_cast<std::uint64_t>(::getpid()) * 1000 + number;
    while (!stopping && failure.empty()) {
      const lock::LockId lock = 100 + ctx.rng().below(static_cast<std::uint64_t>(options.locks));
      history.push_back({id, lock, "acquire", monotonic_ns(), std::nullopt, ""});
      std::size_t at = history.size() - 1;
      const auto got = co_await locks.acquire(lock);
      if (!got) break;  // gave up: its outcome stays unknown
      history[at].response_ns = monotonic_ns();
      history[at].result = "ok";
      if (++inside[lock] > 1) fail(fmt::format("lock {} granted to two local users at once", lock));
      co_await ctx.sleep_for(std::chrono::milliseconds(ctx.rng().between(0, 5)));
      --inside[lock];
      history.push_back({id, lock, "release", monotonic_ns(), std::nullopt, ""});
      at = history.size() - 1;
      const auto freed = co_await locks.release(lock);
      if (!freed) break;
      history[at].response_ns = monotonic_ns();
      history[at].result = "ok";
      co_await ctx.sleep_for(std::chrono::milliseconds(ctx.rng().between(0, 20)));
    }
    --running;
    users_done.notify_all();
  }

  core::Task<void> run() {
    for (int u = 0; u < options.users; ++u) {
      ++running;
      ctx.spawn(user(u));
    }
    co_await ctx.sleep_for(std::chrono::seconds(options.seconds));
    stopping = true;
    const auto deadline = ctx.now() + kDrainLimit;
    while (running > 0 && ctx.now() < deadline) co_await users_done.wait_until(deadline);
    if (running == 0) co_await locks.return_all();
    done = true;
  }
};

// Writes the history (see the top of this file); false if the file cannot be written.
inline bool write_history(const std::vector<WorkloadOperation>& history, const std::string& path) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& op : history) {
    out << fmt::format("{} {} {} {} {} {}\n", op.user, op.lock, op.action, op.call_ns,
                       op.response_ns ? std::to_string(*op.response_ns) : "?",
                       op.response_ns ? op.result : "?");
  }
  out.flush();
  return static_cast<bool>(out);
}

// The main() of a lock_workload program; `Node` is LockWorkload or a type built on it, made as
// Node(ctx, server, options).
template <class Node>
int lock_workload_main(int argc, char** argv) {
  auto usage = [](std::string_view why) {
    std::cerr << fmt::format(
        "lock_workload: {}\nusage: lock_workload [--seconds S] [--users N] [--locks K] "
        "[--history FILE] [--listen ADDR] [--announce ADDR] PORT|HOST:PORT\n"
        "  N users (default 5) of one caching lock client take K locks (default 3) for S seconds\n"
        "  (default 30), recording each call with its times in FILE (apps/main/lock_workload.hpp)\n"
        "{}",
        why, kNodeAddressUsage);
    return 2;
  };
  std::vector<std::string> args(argv + 1, argv + argc);
  NodeAddress own;
  if (auto why = take_node_address(args, own); !why.empty()) return usage(why);
  WorkloadOptions options;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--history" || a == "--seconds" || a == "--users" || a == "--locks") {
      if (i + 1 >= args.size()) return usage(fmt::format("{} needs a value", a));
      const std::string value = args[++i];
      if (a == "--history") {
        options.history = value;
        continue;
      }
      int n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      const int most = a == "--seconds" ? 86400 : 1000;
      if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > most) {
        return usage(fmt::format("{} takes a whole number from 1 to {}, not '{}'", a, most, value));
      }
      (a == "--seconds" ? options.seconds : a == "--users" ? options.users : options.locks) = n;
    } else {
      rest.push_back(a);
    }
  }
  if (rest.size() != 1) return usage("expected the lock service's address");
  const auto server = net::parse_host_port(rest[0], net::PortZero::refused);
  if (!server) return usage(server.error());
  try {
    auto net_options = net::Options::from_environment();
    net_options.name = "lock_workload";
    net_options.stop_on_signals = true;
    listen_as_client(net_options, own, server->address());  // called back: revoke, retry
    net::Runtime runtime(net_options, core::make_node<Node>(server->address(), options));
    Node& node = runtime.service<Node>();
    const auto limit = std::chrono::seconds(options.seconds) + LockWorkload::kDrainLimit +
                       std::chrono::seconds(30);
    if (!runtime.run_until([&] { return node.done; }, limit)) {
      // Stopped by a signal (or out of time): what is still waiting has an unknown outcome.
      if (!runtime.failure().empty()) node.fail(runtime.failure());
    }
    runtime.context().shutdown();
    std::size_t unknown = 0;
    for (const auto& op : node.history) unknown += op.response_ns ? 0 : 1;
    if (!options.history.empty() && !write_history(node.history, options.history)) {
      std::cerr << fmt::format("lock_workload: cannot write {}\n", options.history);
      return 1;
    }
    fmt::print("lock_workload: {} operations ({} of unknown outcome) by {} users in {} s\n",
               node.history.size(), unknown, options.users, options.seconds);
    if (!node.failure.empty()) {
      fmt::print("lock_workload: FAILED: {}\n", node.failure);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("lock_workload: {}\n", e.what());
    return 1;
  }
}

}  // namespace dsys::apps
