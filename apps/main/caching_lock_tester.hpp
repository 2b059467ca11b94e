// The classic lab 5 lock tester's node, shared by lab 5's lock_tester and lab 8's: one caching
// lock client (the student's) shared by 10 local users, as the classic tester did with threads.
// See lock_tester_lab5.cpp. It is a tester for apps/main/tester_main.hpp.
#pragma once

#include <unistd.h>

#include <map>
#include <string>

#include <fmt/format.h>

#include "caching_lock_client.hpp"
#include "dsys/core/context.hpp"
#include "dsys/rpc/endpoint.hpp"

namespace dsys::apps {

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Task;
using dsys::lock::LockId;

constexpr int kUsers = 10;

// The tester's node: its one caching lock client (of the lock service at `server`), and the
// users' coroutines.
struct CachingLockTester {
  Context& ctx;
  dsys::lab5::CachingLockClient locks;
  std::map<LockId, int> inside;  // how many local users believe they hold each lock
  std::string failure;
  bool done = false;

  // `relay`: what carries the lock client's calls instead of the network (lab 8: the RSM), or
  // nullptr.
  CachingLockTester(Context& c, dsys::core::Address server, dsys::rpc::Relay* relay = nullptr)
      : ctx(c), locks(c, server, static_cast<dsys::lock::ClientId>(::getpid())) {
    if (relay != nullptr) locks.server().relay_through(relay);
    ctx.spawn(run());
  }

  void fail(std::string what) {
    if (failure.empty()) failure = std::move(what);
  }
  Task<bool> acquire(LockId lock) {
    const auto got = co_await locks.acquire(lock);
    if (!got) {
      fail(fmt::format("acquire({}): unavailable (no grant in 10 s)", lock));
      co_return false;
    }
    if (++inside[lock] > 1) fail(fmt::format("lock {} granted to two users at once", lock));
    co_return failure.empty();
  }
  Task<bool> release(LockId lock) {
    --inside[lock];
    const auto freed = co_await locks.release(lock);
    if (!freed) {
      fail(fmt::format("release({}) failed", lock));
      co_return false;
    }
    co_return true;
  }

  Task<void> run() {
    fmt::print("test 1: acquire and release one lock, twice\n");
    for (int i = 0; i < 2 && failure.empty(); ++i) {
      if (co_await acquire(1)) co_await release(1);
    }
    if (failure.empty()) {
      fmt::print("test 2: acquire two locks, release them in the other order\n");
      if (co_await acquire(1) && co_await acquire(2)) {
        co_await release(2);
        co_await release(1);
      }
    }
    if (failure.empty()) {
      fmt::print("test 3: {} users acquire and release one lock at once\n", kUsers);
      co_await all_users(5, 1);
    }
    if (failure.empty()) {
      fmt::print("test 4: {} users, 20 rounds each over 3 locks\n", kUsers);
      co_await all_users(20, 3);
    }
    co_await locks.return_all();  // so that another tester gets them once this one has gone
    done = true;
  }

  Task<void> all_users(int rounds, int locks_used) {
    int finished = 0;
    dsys::core::Notifier all_done(ctx);
    for (int u = 0; u < kUsers; ++u) {
      ctx.spawn([this, &finished, &all_done, rounds, locks_used]() -> Task<void> {
        for (int i = 0; i < rounds && failure.empty(); ++i) {
          const LockId lock = 100 + ctx.rng().below(locks_used);
          const bool got = co_await acquire(lock);
          if (!got) break;
          co_await ctx.sleep_for(std::chrono::milliseconds(ctx.rng().between(0, 3)));
          const bool freed = co_await release(lock);
          if (!freed) break;
        }
        ++finished;
        all_done.notify_all();
      });
    }
    while (finished < kUsers) co_await all_done.wait();
  }
};

}  // namespace dsys::apps
