// Lab 4's graded tests. Points and time limits are the [points:N] and [timeout:S] tags.
// Run them all with `./dsys grade lab4`, one with `./dsys grade lab4 --only "<name>"`.
//
// Two to four yfs clients (each your LockingFs around your DirClient, locking through your lab 1
// lock server) share one extent server, over a network that drops, duplicates and reorders.
// Most tests run operations of several clients at once; after every event the directories, as
// the extent server holds them, must be well formed: no name listed twice, every listed inode's
// extent there. The [processes] tests run the real programs and two FUSE mounts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dsys/testing/lab.hpp"
#include "dsys/testing/linearizability.hpp"
#include "dsys/testing/process.hpp"
#include "dsys/testing/yfs.hpp"
#include "dsys/testing/yfs_cluster.hpp"
#include "extent_server.hpp"
#include "lab4_node.hpp"
#include "lock_server.hpp"

using namespace std::chrono_literals;
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
    dsys::testing::SimYfs<dsys::lab2::ExtentServer, dsys::lab4::Node, dsys::lab1::LockServer>;
#endif

namespace {

// A world of `clients` lab 4 clients over a lossy network, checking the directories throughout.
struct Cluster {
  Cluster(std::uint64_t seed, std::string label, int clients)
      : world({.seed = seed, .faults = dsys::testing::lossy_network(), .label = std::move(label)}),
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
    INFO("the clients' operations did not all finish in " << limit / 1min
                                                          << " min of simulated time (a lock never "
                                                             "released? two clients waiting for "
                                                             "each other?)");
    REQUIRE(done);
  }
  // Every client looks `name` up in `dir` and finds `inum`: how a client learns an inum made by
  // another (as through FUSE), before the test uses it there (a caching client relies on it).
  void learn(Inum dir, const std::string& name, Inum inum) {
    for (int client = 1; client <= yfs.clients(); ++client) {
      auto found = yfs.run(client, [dir, name](auto& fs) { return fs.lookup(dir, name); });
      INFO("lookup of " << name << " through client " << client);
      REQUIRE(found);
      CHECK(*found == inum);
    }
  }
  std::vector<dsys::fs::DirEntry> list(int client, Inum dir) {
    auto entries = yfs.run(client, [dir](auto& fs) { return fs.readdir(dir); });
    INFO("readdir through client " << client);
    REQUIRE(entries);
    return *entries;
  }
  TestWorld world;
  Yfs yfs;
};

std::set<std::string> names_of(const std::vector<dsys::fs::DirEntry>& entries) {
  std::set<std::string> names;
  for (const auto& e : entries) names.insert(e.name);
  return names;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("lab 4: mkdir makes a directory that both clients can fill, and unlink removes files",
          "[lab4][part1][points:10][timeout:60]") {
  Cluster c(401, "lab4-mkdir", 2);
  auto dir = c.yfs.run(1, [](auto& fs) { return fs.mkdir(kRootInum, "d"); });
  INFO("mkdir(root, d) through client 1");
  REQUIRE(dir);
  CHECK(dsys::fs::is_directory(*dir));
  CHECK(*dir != kRootInum);
  auto found = c.yfs.run(2, [](auto& fs) { return fs.lookup(kRootInum, "d"); });
  REQUIRE(found);
  CHECK(*found == *dir);
  auto attr = c.yfs.run(2, [d = *dir](auto& fs) { return fs.getattr(d); });
  REQUIRE(attr);
  CHECK(attr->directory());
  CHECK(c.list(2, *dir).empty());
  auto f = c.yfs.run(2, [d = *dir](auto& fs) { return fs.create(d, "f"); });
  REQUIRE(f);
  auto sub = c.yfs.run(1, [d = *dir](auto& fs) { return fs.mkdir(d, "sub"); });
  REQUIRE(sub);
  CHECK(names_of(c.list(1, *dir)) == std::set<std::string>{"f", "sub"});
  // The same name twice, bad names, a file as the parent.
  auto again = c.yfs.run(2, [](auto& fs) { return fs.mkdir(kRootInum, "d"); });
  REQUIRE_FALSE(again);
  CHECK(again.error() == Error::exists);
  auto bad = c.yfs.run(2, [](auto& fs) { return fs.mkdir(kRootInum, "a/b"); });
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == Error::invalid_name);
  auto in_file = c.yfs.run(1, [i = *f](auto& fs) { return fs.mkdir(i, "x"); });
  REQUIRE_FALSE(in_file);
  CHECK(in_file.error() == Error::not_directory);
  // unlink: the entry goes, and so does the file's extent.
  auto removed = c.yfs.run(1, [d = *dir](auto& fs) { return fs.unlink(d, "f"); });
  REQUIRE(removed);
  CHECK(names_of(c.list(2, *dir)) == std::set<std::string>{"sub"});
  c.yfs.settle();  // (a caching client writes everything back)
  CHECK_FALSE(c.yfs.extent_server().peek(*f));
  // A directory is not removed by unlink (yfs has no rmdir); a missing name is not_found.
  auto not_a_file = c.yfs.run(2, [d = *dir](auto& fs) { return fs.unlink(d, "sub"); });
  REQUIRE_FALSE(not_a_file);
  CHECK(not_a_file.error() == Error::is_directory);
  auto missing = c.yfs.run(2, [d = *dir](auto& fs) { return fs.unlink(d, "nothing"); });
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == Error::not_found);
}

TEST_CASE(
    "lab 4: concurrent creates of distinct names in one directory lose nothing (20 + 20, "
    "then 4 x 10)",
    "[lab4][part2][points:15][timeout:120]") {
  Cluster c(402, "lab4-concurrent-creates", 4);
  std::vector<std::shared_ptr<std::optional<std::vector<std::string>>>> results;
  // Each client creates its names one after the other; the clients run at once.
  auto creator = [](int client, int count, std::string prefix) {
    return [=](auto& fs) -> Task<std::vector<std::string>> {
      std::vector<std::string> errors;
      for (int i = 0; i < count; ++i) {
        auto r = co_await fs.create(kRootInum, fmt::format("{}-{}-{}", prefix, client, i));
        if (!r)
          errors.push_back(fmt::format("client {} create {}: {}", client, i, to_string(r.error())));
      }
      co_return errors;
    };
  };
  results.push_back(c.yfs.start(1, creator(1, 20, "two")));
  results.push_back(c.yfs.start(2, creator(2, 20, "two")));
  c.finish(results);
  std::vector<std::string> errors;
  for (auto& r : results) errors.insert(errors.end(), (*r)->begin(), (*r)->end());
  INFO(join(errors));
  CHECK(errors.empty());
  auto entries = c.list(3, kRootInum);
  CHECK(entries.size() == 40);
  CHECK(names_of(entries).size() == 40);
  // Four clients at once, ten names each, in a directory of its own.
  results.clear();
  for (int client = 1; client <= 4; ++client)
    results.push_back(c.yfs.start(client, creator(client, 10, "four")));
  c.finish(results);
  errors.clear();
  for (auto& r : results) errors.insert(errors.end(), (*r)->begin(), (*r)->end());
  INFO(join(errors));
  CHECK(errors.empty());
  CHECK(c.list(1, kRootInum).size() == 80);
}

TEST_CASE(
    "lab 4: concurrent creates of the same names: exactly one of each succeeds, the others "
    "get EEXIST",
    "[lab4][part2][points:10][timeout:120]") {
  Cluster c(403, "lab4-same-names", 3);
  std::vector<std::shared_ptr<std::optional<std::map<std::string, std::string>>>> results;
  for (int client = 1; client <= 3; ++client) {
    results.push_back(c.yfs.start(client, [](auto& fs) -> Task<std::map<std::string, std::string>> {
      std::map<std::string, std::string> outcome;  // name -> "ok", "exists" or another error
      for (int i = 0; i < 15; ++i) {
        const std::string name = fmt::format("same-{}", i);
        auto r = co_await fs.create(kRootInum, name);
        outcome[name] = r ? "ok" : std::string(to_string(r.error()));
      }
      co_return outcome;
    }));
  }
  c.finish(results);
  for (int i = 0; i < 15; ++i) {
    const std::string name = fmt::format("same-{}", i);
    int created = 0;
    std::vector<std::string> others;
    for (auto& r : results) {
      const std::string& got = (*r)->at(name);
      if (got == "ok") {
        ++created;
      } else {
        others.push_back(got);
      }
    }
    INFO(name << ": created by " << created << " clients; the others got " << join(others));
    CHECK(created == 1);
    CHECK(std::all_of(others.begin(), others.end(), [](auto& e) { return e == "exists"; }));
  }
  CHECK(c.list(2, kRootInum).size() == 15);
}

TEST_CASE("lab 4: one client creates while another deletes",
          "[lab4][part2][points:10][timeout:120]") {
  Cluster c(404, "lab4-create-delete", 2);
  for (int i = 0; i < 5; ++i) {
    REQUIRE(
        c.yfs.run(1, [i](auto& fs) { return fs.create(kRootInum, fmt::format("keep-{}", i)); }));
  }
  using Errors = std::vector<std::string>;
  std::vector<std::shared_ptr<std::optional<Errors>>> results;
  // Every create and unlink of an x-i as its client saw it: checked against one directory.
  std::vector<dsys::testing::Operation> history;
  dsys::core::Context& creator = c.world.context(c.yfs.client(1));
  results.push_back(c.yfs.start(1, [&](auto& fs) -> Task<Errors> {
    Errors errors;
    for (int i = 0; i < 30; ++i) {
      const std::string name = fmt::format("x-{}", i);
      const dsys::core::Time call = creator.now();
      auto r = co_await fs.create(kRootInum, name);
      // An error other than "exists" says nothing of whether the create took effect: unknown.
      const bool known = r || r.error() == Error::exists;
      history.push_back({.client = c.yfs.client(1),
                         .key = name,
                         .action = "create",
                         .call = call,
                         .response = known ? std::optional(creator.now()) : std::nullopt,
                         .result = !known ? std::nullopt
                                   : r    ? std::optional(std::to_string(*r))
                                          : std::optional(std::string("exists"))});
      if (!r) errors.push_back(fmt::format("create x-{}: {}", i, to_string(r.error())));
    }
    co_return errors;
  }));
  dsys::core::Context& deleter = c.world.context(c.yfs.client(2));
  results.push_back(c.yfs.start(2, [&](auto& fs) -> Task<Errors> {
    Errors errors;
    // Delete each x-i as soon as it exists (it may not yet: the other client is creating).
    for (int i = 0; i < 30; ++i) {
      const std::string name = fmt::format("x-{}", i);
      for (int attempt = 0;; ++attempt) {
        const dsys::core::Time call = deleter.now();
        auto r = co_await fs.unlink(kRootInum, name);
        // As for create: an error other than "not found" leaves the outcome unknown.
        const bool known = r || r.error() == Error::not_found;
        history.push_back({.client = c.yfs.client(2),
                           .key = name,
                           .action = "unlink",
                           .call = call,
                           .response = known ? std::optional(deleter.now()) : std::nullopt,
                           .result = !known ? std::nullopt
                                     : r    ? std::optional(std::string("ok"))
                                            : std::optional(std::string("noent"))});
        if (r) break;
        if (r.error() != Error::not_found || attempt == 2000) {
          errors.push_back(fmt::format("unlink x-{}: {}", i, to_string(r.error())));
          break;
        }
        co_await deleter.sleep_for(5ms);
      }
    }
    co_return errors;
  }));
  c.finish(results);
  // The two clients' creates and unlinks are what one directory gives, in some order that
  // respects real time. Checked before any assertion, so that the counterexample, if any, is
  // drawn in the diagram the first failure writes.
  const auto checked = dsys::testing::check_linearizable(dsys::testing::namespace_model(), history);
  dsys::testing::add_to_diagram(checked, c.world.trace());
  Errors errors;
  for (auto& r : results) errors.insert(errors.end(), (*r)->begin(), (*r)->end());
  INFO(join(errors));
  CHECK(errors.empty());
  INFO(checked.explain());
  CHECK(checked.linearizable);
  CHECK(names_of(c.list(1, kRootInum)) ==
        std::set<std::string>{"keep-0", "keep-1", "keep-2", "keep-3", "keep-4"});
  // Every deleted file's extent is gone: the root, the five kept files, nothing else.
  c.yfs.settle();
  CHECK(c.yfs.extent_server().extents() == 6);
}

TEST_CASE(
    "lab 4: each of two clients creates 100 files and deletes 99 in its own directory, at "
    "once",
    "[lab4][part2][points:15][timeout:180]") {
  Cluster c(405, "lab4-100-99", 2);
  using Outcome = std::vector<std::string>;  // errors
  std::vector<std::shared_ptr<std::optional<Outcome>>> results;
  for (int client = 1; client <= 2; ++client) {
    results.push_back(c.yfs.start(client, [client](auto& fs) -> Task<Outcome> {
      Outcome errors;
      // Both mkdirs change the root at once.
      auto dir = co_await fs.mkdir(kRootInum, fmt::format("dir-{}", client));
      if (!dir) {
        errors.push_back(fmt::format("mkdir dir-{}: {}", client, to_string(dir.error())));
        co_return errors;
      }
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
  c.finish(results);
  for (auto& r : results) {
    INFO(join(**r));
    CHECK((*r)->empty());
  }
  CHECK(names_of(c.list(1, kRootInum)) == std::set<std::string>{"dir-1", "dir-2"});
  for (int client = 1; client <= 2; ++client) {
    auto dir = c.yfs.run(3 - client, [client](auto& fs) {
      return fs.lookup(kRootInum, fmt::format("dir-{}", client));
    });
    REQUIRE(dir);
    INFO("dir-" << client << " through the other client");
    CHECK(names_of(c.list(3 - client, *dir)) == std::set<std::string>{"f99"});
  }
  // The root, two directories, two files: the 198 deleted files' extents are freed.
  c.yfs.settle();
  CHECK(c.yfs.extent_server().extents() == 5);
}

TEST_CASE("lab 4: a deleted file can be neither read nor removed again",
          "[lab4][part1][points:5][timeout:60]") {
  Cluster c(406, "lab4-deleted", 2);
  auto f = c.yfs.run(1, [](auto& fs) { return fs.create(kRootInum, "doomed"); });
  REQUIRE(f);
  REQUIRE(c.yfs.run(1, [i = *f](auto& fs) { return fs.write(i, 0, "contents"); }));
  REQUIRE(c.yfs.run(2, [](auto& fs) { return fs.unlink(kRootInum, "doomed"); }));
  for (int client = 1; client <= 2; ++client) {
    INFO("through client " << client);
    auto lookup = c.yfs.run(client, [](auto& fs) { return fs.lookup(kRootInum, "doomed"); });
    REQUIRE_FALSE(lookup);
    CHECK(lookup.error() == Error::not_found);
    auto read = c.yfs.run(client, [i = *f](auto& fs) { return fs.read(i, 0, 100); });
    REQUIRE_FALSE(read);
    CHECK(read.error() == Error::not_found);
    auto attr = c.yfs.run(client, [i = *f](auto& fs) { return fs.getattr(i); });
    REQUIRE_FALSE(attr);
    CHECK(attr.error() == Error::not_found);
    auto again = c.yfs.run(client, [](auto& fs) { return fs.unlink(kRootInum, "doomed"); });
    REQUIRE_FALSE(again);
    CHECK(again.error() == Error::not_found);
  }
}

TEST_CASE("lab 4: appends from three clients to one file interleave whole writes, nothing lost",
          "[lab4][part2][points:10][timeout:120]") {
  Cluster c(407, "lab4-append", 3);
  auto f = c.yfs.run(1, [](auto& fs) { return fs.create(kRootInum, "log"); });
  REQUIRE(f);
  const Inum inum = *f;
  c.learn(kRootInum, "log", inum);
  std::vector<std::shared_ptr<std::optional<int>>> results;
  for (int client = 1; client <= 3; ++client) {
    const std::string record(3, static_cast<char>('a' + client - 1));  // "aaa", "bbb", "ccc"
    results.push_back(c.yfs.start(client, [inum, record](auto& fs) -> Task<int> {
      int failures = 0;
      for (int i = 0; i < 10; ++i) {
        if (!co_await fs.write(inum, dsys::fs::kAtEnd, record)) ++failures;
      }
      co_return failures;
    }));
  }
  c.finish(results);
  for (auto& r : results) CHECK(**r == 0);
  auto data = c.yfs.run(2, [inum](auto& fs) { return fs.read(inum, 0, 1000); });
  REQUIRE(data);
  INFO("the file: " << *data);
  REQUIRE(data->size() == 90);
  std::map<std::string, int> records;
  for (std::size_t at = 0; at < data->size(); at += 3) ++records[data->substr(at, 3)];
  CHECK(records == std::map<std::string, int>{{"aaa", 10}, {"bbb", 10}, {"ccc", 10}});
}

TEST_CASE("lab 4: a 20000-byte write is seen whole by the other client, never half",
          "[lab4][part2][points:5][timeout:120]") {
  Cluster c(408, "lab4-whole", 2);
  auto f = c.yfs.run(1, [](auto& fs) { return fs.create(kRootInum, "big"); });
  REQUIRE(f);
  const Inum inum = *f;
  c.learn(kRootInum, "big", inum);
  auto writer = c.yfs.start(1, [inum](auto& fs) -> Task<int> {
    int failures = 0;
    for (int i = 0; i < 10; ++i) {
      if (!co_await fs.write(inum, 0, std::string(20000, static_cast<char>('A' + i)))) ++failures;
    }
    co_return failures;
  });
  auto reader = c.yfs.start(2, [inum](auto& fs) -> Task<std::vector<std::string>> {
    std::vector<std::string> problems;
    for (int i = 0; i < 40; ++i) {
      auto data = co_await fs.read(inum, 0, 30000);
      if (!data) {
        problems.push_back(fmt::format("read: {}", to_string(data.error())));
        continue;
      }
      if (data->empty()) continue;  // before the first write
      const bool whole =
          data->size() == 20000 && data->find_first_not_of((*data)[0]) == std::string::npos;
      if (!whole)
        problems.push_back(fmt::format("read {} bytes, not all '{}'", data->size(), (*data)[0]));
    }
    co_return problems;
  });
  c.world.run_until([&] { return writer->has_value() && reader->has_value(); }, 30min);
  REQUIRE(writer->has_value());
  REQUIRE(reader->has_value());
  CHECK(**writer == 0);
  INFO(join(**reader));
  CHECK((*reader)->empty());
  auto last = c.yfs.run(2, [inum](auto& fs) { return fs.read(inum, 0, 30000); });
  REQUIRE(last);
  CHECK(*last == std::string(20000, 'J'));
}

TEST_CASE("lab 4: creating and removing an entry moves the directory's mtime and ctime forward",
          "[lab4][part1][points:5][timeout:60]") {
  Cluster c(409, "lab4-times", 2);
  auto dir = c.yfs.run(1, [](auto& fs) { return fs.mkdir(kRootInum, "d"); });
  REQUIRE(dir);
  c.learn(kRootInum, "d", *dir);
  auto times = [&](int client) {
    auto a = c.yfs.run(client, [d = *dir](auto& fs) { return fs.getattr(d); });
    REQUIRE(a);
    return *a;
  };
  const auto t0 = times(2);
  c.world.run_for(2s);
  REQUIRE(c.yfs.run(1, [d = *dir](auto& fs) { return fs.create(d, "f"); }));
  const auto t1 = times(2);
  CHECK(t1.mtime > t0.mtime);
  CHECK(t1.ctime > t0.ctime);
  c.world.run_for(2s);
  REQUIRE(c.yfs.run(2, [d = *dir](auto& fs) { return fs.unlink(d, "f"); }));
  const auto t2 = times(1);
  CHECK(t2.mtime > t1.mtime);
  CHECK(t2.ctime > t1.ctime);
}

#ifndef DSYS_RERUN_NODE  // (cached locks need no lock server)
TEST_CASE("lab 4: with the lock server down, changes fail with EIO and change nothing",
          "[lab4][part2][points:5][timeout:120]") {
  TestWorld world({.seed = 410, .label = "lab4-lock-down"});
  Yfs yfs(world, 1);
  yfs.check_directories();
  REQUIRE(yfs.run(1, [](auto& fs) { return fs.create(kRootInum, "before"); }));
  world.crash(yfs.lock_server());
  // The lock client gives up after its 10 s deadline; the operation fails with io.
  auto create = yfs.run(
      1, [](auto& fs) { return fs.create(kRootInum, "after"); }, 2min);
  REQUIRE_FALSE(create);
  CHECK(create.error() == Error::io);
  auto unlink = yfs.run(
      1, [](auto& fs) { return fs.unlink(kRootInum, "before"); }, 2min);
  REQUIRE_FALSE(unlink);
  CHECK(unlink.error() == Error::io);
  // Reads take no lock: they still work, and nothing changed.
  auto entries = yfs.run(1, [](auto& fs) { return fs.readdir(kRootInum); });
  REQUIRE(entries);
  CHECK(names_of(*entries) == std::set<std::string>{"before"});
}
#endif  // DSYS_RERUN_NODE

// ------------------------------------------------------------ real processes and FUSE mounts

namespace {

void run_yfs_tester(unsigned lossy) {
  dsys::testing::check_yfs_tester(DSYS_APPS_DIR, "lab4", lossy);
}

}  // namespace

TEST_CASE("lab 4: two real mounts pass yfs_tester's concurrent creates and deletes",
          "[lab4][processes][points:5][timeout:200]") {
  run_yfs_tester(0);
}

TEST_CASE(
    "lab 4: two real mounts pass yfs_tester's concurrent creates and deletes with a lossy "
    "lock server",
    "[lab4][processes][points:5][timeout:200]") {
  run_yfs_tester(5);
}
