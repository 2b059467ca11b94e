// yfs_tester lab2|lab3 DIR1 DIR2: the black-box tester of yfs, in the spirit of the classic
// test-lab-2.pl and test-lab-3.c. DIR1 and DIR2 are two mounts of one file system (two
// yfs_client processes on one extent server, as `./dsys yfs start` makes them: ./yfs1, ./yfs2);
// what is done through one must be seen at once through the other.
//
// It uses plain POSIX calls only, and only those the lab has: lab 2 creates, looks up, lists and
// stats files; lab 3 also writes, reads and truncates them (lab3 runs the lab 2 checks first).
// Nothing is ever removed (unlink comes with lab 4), so every name it creates is fresh: each run
// has a random prefix of its own, and the file system may hold the files of earlier runs.
//
// It prints a line per check and, at the end, "yfs_tester: passed all tests" (exit status 0);
// or, at the first failure, what was expected and what was seen instead (exit status 1).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace {

// A check that did not hold: what was expected and what was seen.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& what) {
  throw Failure(what);
}

// "ENOENT (No such file or directory)".
std::string errno_text(int e) {
  const char* name = ::strerrorname_np(e);
  return fmt::format("{} ({})", name ? name : std::to_string(e), std::strerror(e));
}

// A file descriptor, closed at the end of its scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes it now, where close's error (a write-back the file system refused) can be reported.
  void close(const std::string& path) {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(fmt::format("close {}: {}", path, errno_text(errno)));
  }

 private:
  int fd_;
};

Fd open_or_fail(const std::string& path, int flags, mode_t mode = 0644) {
  const int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) fail(fmt::format("open {}: expected it to succeed, saw {}", path, errno_text(errno)));
  return Fd(fd);
}

struct stat stat_or_fail(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    fail(fmt::format("stat {}: expected it to succeed, saw {}", path, errno_text(errno)));
  return st;
}

// Writes all of `data` at the file offset (or at the end, with O_APPEND), in one write() call:
// the kernel may split it into several requests, but must not write less.
void write_all(const Fd& fd, const std::string& path, const std::string& data) {
  const ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) fail(fmt::format("write of {} bytes to {}: {}", data.size(), path, errno_text(errno)));
  if (static_cast<std::size_t>(n) != data.size())
    fail(fmt::format("write of {} bytes to {}: expected all of them written, saw {}", data.size(),
                     path, n));
}

void pwrite_all(const Fd& fd, const std::string& path, const std::string& data, off_t offset) {
  const ssize_t n = ::pwrite(fd.get(), data.data(), data.size(), offset);
  if (n < 0)
    fail(fmt::format("pwrite of {} bytes at {} to {}: {}", data.size(), offset, path,
                     errno_text(errno)));
  if (static_cast<std::size_t>(n) != data.size())
    fail(fmt::format("pwrite of {} bytes at {} to {}: expected all of them written, saw {}",
                     data.size(), offset, path, n));
}

// The whole file at `path`, read from its start with read() until it returns 0.
std::string read_file(const std::string& path) {
  Fd fd = open_or_fail(path, O_RDONLY);
  std::string contents;
  std::vector<char> buffer(std::size_t{128} * 1024);
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) fail(fmt::format("read {} at {}: {}", path, contents.size(), errno_text(errno)));
    if (n == 0) return contents;
    contents.append(buffer.data(), static_cast<std::size_t>(n));
  }
}

// The file at `path` holds exactly `expected`: stat says its size, and reading it from the
// start gives those bytes, byte for byte, and then the end of the file.
void expect_contents(const std::string& path, const std::string& expected) {
  const auto st = stat_or_fail(path);
  if (static_cast<std::uint64_t>(st.st_size) != expected.size())
    fail(fmt::format("stat {}: expected size {}, saw {}", path, expected.size(), st.st_size));
  const std::string seen = read_file(path);
  if (seen == expected) return;
  const auto [e, s] = std::mismatch(expected.begin(), expected.end(), seen.begin(), seen.end());
  const auto at = static_cast<std::size_t>(e - expected.begin());
  if (at == expected.size() || at == seen.size())
    fail(fmt::format("read {}: expected {} bytes, saw {} (the first {} as expected)", path,
                     expected.size(), seen.size(), at));
  fail(fmt::format(
      "read {}: expected byte {} to be 0x{:02x}, saw 0x{:02x} ({} bytes read, as "
      "expected up to there)",
      path, at, static_cast<unsigned char>(*e), static_cast<unsigned char>(*s), seen.size()));
}

// How many times each name appears in a listing of `dir` by opendir/readdir.
std::map<std::string, int> list_directory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) fail(fmt::format("opendir {}: {}", dir, errno_text(errno)));
  std::map<std::string, int> names;
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(d);
    if (entry == nullptr) break;
    ++names[entry->d_name];
  }
  const int error = errno;
  ::closedir(d);
  if (error != 0) fail(fmt::format("readdir {}: {}", dir, errno_text(error)));
  return names;
}

void expect_listed_once(const std::map<std::string, int>& listing, const std::string& dir,
                        const std::string& name) {
  const auto it = listing.find(name);
  const int times = it == listing.end() ? 0 : it->second;
  if (times != 1)
    fail(fmt::format("readdir {}: expected {} listed once, saw it {} times", dir, name, times));
}

class Tester {
 public:
  Tester(std::string dir1, std::string dir2)
      : dir1_(std::move(dir1)),
        dir2_(std::move(dir2)),
        rng_(static_cast<std::uint64_t>(::getpid()) * 0x9e3779b97f4a7c15ULL ^
             static_cast<std::uint64_t>(
                 std::chrono::system_clock::now().time_since_epoch().count()) ^
             std::random_device{}()),
        prefix_(letters(12)) {}

  const std::string& prefix() const { return prefix_; }

  // ------------------------------------------------------------------ lab 2

  // Proves create and lookup share one store: a file made through one client is found, and
  // listed exactly once, by the other.
  void create_seen_by_other_mount() {
    const std::string name = fresh_name();
    create(dir1_ + "/" + name);
    const auto st = stat_or_fail(dir2_ + "/" + name);
    if (!S_ISREG(st.st_mode))
      fail(fmt::format("stat {}/{}: expected a regular file, saw mode 0{:o}", dir2_, name,
                       st.st_mode));
    expect_listed_once(list_directory(dir2_), dir2_, name);
  }

  // Proves a directory holds many entries, none lost or repeated as it grows: 50 files with long
  // (40-letter) names through DIR1, each listed exactly once through DIR2.
  void create_many_files() {
    for (int i = 0; i < kManyFiles; ++i) {
      const std::string name = prefix_ + letters(kLongName - prefix_.size());
      create(dir1_ + "/" + name);
      created_.push_back(name);
    }
    const auto listing = list_directory(dir2_);
    for (const auto& name : created_) expect_listed_once(listing, dir2_, name);
  }

  // Proves lookup finds exactly what was created: names created above are found (by either
  // mount), names never created are not (ENOENT), in a random order of 50 lookups.
  void lookups_find_only_created_names() {
    const std::set<std::string> created(created_.begin(), created_.end());
    for (int i = 0; i < kLookups; ++i) {
      const std::string& dir = coin() ? dir1_ : dir2_;
      if (coin()) {
        const std::string& name = created_[pick(created_.size())];
        const std::string path = fmt::format("{}/{}", dir, name);
        const auto st = stat_or_fail(path);
        if (!S_ISREG(st.st_mode))
          fail(fmt::format("stat {}: expected a regular file, saw mode 0{:o}", path, st.st_mode));
      } else {
        std::string name;
        do name = prefix_ + letters(kLongName - prefix_.size());
        while (created.contains(name));
        const std::string path = fmt::format("{}/{}", dir, name);
        struct stat st {};
        expect_error(::stat(path.c_str(), &st), ENOENT,
                     fmt::format("stat {} (never created)", path));
      }
    }
  }

  // Proves create refuses a name that is taken, whichever client created it.
  void exclusive_create_of_existing_name_fails() {
    for (const auto& dir : {dir1_, dir2_}) {
      const std::string path = dir + "/" + created_.front();
      const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
      if (fd >= 0) ::close(fd);
      expect_error(fd, EEXIST, fmt::format("open {} with O_CREAT | O_EXCL (it exists)", path));
    }
  }

  // Proves getattr of a new file: a regular file, empty, through both mounts.
  void new_file_is_empty_regular_file() {
    for (const auto& dir : {dir1_, dir2_}) {
      const std::string path = dir + "/" + created_.back();
      const auto st = stat_or_fail(path);
      if (!S_ISREG(st.st_mode))
        fail(fmt::format("stat {}: expected a regular file, saw mode 0{:o}", path, st.st_mode));
      if (st.st_size != 0) fail(fmt::format("stat {}: expected size 0, saw {}", path, st.st_size));
    }
  }

  // Proves getattr of the root directory says it is a directory, through both mounts.
  void root_is_directory() {
    for (const auto& dir : {dir1_, dir2_}) {
      const auto st = stat_or_fail(dir);
      if (!S_ISDIR(st.st_mode))
        fail(fmt::format("stat {}: expected a directory, saw mode 0{:o}", dir, st.st_mode));
    }
  }

  // Proves the name limit: 255 bytes is the longest name (created and found through the other
  // mount), 256 bytes is refused with ENAMETOOLONG.
  void name_length_limit() {
    const std::string longest = prefix_ + letters(kMaxName - prefix_.size());
    create(dir1_ + "/" + longest);
    stat_or_fail(dir2_ + "/" + longest);
    const std::string too_long = prefix_ + letters(kMaxName + 1 - prefix_.size());
    const std::string path = dir1_ + "/" + too_long;
    const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd >= 0) ::close(fd);
    expect_error(fd, ENAMETOOLONG,
                 fmt::format("open of a name of {} bytes with O_CREAT", too_long.size()));
  }

  // ------------------------------------------------------------------ lab 3

  // Proves write and read of a small file (600 bytes: less than one page) and of one that is
  // not a multiple of anything (4111 bytes), written through DIR1 and read through DIR2.
  void write_then_read_through_other_mount() {
    for (const std::size_t size : {600, 4111}) {
      const std::string name = fresh_name();
      const std::string data = bytes(size);
      Fd fd = open_or_fail(dir1_ + "/" + name, O_CREAT | O_EXCL | O_WRONLY);
      write_all(fd, dir1_ + "/" + name, data);
      fd.close(dir1_ + "/" + name);
      expect_contents(dir2_ + "/" + name, data);
      files_[name] = data;
    }
  }

  // Proves O_TRUNC truncates before the write: 4111 bytes rewritten as 275 leave 275.
  void truncate_and_rewrite() {
    const auto& [name, old] = file_of_size(4111);
    const std::string data = bytes(275);
    Fd fd = open_or_fail(dir1_ + "/" + name, O_WRONLY | O_TRUNC);
    write_all(fd, dir1_ + "/" + name, data);
    fd.close(dir1_ + "/" + name);
    expect_contents(dir2_ + "/" + name, data);
    files_[name] = data;
  }

  // Proves append (write at the current end) of a file written by the other client: 8192 bytes
  // through DIR1, 7007 appended with O_APPEND through DIR2, all 15199 read through DIR1.
  void append_through_other_mount() {
    const std::string name = fresh_name();
    const std::string first = bytes(8192);
    Fd fd = open_or_fail(dir1_ + "/" + name, O_CREAT | O_EXCL | O_WRONLY);
    write_all(fd, dir1_ + "/" + name, first);
    fd.close(dir1_ + "/" + name);
    const std::string second = bytes(7007);
    Fd appender = open_or_fail(dir2_ + "/" + name, O_WRONLY | O_APPEND);
    write_all(appender, dir2_ + "/" + name, second);
    appender.close(dir2_ + "/" + name);
    expect_contents(dir1_ + "/" + name, first + second);
    files_[name] = first + second;
  }

  // Proves a write at an offset inside a file replaces just those bytes (200 at offset 190 of
  // the 600-byte file) and leaves its size alone.
  void pwrite_inside_file() {
    auto& [name, contents] = file_of_size(600);
    const std::string patch = bytes(200);
    Fd fd = open_or_fail(dir1_ + "/" + name, O_WRONLY);
    pwrite_all(fd, dir1_ + "/" + name, patch, 190);
    fd.close(dir1_ + "/" + name);
    contents.replace(190, patch.size(), patch);
    expect_contents(dir2_ + "/" + name, contents);
  }

  // Proves a write past the end extends the file with a hole of zero bytes: 64 bytes at offset
  // 5000 of a 100-byte file make it 5064 bytes, zero from 100 to 5000.
  void pwrite_past_end_leaves_zeros() {
    const std::string name = fresh_name();
    std::string contents = bytes(100);
    Fd fd = open_or_fail(dir1_ + "/" + name, O_CREAT | O_EXCL | O_WRONLY);
    write_all(fd, dir1_ + "/" + name, contents);
    const std::string tail = bytes(64);
    pwrite_all(fd, dir1_ + "/" + name, tail, 5000);
    fd.close(dir1_ + "/" + name);
    contents.resize(5000, '\0');
    contents += tail;
    expect_contents(dir2_ + "/" + name, contents);
    files_[name] = contents;
  }

  // Proves setattr of the size: truncate(2) through DIR1 extends a 100-byte file to 7000 bytes
  // (with zeros), ftruncate(2) through DIR2 shrinks it to 33; each seen through the other mount.
  void truncate_extends_and_shrinks() {
    const std::string name = fresh_name();
    std::string contents = bytes(100);
    {
      Fd fd = open_or_fail(dir1_ + "/" + name, O_CREAT | O_EXCL | O_WRONLY);
      write_all(fd, dir1_ + "/" + name, contents);
      fd.close(dir1_ + "/" + name);
    }
    if (::truncate((dir1_ + "/" + name).c_str(), 7000) != 0)
      fail(fmt::format("truncate {}/{} to 7000: {}", dir1_, name, errno_text(errno)));
    contents.resize(7000, '\0');
    expect_contents(dir2_ + "/" + name, contents);

    Fd fd = open_or_fail(dir2_ + "/" + name, O_WRONLY);
    if (::ftruncate(fd.get(), 33) != 0)
      fail(fmt::format("ftruncate {}/{} to 33: {}", dir2_, name, errno_text(errno)));
    fd.close(dir2_ + "/" + name);
    contents.resize(33);
    expect_contents(dir1_ + "/" + name, contents);
    files_[name] = contents;
  }

  // Proves read stops at the end: a read across the end returns only the bytes before it, a read
  // at or past the end returns 0 bytes (end of file), not an error.
  void read_at_and_past_end() {
    const auto& [name, contents] = file_of_size(15199);
    const std::string path = dir2_ + "/" + name;
    Fd fd = open_or_fail(path, O_RDONLY);
    std::vector<char> buffer(1000);
    const auto size = static_cast<off_t>(contents.size());
    const struct {
      off_t offset;
      ssize_t expected;
    } reads[] = {{size - 10, 10}, {size, 0}, {size + 1, 0}, {size + 100000, 0}};
    for (const auto& r : reads) {
      const ssize_t n = ::pread(fd.get(), buffer.data(), buffer.size(), r.offset);
      if (n < 0)
        fail(fmt::format("pread of {} bytes at {} of {} ({} bytes): {}", buffer.size(), r.offset,
                         path, size, errno_text(errno)));
      if (n != r.expected)
        fail(fmt::format("pread of {} bytes at {} of {} ({} bytes): expected {} bytes, saw {}",
                         buffer.size(), r.offset, path, size, r.expected, n));
      if (n > 0 && std::memcmp(buffer.data(), contents.data() + r.offset, n) != 0)
        fail(fmt::format("pread at {} of {}: the bytes are not those written", r.offset, path));
    }
  }

  // Proves a large file: 5 MiB written in 128 KiB write() calls through DIR1 reads back
  // identical through DIR2.
  void large_file() {
    const std::string name = fresh_name();
    const std::string path = dir1_ + "/" + name;
    std::string contents;
    Fd fd = open_or_fail(path, O_CREAT | O_EXCL | O_WRONLY);
    while (contents.size() < kLargeFile) {
      const std::string chunk = bytes(kChunk);
      write_all(fd, path, chunk);
      contents += chunk;
    }
    fd.close(path);
    expect_contents(dir2_ + "/" + name, contents);
  }

 private:
  static constexpr int kManyFiles = 50;
  static constexpr int kLookups = 50;
  static constexpr std::size_t kLongName = 40;
  static constexpr std::size_t kMaxName = 255;  // NAME_MAX, and yfs's limit
  static constexpr std::size_t kLargeFile = std::size_t{5} * 1024 * 1024;
  static constexpr std::size_t kChunk = std::size_t{128} * 1024;

  std::string letters(std::size_t n) {
    static constexpr std::string_view kAlphabet =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s.push_back(kAlphabet[pick(kAlphabet.size())]);
    return s;
  }
  std::string bytes(std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng_() & 0xff);
    return s;
  }
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool coin() { return (rng_() & 1) != 0; }
  std::string fresh_name() { return fmt::format("{}-{}", prefix_, ++names_); }

  // Creates an empty file with O_CREAT | O_EXCL (so it must not exist yet).
  void create(const std::string& path) {
    Fd fd = open_or_fail(path, O_CREAT | O_EXCL | O_WRONLY);
    fd.close(path);
  }

  // A call returned `result`; it must have failed (-1) with `expected` as errno.
  void expect_error(int result, int expected, const std::string& what) {
    const int error = errno;
    if (result >= 0)
      fail(fmt::format("{}: expected it to fail with {}, saw it succeed", what,
                       errno_text(expected)));
    if (error != expected)
      fail(fmt::format("{}: expected {}, saw {}", what, errno_text(expected), errno_text(error)));
  }

  // A file written by an earlier check, of `size` bytes, and its contents.
  std::pair<const std::string, std::string>& file_of_size(std::size_t size) {
    for (auto& entry : files_) {
      if (entry.second.size() == size) return entry;
    }
    fail(fmt::format("(tester) no file of {} bytes from an earlier check", size));
  }

  std::string dir1_, dir2_;
  std::mt19937_64 rng_;
  std::string prefix_;  // of every name this run creates
  int names_ = 0;
  std::vector<std::string> created_;          // by create_many_files
  std::map<std::string, std::string> files_;  // written files, by name: their contents
};

struct Check {
  const char* what;
  void (Tester::*run)();
};

// The lab 2 checks, in order (later ones use the files of earlier ones).
constexpr Check kLab2[] = {
    {"a file created in DIR1 is found by stat, and listed once by readdir, in DIR2",
     &Tester::create_seen_by_other_mount},
    {"50 files with 40-letter names created in DIR1 are each listed once in DIR2",
     &Tester::create_many_files},
    {"50 lookups: created names are found, names never created are not (ENOENT)",
     &Tester::lookups_find_only_created_names},
    {"creating an existing name with O_EXCL fails with EEXIST",
     &Tester::exclusive_create_of_existing_name_fails},
    {"a new file is a regular file of size 0", &Tester::new_file_is_empty_regular_file},
    {"the root is a directory", &Tester::root_is_directory},
    {"a name of 255 bytes is created, one of 256 fails with ENAMETOOLONG",
     &Tester::name_length_limit},
};

constexpr Check kLab3[] = {
    {"600 and 4111 bytes written in DIR1 read back byte for byte in DIR2",
     &Tester::write_then_read_through_other_mount},
    {"O_TRUNC and a write of 275 bytes leave 275 bytes", &Tester::truncate_and_rewrite},
    {"8192 bytes, then 7007 appended with O_APPEND in DIR2, read back (15199) in DIR1",
     &Tester::append_through_other_mount},
    {"pwrite of 200 bytes at offset 190 replaces just those bytes", &Tester::pwrite_inside_file},
    {"pwrite past the end leaves zeros in the hole", &Tester::pwrite_past_end_leaves_zeros},
    {"truncate extends with zeros, ftruncate shrinks", &Tester::truncate_extends_and_shrinks},
    {"a read across the end returns what is left; at or past the end, 0 bytes",
     &Tester::read_at_and_past_end},
    {"a 5 MiB file written in 128 KiB chunks in DIR1 reads back identical in DIR2",
     &Tester::large_file},
};

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string lab = argc == 4 ? argv[1] : "";
  if (lab != "lab2" && lab != "lab3") {
    std::fprintf(stderr,
                 "usage: yfs_tester lab2|lab3 DIR1 DIR2\n"
                 "  checks a yfs file system mounted at DIR1 and at DIR2 (two clients of one\n"
                 "  extent server, e.g. ./yfs1 and ./yfs2 of ./dsys yfs start)\n");
    return 2;
  }
  const std::string dir1 = argv[2], dir2 = argv[3];
  for (const auto& dir : {dir1, dir2}) {
    if (!is_directory(dir)) {
      std::fprintf(stderr, "yfs_tester: %s is not a directory (is yfs mounted there?)\n",
                   dir.c_str());
      return 2;
    }
  }

  std::vector<Check> checks(std::begin(kLab2), std::end(kLab2));
  if (lab == "lab3") checks.insert(checks.end(), std::begin(kLab3), std::end(kLab3));
  Tester tester(dir1, dir2);
  fmt::print("yfs_tester: {} checks of {} on {} and {}; the names it creates begin with {}\n",
             checks.size(), lab, dir1, dir2, tester.prefix());
  for (std::size_t i = 0; i < checks.size(); ++i) {
    fmt::print("test {}: {} ... ", i + 1, checks[i].what);
    std::fflush(stdout);
    try {
      std::invoke(checks[i].run, tester);
    } catch (const std::exception& e) {
      fmt::print("FAILED\nyfs_tester: test {} failed: {}\n", i + 1, e.what());
      return 1;
    }
    fmt::print("ok\n");
  }
  fmt::print("yfs_tester: passed all tests\n");
  return 0;
}
