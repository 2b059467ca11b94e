// Durable storage: the simulated disk's sync, the DurableLog and its recovery from torn and
// corrupt tails, the real world's FileStorage.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "dsys/core/durable_log.hpp"
#include "dsys/core/error.hpp"
#include "dsys/core/rng.hpp"
#include "dsys/net/file_storage.hpp"
#include "dsys/sim/world.hpp"

using dsys::core::DurableLog;
using dsys::sim::MemoryDisk;
using dsys::sim::UnsyncedWrites;

namespace {

// A record whose bytes say which one it is, of a length that varies with it.
std::string record(std::size_t i) {
  return fmt::format("record {} {}", i, std::string(i % 37, static_cast<char>('a' + i % 26)));
}

// A fresh directory for one test, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dsys-storage-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string file_contents(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs `body` in a forked child whose files may not grow past `limit` bytes (writes past it fail
// with EFBIG instead of killing it); returns the child's exit status.
template <class F>
int in_child_with_file_limit(rlim_t limit, F body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{limit, limit};
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(90);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("a sync of the simulated disk costs what was written since the last sync", "[storage]") {
  MemoryDisk disk;
  disk.write("big", std::string(1 << 20, 'x'));
  disk.sync();
  const auto after_big = disk.synced_bytes();
  CHECK(after_big == 1u << 20);
  // A hundred small appends, each synced: the megabyte is not copied again.
  for (int i = 0; i < 100; ++i) {
    disk.append("log", "0123456789");
    disk.sync();
  }
  CHECK(disk.synced_bytes() - after_big == 1000);
  CHECK(disk.read("log")->size() == 1000);
  CHECK(disk.read_durable("log")->size() == 1000);
  CHECK(disk.read("big")->size() == 1u << 20);
}

TEST_CASE("an append survives a crash only after a sync, and reads back at once", "[storage]") {
  dsys::core::Rng rng(1);
  MemoryDisk disk;
  disk.append("k", "ab");
  disk.sync();
  disk.append("k", "cd");
  CHECK(disk.read("k") == "abcd");
  CHECK(disk.read_durable("k") == "ab");
  disk.crash(UnsyncedWrites::lost, rng);
  CHECK(disk.read("k") == "ab");
  disk.append("k", "ef");
  disk.crash(UnsyncedWrites::kept, rng);
  CHECK(disk.read("k") == "abef");
}

TEST_CASE("a durable log reads back its records, its base and its truncations after a restart",
          "[storage]") {
  MemoryDisk disk;
  {
    DurableLog log(disk, "log");
    CHECK(log.empty());
    for (std::size_t i = 0; i < 10; ++i) log.append(record(i));
    log.sync();
  }
  {
    DurableLog log(disk, "log");
    REQUIRE(log.size() == 10);
    for (std::size_t i = 0; i < 10; ++i) CHECK(log[i] == record(i));
    CHECK(log.dropped_bytes() == 0);
    log.truncate_prefix(3);  // records 3..9 are left, numbered from 3
    log.truncate_suffix(5);  // records 3..7
    log.append(record(100));
    log.append("");  // an empty record is a record
    log.sync();
    CHECK_THROWS_AS(log.truncate_prefix(8), dsys::UsageError);
    CHECK_THROWS_AS(log.truncate_suffix(8), dsys::UsageError);
  }
  DurableLog log(disk, "log");
  CHECK(log.base() == 3);
  REQUIRE(log.size() == 7);
  for (std::size_t i = 0; i < 5; ++i) CHECK(log[i] == record(i + 3));
  CHECK(log[5] == record(100));
  CHECK(log[6].empty());
}

TEST_CASE("a crash in the middle of a sync tears the log's tail, and the reader drops only that",
          "[storage]") {
  int torn_tails = 0;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    dsys::core::Rng rng(seed);
    MemoryDisk disk;
    std::vector<std::string> appended;  // every record ever appended, by absolute position
    std::size_t synced = 0;             // records appended before the last sync
    for (int round = 0; round < 3; ++round) {
      std::size_t dropped = 0;
      std::vector<std::string> lines;
      DurableLog log(disk, "log", [&](std::string_view line) { lines.emplace_back(line); });
      // What came back is the synced records, then perhaps some more, each exactly as appended.
      REQUIRE(log.size() >= synced);
      REQUIRE(log.size() <= appended.size());
      for (std::size_t i = 0; i < log.size(); ++i) REQUIRE(log[i] == appended[i]);
      dropped = log.dropped_bytes();
      CHECK((dropped > 0) == (lines.size() == 1));
      if (dropped > 0) ++torn_tails;
      appended.resize(log.size());
      synced = log.size();
      // Append records of every length, syncing now and then; then crash.
      const auto n = 1 + rng.below(12);
      for (std::uint64_t i = 0; i < n; ++i) {
        log.append(record(appended.size()));
        appended.push_back(record(appended.size()));
        if (rng.below(3) == 0) {
          log.sync();
          synced = appended.size();
        }
      }
      disk.crash(UnsyncedWrites::torn, rng);
    }
  }
  // The test did test recovery: many runs had a torn tail.
  CHECK(torn_tails > 50);
}

TEST_CASE("a corrupt record and everything after it are dropped and reported", "[storage]") {
  MemoryDisk disk;
  {
    DurableLog log(disk, "log");
    for (std::size_t i = 0; i < 5; ++i) log.append(record(i));
    log.sync();
  }
  // Flip one byte inside record 2 (the header is 16 bytes, each frame 8 bytes).
  std::string bytes = *disk.read("log");
  std::size_t at = 16;
  for (std::size_t i = 0; i < 2; ++i) at += 8 + record(i).size();
  bytes[at + 8 + 3] ^= 0x20;
  disk.write("log", bytes);
  std::vector<std::string> lines;
  DurableLog log(disk, "log", [&](std::string_view line) { lines.emplace_back(line); });
  REQUIRE(log.size() == 2);
  CHECK(log[1] == record(1));
  CHECK(log.dropped_bytes() == bytes.size() - at);
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains("bad checksum of record 2"));
  // The bad tail was cut off: an append follows record 1.
  log.append("after");
  log.sync();
  DurableLog again(disk, "log");
  CHECK(again.dropped_bytes() == 0);
  REQUIRE(again.size() == 3);
  CHECK(again[2] == "after");
}

TEST_CASE("decoding cut or damaged logs never fails and never returns a record not appended",
          "[storage]") {
  MemoryDisk disk;
  {
    DurableLog log(disk, "log");
    for (std::size_t i = 0; i < 20; ++i) log.append(record(i));
  }
  const std::string good = *disk.read("log");
  dsys::core::Rng rng(99);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes = good.substr(0, rng.below(good.size() + 1));
    const auto flips = rng.below(3);
    for (std::uint64_t f = 0; f < flips && !bytes.empty(); ++f)
      bytes[rng.below(bytes.size())] = static_cast<char>(rng.below(256));
    const DurableLog::Decoded d = DurableLog::decode(bytes);
    REQUIRE(d.good_bytes + d.dropped_bytes == bytes.size());
    REQUIRE(d.records.size() <= 20);
    for (std::size_t i = 0; i < d.records.size(); ++i) REQUIRE(d.records[i] == record(i));
  }
  CHECK(DurableLog::decode(std::string(100, '\xff')).records.empty());
}

// ---------------------------------------------------------------- FileStorage (real files)

TEST_CASE(
    "file storage writes, appends, reads, lists and removes keys, with fsync on and off (what it "
    "wrote is there for the next FileStorage of the directory either way)",
    "[storage]") {
  const bool fsync = GENERATE(true, false);
  INFO("fsync " << (fsync ? "on" : "off"));
  TempDir dir;
  {
    dsys::net::FileStorage disk(dir.path(), fsync);
    disk.write("a", "one");
    disk.append("log", "x");
    disk.append("log", "yz");
    disk.write("b", "");
    disk.sync();
    CHECK(disk.read("a") == "one");
    CHECK(disk.read("log") == "xyz");
    CHECK(disk.read("b") == "");
    CHECK_FALSE(disk.read("c"));
    disk.write("log", "new");  // a write replaces what was appended
    disk.append("log", "!");
    disk.remove("a");
    disk.remove("never-was");
    disk.sync();
    CHECK_THROWS_AS(disk.write("x.tmp", "v"), dsys::UsageError);
  }
  dsys::net::FileStorage disk(dir.path());
  CHECK(disk.keys() == std::vector<std::string>{"b", "log"});
  CHECK(disk.read("log") == "new!");
}

TEST_CASE("file storage removes the temporary files a crash left behind", "[storage]") {
  TempDir dir;
  { std::ofstream(dir.path() / "k.tmp") << "half a value"; }
  { std::ofstream(dir.path() / "k") << "synced value"; }
  dsys::net::FileStorage disk(dir.path());
  CHECK_FALSE(std::filesystem::exists(dir.path() / "k.tmp"));
  CHECK(disk.read("k") == "synced value");
  CHECK(disk.keys() == std::vector<std::string>{"k"});
}

TEST_CASE("a write that the disk refuses (file too large) throws and keeps the synced value",
          "[storage]") {
  TempDir dir;
  {
    dsys::net::FileStorage disk(dir.path());
    disk.write("k", "synced value");
    disk.sync();
  }
  // In a child limited to 1000-byte files: a 5000-byte write over the synced value.
  const int status = in_child_with_file_limit(1000, [&] {
    try {
      dsys::net::FileStorage disk(dir.path());
      disk.write("k", std::string(5000, 'y'));
      disk.sync();
      return 1;  // neither the write nor the sync said that they failed
    } catch (const std::system_error& e) {
      return std::string(e.what()).find("k.tmp") != std::string::npos ? 0 : 3;
    } catch (...) {
      return 2;
    }
  });
  CHECK(status == 0);
  CHECK(file_contents(dir.path() / "k") == "synced value");
  CHECK_FALSE(std::filesystem::exists(dir.path() / "k.tmp"));
  dsys::net::FileStorage disk(dir.path());
  CHECK(disk.read("k") == "synced value");
}

TEST_CASE("an append that the disk refuses throws and leaves the file as it was", "[storage]") {
  TempDir dir;
  {
    dsys::net::FileStorage disk(dir.path());
    disk.append("log", std::string(900, 'a'));
    disk.sync();
  }
  const int status = in_child_with_file_limit(1000, [&] {
    try {
      dsys::net::FileStorage disk(dir.path());
      disk.append("log", std::string(500, 'b'));
      disk.sync();
      return 1;
    } catch (const std::system_error&) {
      return 0;
    } catch (...) {
      return 2;
    }
  });
  CHECK(status == 0);
  CHECK(file_contents(dir.path() / "log") == std::string(900, 'a'));
}

TEST_CASE("a durable log on files reads back its records and drops a torn tail", "[storage]") {
  TempDir dir;
  {
    dsys::net::FileStorage disk(dir.path());
    DurableLog log(disk, "paxos.log");
    for (std::size_t i = 0; i < 50; ++i) log.append(record(i));
    log.sync();
  }
  // A crash in the middle of writing record 50: half its frame reached the file.
  {
    std::ofstream out(dir.path() / "paxos.log", std::ios::app | std::ios::binary);
    out.write("\x07\x00\x00", 3);
  }
  {
    dsys::net::FileStorage disk(dir.path());
    DurableLog log(disk, "paxos.log");
    CHECK(log.dropped_bytes() == 3);
    REQUIRE(log.size() == 50);
    for (std::size_t i = 0; i < 50; ++i) CHECK(log[i] == record(i));
    log.truncate_prefix(10);
    log.append("last");
    log.sync();
  }
  dsys::net::FileStorage disk(dir.path());
  DurableLog log(disk, "paxos.log");
  CHECK(log.dropped_bytes() == 0);
  CHECK(log.base() == 10);
  REQUIRE(log.size() == 41);
  CHECK(log[0] == record(10));
  CHECK(log[40] == "last");
}
