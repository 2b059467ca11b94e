// lock_tester PORT: checks a lock server on 127.0.0.1:PORT, like the classic lab 1 tester.
// Prints "passed all tests successfully" and exits 0, or names the violation and exits 1.
#include <unistd.h>

#include <iostream>
#include <map>

#include <fmt/format.h>

#include "lock_client.hpp"
#include "main/tester_main.hpp"

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Task;
using dsys::lab1::LockClient;
using dsys::lock::LockId;
using dsys::lock::Status;

namespace {

constexpr int kClients = 10;
// Far longer than any lock is held here (a few ms) and than retransmissions need on a lossy
// network; an acquire that waits this long is waiting for a lock nobody will release.
constexpr auto kCallTimeout = 5s;

std::string describe(const dsys::rpc::CallResult<Status>& r) {
  return std::string(r ? to_string(*r) : to_string(r.error()));
}

// The tester's node: built by the Runtime, it starts testing at once and sets `done` at the end.
struct Tester {
  Context& ctx;
  dsys::rpc::Endpoint& endpoint;
  dsys::core::Address server;
  std::vector<std::unique_ptr<LockClient>> clients;
  std::map<LockId, int> inside;  // how many clients believe they hold each lock
  std::string failure;
  bool done = false;

  Tester(Context& c, dsys::core::Address s)
      : ctx(c), endpoint(dsys::rpc::Endpoint::of(c)), server(s) {
    // Client ids unique to this process, so that testers running at once do not collide.
    const auto base = static_cast<dsys::lock::ClientId>(::getpid()) << 16;
    for (int i = 0; i < kClients; ++i)
      clients.push_back(std::make_unique<LockClient>(endpoint, server, base + i, kCallTimeout));
    ctx.spawn(run());
  }

  void fail(std::string what) {
    if (failure.empty()) failure = std::move(what);
  }

  Task<bool> acquire(LockClient& c, LockId lock) {
    auto r = co_await c.acquire(lock);
    if (!r || *r != Status::ok) {
      const bool timed_out = !r && r.error() == dsys::rpc::Error::timeout;
      fail(fmt::format("acquire({}) by client {}: {}{}", lock, c.id(), describe(r),
                       timed_out ? " (no grant in 5 s: was the lock granted twice, or a copy of a "
                                   "request run again?)"
                                 : ""));
      co_return false;
    }
    if (++inside[lock] > 1)
      fail(fmt::format("lock {} granted to client {} while held by another", lock, c.id()));
    co_return failure.empty();
  }
  Task<bool> release(LockClient& c, LockId lock) {
    --inside[lock];
    auto r = co_await c.release(lock);
    if (!r || *r != Status::ok) {
      fail(fmt::format("release({}) by client {}: {}", lock, c.id(), describe(r)));
      co_return false;
    }
    co_return true;
  }

  Task<void> run() {
    const LockId a = 1, b = 2;
    LockClient& c0 = *clients[0];
    fmt::print("test 1: acquire and release one lock, twice\n");
    for (int i = 0; i < 2 && failure.empty(); ++i) {
      if (co_await acquire(c0, a)) co_await release(c0, a);
    }
    if (failure.empty()) {
      fmt::print("test 2: acquire two locks, release them in the other order\n");
      if (co_await acquire(c0, a) && co_await acquire(c0, b)) {
        co_await release(c0, b);
        co_await release(c0, a);
      }
    }
    if (failure.empty()) {
      fmt::print("test 3: releasing a lock one does not hold is refused\n");
      auto r = co_await c0.release(a);
      if (!r || *r != Status::not_held) fail("release of a free lock was not answered not_held");
    }
    if (failure.empty()) {
      fmt::print("test 4: {} clients acquire and release one lock at once\n", kClients);
      co_await all_clients(1, 1);
    }
    if (failure.empty()) {
      fmt::print("test 5: {} clients, 10 rounds each over 3 locks\n", kClients);
      co_await all_clients(10, 3);
    }
    done = true;
  }

  Task<void> all_clients(int rounds, int locks) {
    int finished = 0;
    dsys::core::Notifier all_done(ctx);
    for (auto& c : clients) {
      ctx.spawn([this, &finished, &all_done, rounds, locks, client = c.get()]() -> Task<void> {
        for (int i = 0; i < rounds && failure.empty(); ++i) {
          const LockId lock = 100 + ctx.rng().below(locks);
          if (!co_await acquire(*client, lock)) break;
          co_await ctx.sleep_for(std::chrono::milliseconds(ctx.rng().between(0, 3)));
          if (!co_await release(*client, lock)) break;
        }
        ++finished;
        all_done.notify_all();
      });
    }
    while (finished < kClients) co_await all_done.wait();
  }
};

}  // namespace

int main(int argc, char** argv) {
  return dsys::apps::tester_main<Tester>(argc, argv, "lock_tester", "the lock server");
}
