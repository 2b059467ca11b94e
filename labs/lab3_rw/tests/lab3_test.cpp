// Lab 3's graded tests. Points and time limits are the [points:N] and [timeout:S] tags.
// Run them all with `./dsys grade lab3`, one with `./dsys grade lab3 --only "<name>"`.
//
// As lab 2's: two yfs clients (your RwClient) on one extent server, over a network that drops,
// duplicates and reorders; each test writes through one client and reads through the other, and
// after every event the directories must be well formed. The [processes] tests mount the real
// programs with FUSE.
#include <catch2/catch.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "dsys/testing/lab.hpp"
#include "dsys/testing/process.hpp"
#include "dsys/testing/yfs.hpp"
#include "dsys/testing/yfs_cluster.hpp"
#include "extent_server.hpp"
#include "rw_client.hpp"

using namespace std::chrono_literals;
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
    dsys::testing::SimYfs<dsys::lab2::ExtentServer, dsys::fs::ClientNode<dsys::lab3::RwClient>>;
#endif

namespace {

// `n` bytes of every value, the same for one `salt`.
std::string random_bytes(std::size_t n, unsigned salt) {
  std::string s(n, '\0');
  std::uint64_t x = 0x9e3779b97f4a7c15ULL * (salt + 1);
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x & 0xff);
  }
  return s;
}

// Where two byte strings first differ, for a failure message.
std::string first_difference(const std::string& got, const std::string& want) {
  if (got == want) return "they are equal";
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return fmt::format("got {} bytes, expected {}; first difference at byte {}", got.size(),
                     want.size(), i);
}

// A world with two clients and the file `name`, created through client 1 and looked up through
// client 2 (a client learns an inum from a directory, as through FUSE: a caching client relies
// on it).
struct TwoClients {
  explicit TwoClients(std::uint64_t seed, std::string label)
      : world({.seed = seed, .faults = dsys::testing::lossy_network(), .label = std::move(label)}),
        yfs(world, 2) {
    yfs.check_directories();
  }
  Inum create(const std::string& name) {
    auto inum = yfs.run(1, [name](auto& fs) { return fs.create(kRootInum, name); });
    INFO("create(root, " << name << ") through client 1");
    REQUIRE(inum);
    auto found = yfs.run(2, [name](auto& fs) { return fs.lookup(kRootInum, name); });
    INFO("lookup(root, " << name << ") through client 2");
    REQUIRE(found);
    CHECK(*found == *inum);
    return *inum;
  }
  void write(int client, Inum inum, std::uint64_t offset, const std::string& data) {
    auto n = yfs.run(client, [=](auto& fs) { return fs.write(inum, offset, data); });
    INFO("write of " << data.size() << " bytes at " << offset << " through client " << client
                     << ": " << (n ? "ok" : std::string(to_string(n.error()))));
    REQUIRE(n);
    CHECK(*n == data.size());
  }
  // The whole file, read through `client` (asking for more than it holds).
  std::string read_all(int client, Inum inum) {
    auto data = yfs.run(client, [=](auto& fs) { return fs.read(inum, 0, 16u << 20); });
    INFO("read through client " << client << ": "
                                << (data ? "ok" : std::string(to_string(data.error()))));
    REQUIRE(data);
    return *data;
  }
  std::uint64_t size(int client, Inum inum) {
    auto a = yfs.run(client, [=](auto& fs) { return fs.getattr(inum); });
    REQUIRE(a);
    return a->size;
  }
  TestWorld world;
  Yfs yfs;
};

}  // namespace

TEST_CASE("lab 3: writes of 600 B and 4111 B read back byte for byte through the other client",
          "[lab3][points:20][timeout:60]") {
  TwoClients t(301, "lab3-write");
  for (std::size_t n : {std::size_t{600}, std::size_t{4111}}) {
    INFO(n << " bytes");
    const Inum inum = t.create(fmt::format("file-{}", n));
    const std::string data = random_bytes(n, static_cast<unsigned>(n));
    t.write(1, inum, 0, data);
    const std::string back = t.read_all(2, inum);
    INFO(first_difference(back, data));
    CHECK(back == data);
    CHECK(t.size(2, inum) == n);
    // And a read of a middle part.
    auto part = t.yfs.run(2, [=](auto& fs) { return fs.read(inum, 100, 200); });
    REQUIRE(part);
    CHECK(*part == data.substr(100, 200));
  }
}

TEST_CASE("lab 3: truncate and rewrite to 275 B", "[lab3][points:10][timeout:60]") {
  TwoClients t(302, "lab3-rewrite");
  const Inum inum = t.create("f");
  t.write(1, inum, 0, random_bytes(4000, 1));
  // What `echo ... > f` does to an existing file: truncate to 0, then write.
  auto truncated = t.yfs.run(2, [=](auto& fs) { return fs.setattr(inum, 0); });
  REQUIRE(truncated);
  CHECK(truncated->size == 0);
  const std::string data = random_bytes(275, 2);
  t.write(2, inum, 0, data);
  const std::string back = t.read_all(1, inum);
  INFO(first_difference(back, data));
  CHECK(back == data);
  CHECK(t.size(1, inum) == 275);
}

TEST_CASE("lab 3: 8192 B, then an append of 7007 B through the other client, lands at the true end",
          "[lab3][points:10][timeout:60]") {
  TwoClients t(303, "lab3-append");
  const Inum inum = t.create("log");
  const std::string first = random_bytes(8192, 3);
  const std::string second = random_bytes(7007, 4);
  t.write(1, inum, 0, first);
  t.write(2, inum, dsys::fs::kAtEnd, second);  // O_APPEND: wherever the end is now
  const std::string back = t.read_all(1, inum);
  INFO(first_difference(back, first + second));
  CHECK(back == first + second);
  CHECK(t.size(2, inum) == 15199);
}

TEST_CASE("lab 3: a write at offset 190 of an existing file changes only those bytes",
          "[lab3][points:10][timeout:60]") {
  TwoClients t(304, "lab3-offset");
  const Inum inum = t.create("f");
  std::string data = random_bytes(1000, 5);
  t.write(1, inum, 0, data);
  const std::string patch = random_bytes(50, 6);
  t.write(2, inum, 190, patch);
  data.replace(190, 50, patch);
  const std::string back = t.read_all(1, inum);
  INFO(first_difference(back, data));
  CHECK(back == data);
  // A write that starts inside the file and runs past its end extends it.
  const std::string tail = random_bytes(100, 7);
  t.write(1, inum, 950, tail);
  data.resize(950);
  data += tail;
  const std::string back2 = t.read_all(2, inum);
  INFO(first_difference(back2, data));
  CHECK(back2 == data);
  CHECK(t.size(2, inum) == 1050);
}

TEST_CASE("lab 3: a write past the end leaves a hole of zeros", "[lab3][points:10][timeout:60]") {
  TwoClients t(305, "lab3-hole");
  const Inum inum = t.create("sparse");
  const std::string head = random_bytes(10, 8);
  const std::string far = random_bytes(30, 9);
  t.write(1, inum, 0, head);
  t.write(2, inum, 5000, far);
  const std::string expected = head + std::string(5000 - 10, '\0') + far;
  const std::string back = t.read_all(1, inum);
  INFO(first_difference(back, expected));
  CHECK(back == expected);
  CHECK(t.size(1, inum) == 5030);
  // A write to a new, empty file at an offset: zeros before it too.
  const Inum other = t.create("late");
  t.write(2, other, 4096, "x");
  CHECK(t.read_all(1, other) == std::string(4096, '\0') + "x");
}

TEST_CASE("lab 3: truncate extends with zeros and shrinks", "[lab3][points:10][timeout:60]") {
  TwoClients t(306, "lab3-truncate");
  const Inum inum = t.create("f");
  const std::string data = random_bytes(300, 10);
  t.write(1, inum, 0, data);
  auto longer = t.yfs.run(2, [=](auto& fs) { return fs.setattr(inum, 1000); });
  REQUIRE(longer);
  CHECK(longer->size == 1000);
  CHECK(t.read_all(1, inum) == data + std::string(700, '\0'));
  auto shorter = t.yfs.run(1, [=](auto& fs) { return fs.setattr(inum, 120); });
  REQUIRE(shorter);
  CHECK(shorter->size == 120);
  CHECK(t.read_all(2, inum) == data.substr(0, 120));
  CHECK(t.size(2, inum) == 120);
  // Growing again after a shrink: the dropped bytes do not come back.
  REQUIRE(t.yfs.run(2, [=](auto& fs) { return fs.setattr(inum, 200); }));
  CHECK(t.read_all(1, inum) == data.substr(0, 120) + std::string(80, '\0'));
}

TEST_CASE("lab 3: reads at and past the end are short or empty, not errors",
          "[lab3][points:5][timeout:60]") {
  TwoClients t(307, "lab3-eof");
  const Inum inum = t.create("f");
  const std::string data = random_bytes(100, 11);
  t.write(1, inum, 0, data);
  auto tail = t.yfs.run(2, [=](auto& fs) { return fs.read(inum, 90, 50); });
  REQUIRE(tail);
  CHECK(*tail == data.substr(90));
  auto at_end = t.yfs.run(2, [=](auto& fs) { return fs.read(inum, 100, 50); });
  REQUIRE(at_end);
  CHECK(at_end->empty());
  auto past_end = t.yfs.run(2, [=](auto& fs) { return fs.read(inum, 5000, 50); });
  REQUIRE(past_end);
  CHECK(past_end->empty());
  auto empty_file = t.create("empty");
  auto nothing = t.yfs.run(1, [=](auto& fs) { return fs.read(empty_file, 0, 4096); });
  REQUIRE(nothing);
  CHECK(nothing->empty());
}

TEST_CASE(
    "lab 3: sizes past 8 MiB, overflowing offsets and directories are refused, and "
    "nothing changes",
    "[lab3][points:10][timeout:120]") {
  TwoClients t(308, "lab3-limits");
  const Inum inum = t.create("f");
  t.write(1, inum, 0, "keep");
  const auto max = dsys::fs::kMaxFileSize;
  auto too_far = t.yfs.run(1, [=](auto& fs) { return fs.write(inum, max, "x"); });
  REQUIRE_FALSE(too_far);
  CHECK(too_far.error() == Error::file_too_big);
  // An offset whose end overflows 64 bits.
  auto overflow =
      t.yfs.run(1, [=](auto& fs) { return fs.write(inum, ~std::uint64_t{0} - 2, "xyz"); });
  REQUIRE_FALSE(overflow);
  CHECK(overflow.error() == Error::file_too_big);
  auto too_long = t.yfs.run(2, [=](auto& fs) { return fs.setattr(inum, max + 1); });
  REQUIRE_FALSE(too_long);
  CHECK(too_long.error() == Error::file_too_big);
  CHECK(t.read_all(2, inum) == "keep");
  // Exactly the largest size is fine.
  auto largest = t.yfs.run(2, [=](auto& fs) { return fs.setattr(inum, max); });
  REQUIRE(largest);
  CHECK(largest->size == max);
  auto last_byte = t.yfs.run(1, [=](auto& fs) { return fs.write(inum, max - 1, "z"); });
  REQUIRE(last_byte);
  auto read_last = t.yfs.run(1, [=](auto& fs) { return fs.read(inum, max - 2, 10); });
  REQUIRE(read_last);
  CHECK(*read_last == std::string("\0z", 2));
  // A directory is not a file.
  auto read_dir = t.yfs.run(1, [](auto& fs) { return fs.read(kRootInum, 0, 10); });
  REQUIRE_FALSE(read_dir);
  CHECK(read_dir.error() == Error::is_directory);
  auto write_dir = t.yfs.run(1, [](auto& fs) { return fs.write(kRootInum, 0, "x"); });
  REQUIRE_FALSE(write_dir);
  CHECK(write_dir.error() == Error::is_directory);
  auto truncate_dir = t.yfs.run(1, [](auto& fs) { return fs.setattr(kRootInum, 0); });
  REQUIRE_FALSE(truncate_dir);
  CHECK(truncate_dir.error() == Error::is_directory);
  // A file that does not exist.
  auto missing = t.yfs.run(2, [](auto& fs) { return fs.read(0x80000777, 0, 10); });
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == Error::not_found);
}

TEST_CASE("lab 3: a write moves mtime forward, as the other client sees it",
          "[lab3][points:5][timeout:60]") {
  TwoClients t(309, "lab3-times");
  const Inum inum = t.create("f");
  auto before = t.yfs.run(2, [=](auto& fs) { return fs.getattr(inum); });
  REQUIRE(before);
  t.world.run_for(2s);
  t.write(1, inum, 0, "new bytes");
  auto after = t.yfs.run(2, [=](auto& fs) { return fs.getattr(inum); });
  REQUIRE(after);
  CHECK(after->mtime > before->mtime);
  CHECK(after->ctime > before->ctime);
  CHECK(after->size == 9);
}

// ------------------------------------------------------------ real processes and a FUSE mount

namespace {

void run_yfs_tester(unsigned lossy) {
  dsys::testing::check_yfs_tester(DSYS_APPS_DIR, "lab3", lossy);
}

}  // namespace

TEST_CASE("lab 3: two real yfs_client mounts pass yfs_tester (reads, writes, appends, a 5 MB copy)",
          "[lab3][processes][points:5][timeout:200]") {
  run_yfs_tester(0);
}

TEST_CASE("lab 3: two real yfs_client mounts pass yfs_tester with a lossy lock server",
          "[lab3][processes][points:5][timeout:200]") {
  run_yfs_tester(5);
}
