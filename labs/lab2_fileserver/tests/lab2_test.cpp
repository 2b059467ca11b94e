// Lab 2's graded tests. Points and time limits are the [points:N] and [timeout:S] tags.
// Run them all with `./dsys grade lab2`, one with `./dsys grade lab2 --only "<name>"`.
//
// The simulated tests run two or three yfs clients on one extent server over a network that drops,
// duplicates and reorders messages; after every event they check that the directories, as the
// extent server holds them, are well formed (SimYfs::check_directories). The [processes] tests
// start the real programs and mount them with FUSE.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <csignal>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dsys/extent/client.hpp"
#include "dsys/testing/lab.hpp"
#include "dsys/testing/process.hpp"
#include "dsys/testing/yfs.hpp"
#include "dsys/testing/yfs_cluster.hpp"
#include "extent_server.hpp"
#include "yfs_client.hpp"

using namespace std::chrono_literals;
using dsys::core::Context;
using dsys::core::Task;
using dsys::fs::Error;
using dsys::fs::Inum;
using dsys::fs::kRootInum;
using dsys::testing::TestWorld;
// A later lab may compile this file again, to run these tests over its own client (labs.json,
// "rerun"): it then defines DSYS_RERUN_NODE, a header of its own that names that client's node and
// lock server (dsys::rerun::Node, dsys::rerun::LockServer). The tests that only a client without
// a cache passes (a server down) are left out then.
#ifdef DSYS_RERUN_NODE
#include DSYS_RERUN_NODE
using Yfs =
    dsys::testing::SimYfs<dsys::lab2::ExtentServer, dsys::rerun::Node, dsys::rerun::LockServer>;
#else
using Yfs =
    dsys::testing::SimYfs<dsys::lab2::ExtentServer, dsys::fs::ClientNode<dsys::lab2::YfsClient>>;
#endif

namespace {

template <class T>
std::string show(const dsys::fs::Result<T>& r) {
  if (!r) return fmt::format("error: {}", to_string(r.error()));
  if constexpr (std::is_same_v<T, Inum>) {
    return fmt::format("inum {:#x}", *r);
  } else {
    return "ok";
  }
}

// `n` distinct names of `length` random lowercase letters.
std::vector<std::string> random_names(dsys::core::Rng& rng, int n, int length) {
  std::set<std::string> names;
  while (static_cast<int>(names.size()) < n) {
    std::string name;
    for (int i = 0; i < length; ++i) name.push_back(static_cast<char>('a' + rng.below(26)));
    names.insert(name);
  }
  std::vector<std::string> out(names.begin(), names.end());
  for (std::size_t i = out.size(); i > 1; --i) std::swap(out[i - 1], out[rng.below(i)]);
  return out;
}

// Creates (or replaces) the file `path` holding `text`; false if it could not.
bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return bool(out);
}

// How many times `name` is listed in `entries`.
long listed(const std::vector<dsys::fs::DirEntry>& entries, const std::string& name) {
  return std::count_if(entries.begin(), entries.end(),
                       [&](const auto& e) { return e.name == name; });
}

}  // namespace

// ------------------------------------------------------------ part 1: the extent server
#ifndef DSYS_RERUN_NODE  // (the extent server alone: no client in it)

TEST_CASE("lab 2: the extent server keeps bytes and attributes",
          "[lab2][part1][points:15][timeout:60]") {
  TestWorld world({.seed = 201, .faults = dsys::testing::lossy_network(), .label = "lab2-extent"});
  auto server = world.add_node("extent_server", dsys::core::make_node<dsys::lab2::ExtentServer>());
  auto client = world.add_node("client");
  std::vector<std::string> problems;
  bool finished = false;
  Context& ctx = world.context(client);
  ctx.spawn([&, to = world.address(server)]() -> Task<void> {
    dsys::extent::Client store(dsys::rpc::Endpoint::of(ctx), to);
    auto expect = [&](bool ok, std::string what) {
      if (!ok) problems.push_back(std::move(what));
    };
    // The root directory exists from the start, empty.
    auto root = co_await store.get(kRootInum);
    expect(root && root->empty(), "extent 1 (the root directory) exists and is empty at start");
    // A new extent: its bytes, its size, and times set by the put.
    const std::int64_t before = ctx.wall_time_ns();
    expect(bool(co_await store.put(42, "hello")), "put(42, \"hello\") is ok");
    auto a = co_await store.getattr(42);
    expect(a && a->size == 5, "getattr(42) after put gives size 5");
    expect(a && a->mtime >= before && a->ctime >= before && a->mtime <= ctx.wall_time_ns(),
           "put sets mtime and ctime to the server's time");
    co_await ctx.sleep_for(2s);
    auto got = co_await store.get(42);
    expect(got && *got == "hello", "get(42) gives back \"hello\"");
    auto b = co_await store.getattr(42);
    expect(b && a && b->atime > a->atime, "get sets atime (to a later time)");
    expect(b && a && b->mtime == a->mtime, "get leaves mtime alone");
    // Replacing the bytes.
    std::string big(100000, 'x');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 % 251);
    co_await ctx.sleep_for(2s);
    expect(bool(co_await store.put(42, big)), "put of 100000 bytes is ok");
    auto c = co_await store.getattr(42);
    expect(c && c->size == big.size(), "size follows the new bytes");
    expect(c && b && c->mtime > b->mtime, "a second put moves mtime forward");
    auto got_big = co_await store.get(42);
    expect(got_big && *got_big == big, "get gives back the 100000 bytes, byte for byte");
    // Times given with the bytes are kept (a client that caches extents keeps times itself).
    dsys::extent::Attributes times{.atime = 1000, .mtime = 2000, .ctime = 3000};
    expect(bool(co_await store.put(43, "t", times)), "put with attributes is ok");
    auto t = co_await store.getattr(43);
    expect(t && t->mtime == 2000 && t->ctime == 3000 && t->atime == 1000 && t->size == 1,
           "put with attributes keeps the given times (and the size of the bytes)");
    // Extents that do not exist; removing.
    auto none = co_await store.get(7777);
    expect(!none && none.error() == dsys::extent::Error::not_found,
           "get of an extent never put is not_found");
    auto none_attr = co_await store.getattr(7777);
    expect(!none_attr && none_attr.error() == dsys::extent::Error::not_found,
           "getattr of an extent never put is not_found");
    expect(bool(co_await store.remove(42)), "remove(42) is ok");
    auto gone = co_await store.get(42);
    expect(!gone && gone.error() == dsys::extent::Error::not_found, "a removed extent is gone");
    auto again = co_await store.remove(42);
    expect(!again && again.error() == dsys::extent::Error::not_found,
           "removing it again is not_found");
    // Too big: refused, and the old bytes stay.
    dsys::rpc::Client raw(dsys::rpc::Endpoint::of(ctx), to);
    auto refused = co_await raw.call<dsys::extent::Put>(
        dsys::extent::PutRequest(43, std::string(dsys::extent::kMaxExtentSize + 1, 'z')), 30s);
    expect(refused && *refused == dsys::extent::Status::too_big,
           "a put of kMaxExtentSize + 1 bytes is too_big");
    auto kept = co_await store.get(43);
    expect(kept && *kept == "t", "a refused put changes nothing");
    finished = true;
  });
  world.run_until([&] { return finished; }, 10min);
  for (const auto& p : problems) UNSCOPED_INFO("not so: " << p);
  CHECK(problems.empty());
  REQUIRE(finished);
  CHECK(world.service<dsys::lab2::ExtentServer>(server).extents() == 2);  // the root, and 43
}

TEST_CASE("lab 2: the extent server runs each put once, so a late copy never undoes a newer put",
          "[lab2][part1][points:10][timeout:60]") {
  // Every put of version i is followed by a get that must see version i: over a network that
  // duplicates and reorders, a copy of put i-1 arriving late must not run again (your lab 1
  // ReplyWindow is the extent service's duplicate filter).
  TestWorld world({.seed = 202,
                   .faults = {.drop = 0.1, .duplicate = 0.2, .reorder = 0.2},
                   .label = "lab2-once"});
  auto server = world.add_node("extent_server", dsys::core::make_node<dsys::lab2::ExtentServer>());
  auto client = world.add_node("client");
  std::vector<std::string> problems;
  int done = 0;
  Context& ctx = world.context(client);
  ctx.spawn([&, to = world.address(server)]() -> Task<void> {
    dsys::extent::Client store(dsys::rpc::Endpoint::of(ctx), to, 60s);
    for (int i = 1; i <= 150; ++i) {
      const std::string version = fmt::format("version {}", i);
      if (!co_await store.put(9, version)) {
        problems.push_back(fmt::format("put of {} failed", version));
        co_return;
      }
      auto got = co_await store.get(9);
      if (!got || *got != version) {
        problems.push_back(fmt::format("after the put of '{}', get gave '{}'", version,
                                       got ? *got : std::string("an error")));
        co_return;
      }
      ++done;
    }
  });
  world.run_until([&] { return done == 150 || !problems.empty(); }, 30min);
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
  CHECK(done == 150);
}

#endif  // DSYS_RERUN_NODE

// ------------------------------------------------------------ part 2: the yfs client

TEST_CASE(
    "lab 2: a file created through one client is found by lookup and listed by readdir "
    "exactly once, from every client",
    "[lab2][part2][points:15][timeout:60]") {
  TestWorld world({.seed = 203, .faults = dsys::testing::lossy_network(), .label = "lab2-create"});
  Yfs yfs(world, 3);
  yfs.check_directories();
  auto inum = yfs.run(1, [](auto& fs) { return fs.create(kRootInum, "hello.txt"); });
  INFO("create(root, \"hello.txt\") through client 1: " << show(inum));
  REQUIRE(inum);
  CHECK(dsys::fs::is_file(*inum));
  for (int c = 1; c <= 3; ++c) {
    INFO("through client " << c);
    auto found = yfs.run(c, [](auto& fs) { return fs.lookup(kRootInum, "hello.txt"); });
    REQUIRE(found);
    CHECK(*found == *inum);
    auto entries = yfs.run(c, [](auto& fs) { return fs.readdir(kRootInum); });
    REQUIRE(entries);
    CHECK(listed(*entries, "hello.txt") == 1);
    CHECK(entries->size() == 1);
    auto missing = yfs.run(c, [](auto& fs) { return fs.lookup(kRootInum, "hello"); });
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == Error::not_found);
  }
  // A second file, through another client, is listed beside the first.
  auto second = yfs.run(2, [](auto& fs) { return fs.create(kRootInum, "world.txt"); });
  REQUIRE(second);
  CHECK(*second != *inum);
  auto entries = yfs.run(3, [](auto& fs) { return fs.readdir(kRootInum); });
  REQUIRE(entries);
  CHECK(listed(*entries, "hello.txt") == 1);
  CHECK(listed(*entries, "world.txt") == 1);
}

TEST_CASE(
    "lab 2: 200 files with 40-letter names created through one client are each listed "
    "exactly once through another, and random checks agree",
    "[lab2][part2][points:15][timeout:120]") {
  TestWorld world({.seed = 204, .faults = dsys::testing::lossy_network(), .label = "lab2-many"});
  Yfs yfs(world, 2);
  yfs.check_directories();
  dsys::core::Rng rng(world.seed());
  const auto names = random_names(rng, 400, 40);
  const std::vector<std::string> created(names.begin(), names.begin() + 200);
  const std::vector<std::string> never(names.begin() + 200, names.end());
  std::map<std::string, Inum> inums;
  for (const auto& name : created) {
    auto inum = yfs.run(1, [name](auto& fs) { return fs.create(kRootInum, name); });
    INFO("create(root, " << name << ") through client 1: " << show(inum));
    REQUIRE(inum);
    inums[name] = *inum;
  }
  auto entries = yfs.run(2, [](auto& fs) { return fs.readdir(kRootInum); });
  REQUIRE(entries);
  CHECK(entries->size() == 200);
  for (const auto& name : created) {
    INFO(name << " in client 2's readdir");
    CHECK(listed(*entries, name) == 1);
  }
  // 100 rounds, each through a random client: a created name is found (with its inum), a name
  // never created is not, and creating a created name again is refused with EEXIST.
  for (int round = 0; round < 100; ++round) {
    const int c = 1 + static_cast<int>(rng.below(2));
    const auto& name = created[rng.below(created.size())];
    const auto& absent = never[rng.below(never.size())];
    INFO("round " << round << ", client " << c << ": " << name << " / " << absent);
    auto found = yfs.run(c, [name](auto& fs) { return fs.lookup(kRootInum, name); });
    REQUIRE(found);
    CHECK(*found == inums[name]);
    auto not_found = yfs.run(c, [absent](auto& fs) { return fs.lookup(kRootInum, absent); });
    REQUIRE_FALSE(not_found);
    CHECK(not_found.error() == Error::not_found);
    auto again = yfs.run(c, [name](auto& fs) { return fs.create(kRootInum, name); });
    REQUIRE_FALSE(again);
    CHECK(again.error() == Error::exists);
  }
  auto after = yfs.run(1, [](auto& fs) { return fs.readdir(kRootInum); });
  REQUIRE(after);
  CHECK(after->size() == 200);
}

TEST_CASE("lab 2: getattr of the root, of a new file, and of inodes that do not exist",
          "[lab2][part2][points:10][timeout:60]") {
  TestWorld world({.seed = 205, .faults = dsys::testing::lossy_network(), .label = "lab2-getattr"});
  Yfs yfs(world, 2);
  yfs.check_directories();
  auto root = yfs.run(1, [](auto& fs) { return fs.getattr(kRootInum); });
  REQUIRE(root);
  CHECK(root->inum == kRootInum);
  CHECK(root->directory());
  const std::int64_t before = world.context(yfs.client(1)).wall_time_ns();
  auto inum = yfs.run(1, [](auto& fs) { return fs.create(kRootInum, "f"); });
  REQUIRE(inum);
  // Client 2 learns the inum as a real client does, from the directory (a caching client relies
  // on it).
  auto found = yfs.run(2, [](auto& fs) { return fs.lookup(kRootInum, "f"); });
  REQUIRE(found);
  CHECK(*found == *inum);
  auto a = yfs.run(2, [i = *inum](auto& fs) { return fs.getattr(i); });
  REQUIRE(a);
  CHECK(a->inum == *inum);
  CHECK_FALSE(a->directory());
  CHECK(a->size == 0);
  CHECK(a->mtime >= before);
  CHECK(a->ctime >= before);
  // The root changed when the file was added to it: its size is no longer 0.
  auto root_after = yfs.run(2, [](auto& fs) { return fs.getattr(kRootInum); });
  REQUIRE(root_after);
  CHECK(root_after->size > 0);
  CHECK(root_after->mtime >= before);
  // Inodes that do not exist.
  auto none = yfs.run(2, [](auto& fs) { return fs.getattr(0x80001234); });
  REQUIRE_FALSE(none);
  CHECK(none.error() == Error::not_found);
  // A file is not a directory: lookup, readdir and create in it say so.
  auto in_file = yfs.run(1, [i = *inum](auto& fs) { return fs.lookup(i, "x"); });
  REQUIRE_FALSE(in_file);
  CHECK(in_file.error() == Error::not_directory);
  auto list_file = yfs.run(1, [i = *inum](auto& fs) { return fs.readdir(i); });
  REQUIRE_FALSE(list_file);
  CHECK(list_file.error() == Error::not_directory);
  auto create_in_file = yfs.run(1, [i = *inum](auto& fs) { return fs.create(i, "x"); });
  REQUIRE_FALSE(create_in_file);
  CHECK(create_in_file.error() == Error::not_directory);
}

TEST_CASE("lab 2: bad names and taken names are refused, and the directory is unchanged",
          "[lab2][part2][points:10][timeout:60]") {
  TestWorld world({.seed = 206, .faults = dsys::testing::lossy_network(), .label = "lab2-names"});
  Yfs yfs(world, 2);
  yfs.check_directories();
  REQUIRE(yfs.run(1, [](auto& fs) { return fs.create(kRootInum, "taken"); }));
  const std::vector<std::pair<std::string, Error>> bad = {
      {"", Error::invalid_name},
      {".", Error::invalid_name},
      {"..", Error::invalid_name},
      {"a/b", Error::invalid_name},
      {"/", Error::invalid_name},
      {std::string("nul\0in", 6), Error::invalid_name},
      {std::string(256, 'n'), Error::name_too_long},
      {"taken", Error::exists},
  };
  for (const auto& [name, error] : bad) {
    INFO("create(root, '" << name << "') through client 2");
    auto r = yfs.run(2, [name = name](auto& fs) { return fs.create(kRootInum, name); });
    REQUIRE_FALSE(r);
    CHECK(r.error() == error);
  }
  // The longest name allowed, and names with spaces and dots, are fine.
  for (const std::string& name : {std::string(255, 'L'), std::string("with space"),
                                  std::string(".hidden"), std::string("a.b.c")}) {
    INFO("create(root, '" << name << "')");
    auto r = yfs.run(1, [name](auto& fs) { return fs.create(kRootInum, name); });
    CHECK(r);
  }
  auto entries = yfs.run(2, [](auto& fs) { return fs.readdir(kRootInum); });
  REQUIRE(entries);
  CHECK(entries->size() == 5);
  CHECK(listed(*entries, "taken") == 1);
}

#ifndef DSYS_RERUN_NODE  // (a cache answers from memory while the server is down)
TEST_CASE("lab 2: with the extent server down, operations fail with EIO instead of hanging",
          "[lab2][part2][points:5][timeout:60]") {
  TestWorld world({.seed = 207, .label = "lab2-down"});
  Yfs yfs(world, 1);
  REQUIRE(yfs.run(1, [](auto& fs) { return fs.create(kRootInum, "before"); }));
  world.crash(yfs.server());
  // The extent client gives up after its timeout (10 s); the operation then fails with io.
  auto create = yfs.run(
      1, [](auto& fs) { return fs.create(kRootInum, "after"); }, 2min);
  REQUIRE_FALSE(create);
  CHECK(create.error() == Error::io);
  auto lookup = yfs.run(
      1, [](auto& fs) { return fs.lookup(kRootInum, "before"); }, 2min);
  REQUIRE_FALSE(lookup);
  CHECK(lookup.error() == Error::io);
  auto attr = yfs.run(
      1, [](auto& fs) { return fs.getattr(kRootInum); }, 2min);
  REQUIRE_FALSE(attr);
  CHECK(attr.error() == Error::io);
}
#endif  // DSYS_RERUN_NODE

// ------------------------------------------------------------ real processes and a FUSE mount

namespace {

// Lab 2's programs, two mounts of one file system, and the black-box tester through them.
void run_yfs_tester(unsigned lossy) {
  dsys::testing::check_yfs_tester(
      DSYS_APPS_DIR, "lab2", lossy, [](dsys::testing::YfsCluster& cluster) {
        // Garbage on the extent server's port first: it must close that connection and keep
        // serving.
        std::string garbage;
        for (int i = 0; i < 5000; ++i) garbage.push_back(static_cast<char>((i * 7919 + 17) % 251));
        const auto port = dsys::core::Address::parse(std::to_string(cluster.extent_port()));
        CHECK(dsys::testing::send_raw(*port, garbage));
      });
}

}  // namespace

TEST_CASE("lab 2: two real yfs_client mounts pass yfs_tester",
          "[lab2][processes][points:5][timeout:200]") {
  run_yfs_tester(0);
}

TEST_CASE("lab 2: two real yfs_client mounts pass yfs_tester with a lossy lock server",
          "[lab2][processes][points:5][timeout:200]") {
  run_yfs_tester(5);
}

TEST_CASE("lab 2: yfs_client refuses a missing, a non-empty and a busy mount point",
          "[lab2][processes][points:5][timeout:120]") {
  if (dsys::testing::skip_without_fuse()) return;
  dsys::testing::YfsCluster cluster(DSYS_APPS_DIR, {.mounts = 1});
  const std::string program = DSYS_APPS_DIR "/yfs_client";
  const std::string port = std::to_string(cluster.extent_port());
  const std::string dir = cluster.directory();
  auto refused = [&](const std::string& mountpoint, const std::string& says) {
    dsys::testing::Process client({program, mountpoint, port, port});
    auto status = client.wait(30s);
    INFO("yfs_client " << mountpoint << ":\n" << client.output());
    REQUIRE(status);
    CHECK(*status == 1);
    CHECK_THAT(client.output(), Catch::Contains(says));
  };
  refused(dir + "/does-not-exist", "No such file or directory");
  REQUIRE(::mkdir((dir + "/full").c_str(), 0755) == 0);
  REQUIRE(write_file(dir + "/full/x", "x"));
  refused(dir + "/full", "not empty");
  refused(cluster.mount(0), "busy");
  dsys::testing::Process bad_port({program, dir, "eighty", port});
  auto status = bad_port.wait(30s);
  REQUIRE(status);
  CHECK(*status == 2);
  CHECK_THAT(bad_port.output(), Catch::Contains("not a port number"));
  // The first mount still works.
  CHECK(write_file(cluster.mount(0) + "/still-here", ""));
}

#ifndef DSYS_RERUN_NODE  // (as above)
TEST_CASE("lab 2: with the extent server killed, a real mount answers EIO instead of hanging",
          "[lab2][processes][points:5][timeout:120]") {
  if (dsys::testing::skip_without_fuse()) return;
  dsys::testing::YfsCluster cluster(DSYS_APPS_DIR, {.mounts = 1});
  const std::string file = cluster.mount(0) + "/made-before";
  REQUIRE(write_file(file, ""));
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  cluster.extent_server().signal(SIGKILL);
  REQUIRE(cluster.extent_server().wait(30s));
  // The kernel asks the yfs client, whose extent calls fail (at once, or after their 10 s
  // timeout): every answer is an error, EIO, never a hang and never a stale success.
  errno = 0;
  CHECK(::stat(file.c_str(), &st) == -1);
  CHECK(errno == EIO);
  errno = 0;
  CHECK(::open((cluster.mount(0) + "/made-after").c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644) ==
        -1);
  CHECK(errno == EIO);
  // The client itself is still there, serving.
  cluster.report_if_dead();
  CHECK_FALSE(cluster.yfs_client(0).wait(std::chrono::milliseconds(0)));
}
#endif  // DSYS_RERUN_NODE
