// Lab 6's graded tests. Points and time limits are the [points:N] and [timeout:S] tags.
// Run them all with `./dsys grade lab6`, one with `./dsys grade lab6 --only "<name>"`.
//
// Two to four yfs clients (your CoherentFs, LockingFs and DirClient over your ExtentCache, locking
// through your lab 5 caching lock client and server) share one extent server. After every event
// the directories, as the extent server holds them, must be well formed: no name listed twice,
// every listed inode's extent there. That is what the flush order protects, and the crash test
// crashes a client at every point of a flush to check it.
//
// This program also runs the tests of labs 2, 3 and 4 again, over your cache (their files,
// compiled with DSYS_RERUN_NODE: see lab 6's yfs_rerun.hpp), their real-mount tests included: the
// yfs_client of this directory is lab 6's.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "caching_lock_server.hpp"
#include "dsys/testing/lab.hpp"
#include "dsys/testing/process.hpp"
#include "dsys/testing/yfs.hpp"
#include "dsys/testing/yfs_cluster.hpp"
#include "extent_server.hpp"
#include "lab5_node.hpp"
#include "lab6_node.hpp"

using namespace std::chrono_literals;
using dsys::core::Task;
using dsys::fs::Error;
using dsys::fs::Inum;
using dsys::fs::kRootInum;
using dsys::sim::NodeId;
using dsys::testing::TestWorld;
using Lab6Yfs = dsys::testing::SimYfs<dsys::lab2::ExtentServer, dsys::lab6::Node,
                                      dsys::lab5::CachingLockServer>;
using Lab5Yfs = dsys::testing::SimYfs<dsys::lab2::ExtentServer, dsys::lab5::Node,
                                      dsys::lab5::CachingLockServer>;

namespace {

// A world of `clients` lab 6 clients, checking the directories throughout.
struct Cluster {
  Cluster(std::uint64_t seed, std::string label, int clients, bool lossy = true)
      : world({.seed = seed,
               .faults = lossy ? dsys::testing::lossy_network() : dsys::sim::LinkFaults{},
               .label = std::move(label)}),
        yfs(world, clients) {
    yfs.check_directories();
  }
  // Runs every started operation to its end (at most `limit` of simulated time).
  template <class Results>
  void finish(const Results& results, dsys::core::Duration limit = 30min) {
    const bool done = world.run_until(
        [&] {
          return std::all_of(results.begin(), results.end(),
                             [](auto& r) { return r->has_value(); });
        },
        limit);
    INFO("the clients' operations did not all finish in "
         << limit / 1min << " min of simulated time (a lock never given back?)");
    REQUIRE(done);
  }
  // Creates `name` through `client`, and looks it up through every other client: a client
  // learns an inum from a directory (as through FUSE), which brings the new file's extent to
  // the server first (the directory's lock moves).
  Inum create(int client, Inum dir, std::string name) {
    auto inum = yfs.run(client, [dir, name](auto& fs) { return fs.create(dir, name); });
    INFO("create " << name << " through client " << client);
    REQUIRE(inum);
    for (int other = 1; other <= yfs.clients(); ++other) {
      if (other == client) continue;
      auto found = yfs.run(other, [dir, name](auto& fs) { return fs.lookup(dir, name); });
      INFO("lookup of " << name << " through client " << other);
      REQUIRE(found);
      CHECK(*found == *inum);
    }
    return *inum;
  }
  // Creates `name` through `client` only.
  Inum create_here(int client, Inum dir, std::string name) {
    auto inum = yfs.run(client, [dir, name](auto& fs) { return fs.create(dir, name); });
    INFO("create " << name << " through client " << client);
    REQUIRE(inum);
    return *inum;
  }
  void write(int client, Inum file, std::string data) {
    auto size = yfs.run(client, [file](auto& fs) { return fs.setattr(file, 0); });
    INFO("truncate through client " << client);
    REQUIRE(size);
    auto n = yfs.run(client, [file, data](auto& fs) { return fs.write(file, 0, data); });
    INFO("write through client " << client);
    REQUIRE(n);
    CHECK(*n == data.size());
  }
  std::string read(int client, Inum file) {
    auto data = yfs.run(client, [file](auto& fs) { return fs.read(file, 0, 1 << 20); });
    INFO("read through client " << client);
    REQUIRE(data);
    return *data;
  }
  std::set<std::string> names(int client, Inum dir) {
    auto entries = yfs.run(client, [dir](auto& fs) { return fs.readdir(dir); });
    INFO("readdir through client " << client);
    REQUIRE(entries);
    std::set<std::string> names;
    for (const auto& e : *entries) names.insert(e.name);
    return names;
  }
  TestWorld world;
  Lab6Yfs yfs;
};

// The extent RPCs (get, put, getattr, remove) that a node has made.
std::uint64_t extent_calls(TestWorld& world, NodeId node) {
  auto& endpoint = dsys::rpc::Endpoint::of(world.context(node));
  return endpoint.stats<dsys::extent::Get>().calls + endpoint.stats<dsys::extent::Put>().calls +
         endpoint.stats<dsys::extent::GetAttr>().calls +
         endpoint.stats<dsys::extent::Remove>().calls;
}
// Every RPC a node has made: extent and lock.
std::uint64_t all_calls(TestWorld& world, NodeId node) {
  auto& endpoint = dsys::rpc::Endpoint::of(world.context(node));
  return extent_calls(world, node) + endpoint.stats<dsys::lock::Acquire>().calls +
         endpoint.stats<dsys::lock::Release>().calls;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

// ------------------------------------------------------------ part 1: the cache

TEST_CASE("lab 6: reads and writes of cached extents cost no extent RPC, and stay in the cache",
          "[lab6][part1][points:6][timeout:60]") {
  Cluster c(601, "lab6-cached", 2);
  const Inum f = c.create_here(1, kRootInum, "f");
  c.write(1, f, "first");
  const std::uint64_t before = extent_calls(c.world, c.yfs.client(1));
  for (int i = 0; i < 100; ++i) {
    c.write(1, f, fmt::format("version {}", i));
    CHECK(c.read(1, f) == fmt::format("version {}", i));
    auto a = c.yfs.run(1, [f](auto& fs) { return fs.getattr(f); });
    REQUIRE(a);
  }
  const std::uint64_t during = extent_calls(c.world, c.yfs.client(1)) - before;
  INFO("client 1 made " << during << " extent RPCs for 100 writes, reads and getattrs of a file"
                        << " whose lock it kept");
  CHECK(during == 0);
  INFO("write-back: nothing reaches the extent server while the lock stays");
  CHECK_FALSE(c.yfs.extent_server().peek(f));
  CHECK(c.yfs.node(1).cache().dirty_count() > 0);
  // The other client's lookup and read move the locks: the last version is written back.
  auto found = c.yfs.run(2, [](auto& fs) { return fs.lookup(kRootInum, "f"); });
  REQUIRE(found);
  CHECK(c.read(2, f) == "version 99");
  CHECK(c.yfs.extent_server().peek(f) == std::optional<std::string>("version 99"));
}

TEST_CASE(
    "lab 6: a create costs no RPC at all, and the other client finds the file once the "
    "directory's lock has moved",
    "[lab6][part1][part2][points:4][timeout:60]") {
  Cluster c(602, "lab6-create", 2);
  CHECK(c.names(1, kRootInum).empty());  // client 1 now has the root's lock
  const std::uint64_t before = all_calls(c.world, c.yfs.client(1));
  const Inum f = c.create_here(1, kRootInum, "new");
  auto a = c.yfs.run(1, [f](auto& fs) { return fs.getattr(f); });  // as the kernel does
  REQUIRE(a);
  CHECK(a->size == 0);
  auto found = c.yfs.run(1, [](auto& fs) { return fs.lookup(kRootInum, "new"); });
  REQUIRE(found);
  CHECK(*found == f);
  const std::uint64_t calls = all_calls(c.world, c.yfs.client(1)) - before;
  INFO("client 1 made " << calls << " RPCs (extent and lock) for a create, a getattr of the new "
                        << "file and a lookup (a new inode needs no lock: see CoherentFs)");
  CHECK(calls == 0);
  auto other = c.yfs.run(2, [](auto& fs) { return fs.lookup(kRootInum, "new"); });
  REQUIRE(other);
  CHECK(*other == f);
  auto attr = c.yfs.run(2, [f](auto& fs) { return fs.getattr(f); });
  REQUIRE(attr);
  CHECK(attr->size == 0);
}

TEST_CASE(
    "lab 6: sizes are exact and times move forward: at once for the writer, for the other "
    "client once the lock has moved",
    "[lab6][part1][points:5][timeout:60]") {
  Cluster c(603, "lab6-times", 2);
  const Inum f = c.create_here(1, kRootInum, "t");
  auto t0 = c.yfs.run(1, [f](auto& fs) { return fs.getattr(f); });
  REQUIRE(t0);
  auto n = c.yfs.run(1, [f](auto& fs) { return fs.write(f, 0, std::string(10, 'a')); });
  REQUIRE(n);
  auto t1 = c.yfs.run(1, [f](auto& fs) { return fs.getattr(f); });
  REQUIRE(t1);
  CHECK(t1->size == 10);
  CHECK(t1->mtime > t0->mtime);
  CHECK(t1->ctime > t0->ctime);
  // A second change in the same instant still moves the times.
  auto n2 = c.yfs.run(1, [f](auto& fs) { return fs.write(f, 10, "bc"); });
  REQUIRE(n2);
  auto t2 = c.yfs.run(1, [f](auto& fs) { return fs.getattr(f); });
  REQUIRE(t2);
  CHECK(t2->size == 12);
  CHECK(t2->mtime > t1->mtime);
  // The other client sees the writer's size and times, written back with the data.
  REQUIRE(c.yfs.run(2, [](auto& fs) { return fs.lookup(kRootInum, "t"); }));
  auto seen = c.yfs.run(2, [f](auto& fs) { return fs.getattr(f); });
  REQUIRE(seen);
  CHECK(seen->size == 12);
  CHECK(seen->mtime == t2->mtime);
  CHECK(seen->ctime == t2->ctime);
  // Its own change (a truncate to 3), seen by the first client.
  auto cut = c.yfs.run(2, [f](auto& fs) { return fs.setattr(f, 3); });
  REQUIRE(cut);
  auto back = c.yfs.run(1, [f](auto& fs) { return fs.getattr(f); });
  REQUIRE(back);
  CHECK(back->size == 3);
  CHECK(back->mtime > t2->mtime);
  CHECK(c.read(1, f) == "aaa");
}

// ------------------------------------------------------------ part 2: coherence

TEST_CASE(
    "lab 6: a write by one client is seen by the other once the lock has moved, never a stale "
    "read",
    "[lab6][part2][points:7][timeout:120]") {
  Cluster c(604, "lab6-coherent", 2);
  const Inum f = c.create(1, kRootInum, "shared");
  for (int round = 0; round < 30; ++round) {
    const int writer = 1 + round % 2;
    const int reader = 3 - writer;
    // Sizes that grow and shrink, so a stale size would show too.
    const std::string data = fmt::format("round {} by client {} ", round, writer) +
                             std::string(static_cast<std::size_t>((round * 37) % 200), 'x');
    c.write(writer, f, data);
    INFO("round " << round << ": client " << writer << " wrote " << data.size() << " bytes; client "
                  << reader << " reads");
    CHECK(c.read(reader, f) == data);
    auto a = c.yfs.run(reader, [f](auto& fs) { return fs.getattr(f); });
    REQUIRE(a);
    CHECK(a->size == data.size());
    // And the writer still reads its own write (the lock came back to it).
    CHECK(c.read(writer, f) == data);
  }
}

TEST_CASE("lab 6: interleaved writes to one file from two clients leave the last writer's data",
          "[lab6][part2][points:5][timeout:120]") {
  Cluster c(605, "lab6-interleaved", 2);
  const Inum f = c.create(1, kRootInum, "both");
  for (int round = 0; round < 10; ++round) {
    // Both clients write the whole file at once, many times; each write is whole (the file's
    // lock), and when both are done the file holds one of the two last writes, the same for
    // both clients.
    std::vector<std::shared_ptr<std::optional<bool>>> results;
    std::set<std::string> last;
    for (int client = 1; client <= 2; ++client) {
      last.insert(fmt::format("round {} client {} write 4", round, client));
      results.push_back(c.yfs.start(client, [f, round, client](auto& fs) -> Task<bool> {
        for (int i = 0; i < 5; ++i) {
          const std::string data = fmt::format("round {} client {} write {}", round, client, i);
          auto cut = co_await fs.setattr(f, 0);  // (a truncate and a write: two operations)
          if (!cut) co_return false;
          auto n = co_await fs.write(f, 0, data);
          if (!n) co_return false;
        }
        co_return true;
      }));
    }
    c.finish(results);
    for (auto& r : results) CHECK(**r);
    const std::string one = c.read(1, f);
    const std::string two = c.read(2, f);
    INFO("round " << round << ": client 1 reads '" << one << "', client 2 '" << two << "'");
    CHECK(one == two);
    // A truncate of one and a write of the other may interleave, but the file ends with a
    // last write whole (writes of one length: never a mix of two).
    bool whole = false;
    for (const auto& l : last) whole = whole || one == l;
    CHECK(whole);
  }
}

TEST_CASE(
    "lab 6: an unlink in one client makes lookup fail in the other, and the name can be made "
    "again",
    "[lab6][part2][points:5][timeout:60]") {
  Cluster c(606, "lab6-unlink", 2);
  const Inum f = c.create(1, kRootInum, "gone");
  c.write(1, f, "soon gone");
  CHECK(c.read(2, f) == "soon gone");  // now on the server, and client 2 has its lock
  auto removed = c.yfs.run(1, [](auto& fs) { return fs.unlink(kRootInum, "gone"); });
  REQUIRE(removed);
  auto lookup = c.yfs.run(2, [](auto& fs) { return fs.lookup(kRootInum, "gone"); });
  REQUIRE_FALSE(lookup);
  CHECK(lookup.error() == Error::not_found);
  CHECK(c.names(2, kRootInum).empty());
  // Client 1's own view agrees, and the name is free again, for either client.
  auto own = c.yfs.run(1, [](auto& fs) { return fs.lookup(kRootInum, "gone"); });
  REQUIRE_FALSE(own);
  const Inum again = c.create(2, kRootInum, "gone");
  CHECK(again != f);
  c.write(2, again, "back");
  CHECK(c.read(1, again) == "back");
  // Once everything is written back, the first file's extent is gone from the server.
  c.yfs.settle();
  CHECK_FALSE(c.yfs.extent_server().peek(f));
  CHECK(c.yfs.extent_server().peek(again) == std::optional<std::string>("back"));
}

namespace {

// Each of two clients makes a directory, creates 100 files in it and deletes 99, at once, and
// finishes (lab 6: writes everything back). Returns the clients' extent RPCs.
template <class Yfs>
std::uint64_t create_and_delete(std::uint64_t seed, std::string label) {
  TestWorld world({.seed = seed, .faults = dsys::testing::lossy_network(), .label = label});
  Yfs yfs(world, 2);
  yfs.check_directories();
  using Errors = std::vector<std::string>;
  std::vector<std::shared_ptr<std::optional<Errors>>> results;
  for (int client = 1; client <= 2; ++client) {
    results.push_back(yfs.start(client, [client](auto& fs) -> Task<Errors> {
      Errors errors;
      auto dir = co_await fs.mkdir(kRootInum, fmt::format("dir-{}", client));
      if (!dir)
        co_return Errors{fmt::format("client {}: mkdir: {}", client, to_string(dir.error()))};
      for (int i = 0; i < 100; ++i) {
        auto r = co_await fs.create(*dir, fmt::format("f{}", i));
        if (!r) errors.push_back(fmt::format("create f{}: {}", i, to_string(r.error())));
      }
      for (int i = 0; i < 99; ++i) {
        auto r = co_await fs.unlink(*dir, fmt::format("f{}", i));
        if (!r) errors.push_back(fmt::format("unlink f{}: {}", i, to_string(r.error())));
      }
      co_return errors;
    }));
  }
  const bool done = world.run_until(
      [&] {
        return std::all_of(results.begin(), results.end(), [](auto& r) { return r->has_value(); });
      },
      60min);
  REQUIRE(done);
  for (auto& r : results) {
    INFO(join(**r));
    CHECK((*r)->empty());
  }
  yfs.settle();  // the clients go: lab 6's write everything back (counted)
  std::uint64_t calls = 0;
  for (int client = 1; client <= 2; ++client) calls += extent_calls(world, yfs.client(client));
  // What the server holds: the root, two directories, one file in each.
  INFO("the extent server's directories: " << yfs.directory_problem());
  CHECK(yfs.directory_problem().empty());
  CHECK(yfs.extent_server().extents() == 5);
  for (int client = 1; client <= 2; ++client) {
    auto dir = yfs.run(3 - client, [client](auto& fs) {
      return fs.lookup(kRootInum, fmt::format("dir-{}", client));
    });
    REQUIRE(dir);
    auto entries = yfs.run(3 - client, [d = *dir](auto& fs) { return fs.readdir(d); });
    REQUIRE(entries);
    REQUIRE(entries->size() == 1);
    CHECK(entries->front().name == "f99");
  }
  return calls;
}

}  // namespace

TEST_CASE(
    "lab 6: each of two clients creates 100 files and deletes 99 in its own directory, with "
    "at least 10 times fewer extent RPCs than lab 5",
    "[lab6][part1][part2][points:7][timeout:180]") {
  const auto lab5 = create_and_delete<Lab5Yfs>(607, "lab6-lab5-baseline");
  const auto lab6 = create_and_delete<Lab6Yfs>(607, "lab6-own-dirs");
  std::cout << fmt::format(
                   "dsys: extent RPCs (get, put, getattr, remove) for 2 x (100 creates, 99 "
                   "deletes), until both clients finished: lab 5 {}, lab 6 {} ({:.1f}x fewer)",
                   lab5, lab6, static_cast<double>(lab5) / std::max<std::uint64_t>(lab6, 1))
            << std::endl;
  INFO("extent RPCs: lab 5's client " << lab5 << ", your caching client " << lab6);
  CHECK(lab6 * 10 <= lab5);
}

TEST_CASE(
    "lab 6: four clients create, write, read and delete in one directory at once; the "
    "directories stay well formed and every client agrees",
    "[lab6][part2][points:6][timeout:180]") {
  Cluster c(608, "lab6-four", 4);
  auto dir = c.yfs.run(1, [](auto& fs) { return fs.mkdir(kRootInum, "all"); });
  REQUIRE(dir);
  for (int client = 2; client <= 4; ++client) {  // (how the others learn its inum)
    auto found = c.yfs.run(client, [](auto& fs) { return fs.lookup(kRootInum, "all"); });
    REQUIRE(found);
    CHECK(*found == *dir);
  }
  using Errors = std::vector<std::string>;
  std::vector<std::shared_ptr<std::optional<Errors>>> results;
  for (int client = 1; client <= 4; ++client) {
    results.push_back(c.yfs.start(client, [client, d = *dir](auto& fs) -> Task<Errors> {
      Errors errors;
      for (int i = 0; i < 12; ++i) {
        const std::string name = fmt::format("c{}-{}", client, i);
        auto f = co_await fs.create(d, name);
        if (!f) {
          errors.push_back(fmt::format("create {}: {}", name, to_string(f.error())));
          continue;
        }
        auto n = co_await fs.write(*f, 0, "data of " + name);
        if (!n) errors.push_back(fmt::format("write {}: {}", name, to_string(n.error())));
        auto back = co_await fs.read(*f, 0, 100);
        if (!back || *back != "data of " + name) errors.push_back("read back " + name);
        if (i % 2 == 1) {
          auto gone = co_await fs.unlink(d, name);
          if (!gone) errors.push_back(fmt::format("unlink {}: {}", name, to_string(gone.error())));
        }
      }
      co_return errors;
    }));
  }
  c.finish(results);
  for (auto& r : results) {
    INFO(join(**r));
    CHECK((*r)->empty());
  }
  std::set<std::string> expected;
  for (int client = 1; client <= 4; ++client) {
    for (int i = 0; i < 12; i += 2) expected.insert(fmt::format("c{}-{}", client, i));
  }
  for (int client = 1; client <= 4; ++client) {
    INFO("the directory through client " << client);
    CHECK(c.names(client, *dir) == expected);
  }
  // Each file read by a client that did not write it.
  for (int writer = 1; writer <= 4; ++writer) {
    const std::string name = fmt::format("c{}-0", writer);
    auto f = c.yfs.run(writer % 4 + 1, [d = *dir, name](auto& fs) { return fs.lookup(d, name); });
    REQUIRE(f);
    CHECK(c.read(writer % 4 + 1, *f) == "data of " + name);
  }
}

// ------------------------------------------------------------ crashes

namespace {

// Client 1's work that the crash test interrupts: made and written back first (settle), then
// changed in its cache only: a new file with data, a new directory with a new file in it, a
// changed file, and an unlink of a file the server has.
void cached_changes(Cluster& c, Inum dir) {
  const Inum fresh = c.create_here(1, dir, "fresh");
  c.write(1, fresh, "fresh data");
  auto sub = c.yfs.run(1, [dir](auto& fs) { return fs.mkdir(dir, "sub"); });
  REQUIRE(sub);
  c.create_here(1, *sub, "deep");
  auto kept = c.yfs.run(1, [dir](auto& fs) { return fs.lookup(dir, "kept"); });
  REQUIRE(kept);
  c.write(1, *kept, "kept, changed");
  auto gone = c.yfs.run(1, [dir](auto& fs) { return fs.unlink(dir, "gone"); });
  REQUIRE(gone);
}

Inum prepare(Cluster& c) {
  auto dir = c.yfs.run(1, [](auto& fs) { return fs.mkdir(kRootInum, "d"); });
  REQUIRE(dir);
  c.write(1, c.create_here(1, *dir, "kept"), "kept, first");
  c.write(1, c.create_here(1, *dir, "gone"), "to be removed");
  c.yfs.settle();  // on the server, and every lock back there
  cached_changes(c, *dir);
  return *dir;
}

// Whether an event of client 1 is a message to or from the extent server.
bool extent_traffic(const dsys::sim::NodeEvent& e, NodeId server) {
  return e.peer == server && (e.kind == dsys::sim::NodeEvent::Kind::send ||
                              e.kind == dsys::sim::NodeEvent::Kind::deliver);
}

}  // namespace

TEST_CASE(
    "lab 6: a crash at every point of a flush leaves the directories well formed, and the "
    "other client goes on once the crashed one restarts",
    "[lab6][part1][part2][points:8][timeout:300]") {
  // First, uncrashed: how many messages client 1 exchanges with the extent server while the
  // other client's readdir makes it flush.
  std::uint64_t points = 0;
  {
    Cluster c(609, "lab6-flush-count", 2, false);
    const Inum dir = prepare(c);
    c.world.on_node_event(c.yfs.client(1), [&](const dsys::sim::NodeEvent& e) {
      if (extent_traffic(e, c.yfs.server())) ++points;
    });
    CHECK(c.names(2, dir) == std::set<std::string>{"fresh", "sub", "kept"});
    c.world.on_node_event(c.yfs.client(1), nullptr);
  }
  INFO("client 1's flush exchanged " << points << " messages with the extent server");
  REQUIRE(points >= 8);  // 3 new extents, 2 changed, 1 removal: a request and a reply each
  for (std::uint64_t k = 1; k <= points; ++k) {
    INFO("client 1 crashed at message " << k << " of " << points << " of its flush");
    Cluster c(609, fmt::format("lab6-flush-crash-{}", k), 2, false);
    const Inum dir = prepare(c);
    std::uint64_t seen = 0;
    const NodeId one = c.yfs.client(1);
    c.world.on_node_event(one, [&](const dsys::sim::NodeEvent& e) {
      if (extent_traffic(e, c.yfs.server()) && ++seen == k) c.world.crash(one);
    });
    auto listing = c.yfs.start(2, [dir](auto& fs) { return fs.readdir(dir); });
    const bool crashed = c.world.run_until([&] { return !c.world.is_up(one); }, 10min);
    REQUIRE(crashed);
    c.world.on_node_event(one, nullptr);
    c.world.restart(one);
    // The other client goes on: the restarted client gives back the locks it does not know.
    const bool listed = c.world.run_until([&] { return listing->has_value(); }, 10min);
    REQUIRE(listed);
    REQUIRE(**listing);
    std::set<std::string> names;
    for (const auto& e : ***listing) names.insert(e.name);
    // What was written back before the crash is there; the rest is lost, never half of it.
    CHECK(names.contains("kept"));
    CHECK(names.size() >= 2);
    for (const auto& name : names) {
      auto inum = c.yfs.run(2, [dir, name](auto& fs) { return fs.lookup(dir, name); });
      REQUIRE(inum);
      auto a = c.yfs.run(2, [i = *inum](auto& fs) { return fs.getattr(i); });
      INFO(name << " is listed: its inode must exist");
      CHECK(a);
    }
    const std::string kept =
        c.read(2, *c.yfs.run(2, [dir](auto& fs) { return fs.lookup(dir, "kept"); }));
    CHECK((kept == "kept, first" || kept == "kept, changed"));
    // And both clients work on: the restarted one makes a file the other then reads.
    const Inum after = c.create(1, dir, "after");
    c.write(1, after, "after the crash");
    CHECK(c.read(2, after) == "after the crash");
    CHECK(c.yfs.directory_problem().empty());
  }
}

TEST_CASE(
    "lab 6: a client crash loses only its own unflushed writes, and the other client goes on "
    "once it restarts",
    "[lab6][part2][points:6][timeout:120]") {
  Cluster c(610, "lab6-crash-loses", 2);
  const Inum mine = c.create(1, kRootInum, "mine");
  c.write(1, mine, "A1");
  CHECK(c.read(2, mine) == "A1");  // written back: the lock moved to client 2
  const Inum theirs = c.create(2, kRootInum, "theirs");
  c.write(2, theirs, "B1");
  // Back to client 1, in its cache only: no other client asks for a lock of client 1's (a
  // revoke would write back everything it has) before it crashes.
  c.write(1, mine, "A2");
  c.world.crash(c.yfs.client(1));
  c.world.restart(c.yfs.client(1));
  INFO("client 1 crashed holding 'mine' = A2 unwritten: that write, and only that, is lost");
  CHECK(c.read(2, mine) == "A1");
  CHECK(c.read(2, theirs) == "B1");
  CHECK(c.names(2, kRootInum) == std::set<std::string>{"mine", "theirs"});
  c.write(2, mine, "B2");
  CHECK(c.read(1, mine) == "B2");
  CHECK(c.read(1, theirs) == "B1");
}

// ------------------------------------------------------------ flushes while the node goes on

namespace {

// Makes client 1 flush (`op`, run through client 2, takes a lock client 1 has), and runs the
// world until client 1 sends the flush's first write-back to the extent server: the flush has
// taken what it will write, and its step 1 (a new extent) is on its way. Returns op's result.
template <class F>
auto flush_under_way(Cluster& c, F op) {
  bool sent = false;
  const NodeId one = c.yfs.client(1);
  c.world.on_node_event(one, [&](const dsys::sim::NodeEvent& e) {
    if (e.kind == dsys::sim::NodeEvent::Kind::send && e.peer == c.yfs.server()) sent = true;
  });
  auto result = c.yfs.start(2, std::move(op));
  const bool under_way = c.world.run_until([&] { return sent; }, 10min);
  c.world.on_node_event(one, nullptr);
  INFO("client 1 never wrote back to the extent server when client 2 took its lock");
  REQUIRE(under_way);
  return result;
}

// Runs `op` through client 1 to its end while the write-back that client 1 has just sent waits for
// its reply: the extent server's replies to client 1 are held back a second meanwhile, so the
// flush cannot go on (nor end) until `op` is done, however long `op` takes. (`op` needs no RPC:
// client 1 has its locks and extents, and the unlink of a new file takes no lock of its own.)
template <class F>
void meanwhile(Cluster& c, F op) {
  const NodeId one = c.yfs.client(1), server = c.yfs.server();
  c.world.set_link_faults(server, one, {.min_delay = 1s, .max_delay = 1s});
  bool answered = false;  // a reply of the extent server reached client 1
  c.world.on_node_event(one, [&](const dsys::sim::NodeEvent& e) {
    if (e.kind == dsys::sim::NodeEvent::Kind::deliver && e.peer == server) answered = true;
  });
  auto done = c.yfs.start(1, std::move(op));
  const bool finished = c.world.run_until([&] { return done->has_value(); }, 500ms);
  c.world.on_node_event(one, nullptr);
  c.world.set_link_faults(server, one, {});
  INFO("client 1's operations during its flush did not finish within 500 ms (they need no RPC)");
  REQUIRE(finished);
  INFO("the flush's write-back was answered before client 1's operations were done");
  REQUIRE_FALSE(answered);
  INFO("client 1's operations during its flush: " << **done);
  REQUIRE((*done)->empty());
}

}  // namespace

TEST_CASE(
    "lab 6: a flush writes what the cache held when it began: a file created meanwhile is never "
    "named on the server before its extent is there, and the next flush writes it",
    "[lab6][part1][points:3][timeout:60]") {
  Cluster c(611, "lab6-flush-snapshot", 2, false);
  auto one = c.yfs.run(1, [](auto& fs) { return fs.mkdir(kRootInum, "one"); });
  REQUIRE(one);
  auto two = c.yfs.run(1, [](auto& fs) { return fs.mkdir(kRootInum, "two"); });
  REQUIRE(two);
  const Inum f = c.create_here(1, *two, "f");
  c.write(1, f, "v0");
  c.yfs.settle();  // on the server, and every lock back there
  // Client 1 holds the locks of both directories and of f, and has changed f and one (a new
  // file, "early") in its cache only.
  c.write(1, f, "v1");
  c.create_here(1, *one, "early");
  CHECK(c.names(1, *two) == std::set<std::string>{"f"});
  // Client 2's readdir of one makes client 1 flush: "early" first (step 1), then one and f.
  auto listing = flush_under_way(c, [d = *one](auto& fs) { return fs.readdir(d); });
  // While "early" is on its way, client 1 creates "late" in two and writes f again (it holds
  // both locks). This flush must not write two, which now names "late": the server would hold
  // a directory naming an extent it does not have (checked after every event).
  meanwhile(c, [d = *two, f](auto& fs) -> Task<std::string> {
    auto late = co_await fs.create(d, "late");
    if (!late) co_return fmt::format("create late: {}", to_string(late.error()));
    auto n = co_await fs.write(f, 0, "v2");
    if (!n) co_return fmt::format("write f: {}", to_string(n.error()));
    co_return "";
  });
  c.finish(std::vector{listing});
  REQUIRE(**listing);
  std::set<std::string> names;
  for (const auto& e : ***listing) names.insert(e.name);
  CHECK(names == std::set<std::string>{"early"});
  // What changed during the flush is written by the next one (client 2 takes the locks).
  CHECK(c.read(2, f) == "v2");
  CHECK(c.names(2, *two) == std::set<std::string>{"f", "late"});
  CHECK(c.yfs.directory_problem().empty());
}

TEST_CASE(
    "lab 6: a new file unlinked while a flush is writing it leaves no extent behind on the "
    "server",
    "[lab6][part1][points:3][timeout:60]") {
  Cluster c(612, "lab6-flush-unlink", 2, false);
  auto one = c.yfs.run(1, [](auto& fs) { return fs.mkdir(kRootInum, "one"); });
  REQUIRE(one);
  auto two = c.yfs.run(1, [](auto& fs) { return fs.mkdir(kRootInum, "two"); });
  REQUIRE(two);
  c.yfs.settle();  // on the server, and every lock back there
  // Client 1 holds the locks of both directories, and creates "brief" in one: new, in its
  // cache only.
  const Inum brief = c.create_here(1, *one, "brief");
  CHECK(c.names(1, *two).empty());
  // Client 2's readdir of two makes client 1 flush: "brief" first (step 1), then one.
  auto listing = flush_under_way(c, [d = *two](auto& fs) { return fs.readdir(d); });
  // While the put of "brief" is on its way, client 1 unlinks it (it holds one's lock, and a new
  // file needs none). The put lands all the same: the server must not keep it.
  meanwhile(c, [d = *one](auto& fs) -> Task<std::string> {
    auto gone = co_await fs.unlink(d, "brief");
    if (!gone) co_return fmt::format("unlink brief: {}", to_string(gone.error()));
    co_return "";
  });
  c.finish(std::vector{listing});
  REQUIRE(**listing);
  CHECK((**listing)->empty());
  c.yfs.settle();  // everything written back
  CHECK(c.names(2, *one).empty());
  INFO("the extent server's directories: " << c.yfs.directory_problem());
  CHECK(c.yfs.directory_problem().empty());
  INFO("brief was unlinked: no directory names it, and the server must not keep its extent");
  CHECK_FALSE(c.yfs.extent_server().peek(brief));
  CHECK(c.yfs.extent_server().extents() == 3);  // the root, one and two
}

// ------------------------------------------------------------ real processes and FUSE mounts

TEST_CASE(
    "lab 6: a real yfs_client writes its cache back when it stops, and the other mount reads "
    "every file",
    "[lab6][processes][points:5][timeout:200]") {
  if (dsys::testing::skip_without_fuse()) return;
  dsys::testing::YfsCluster cluster(DSYS_APPS_DIR);
  const std::string one = cluster.mount(0);
  for (int i = 0; i < 20; ++i) {
    std::ofstream out(fmt::format("{}/file-{}", one, i));
    out << fmt::format("contents of file {}\n", i);
    out.close();
    INFO("writing file " << i << " through the first mount");
    REQUIRE(out.good());
  }
  dsys::testing::Process& client = cluster.yfs_client(0);
  client.signal(SIGTERM);
  const auto status = client.wait(90s);
  INFO("the first yfs_client's output:\n" << client.output());
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK_THAT(client.output(), Catch::Contains("yfs_client: finished"));
  for (int i = 0; i < 20; ++i) {
    std::ifstream in(fmt::format("{}/file-{}", cluster.mount(1), i));
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO("file " << i << " through the second mount");
    CHECK(text == fmt::format("contents of file {}\n", i));
  }
}
