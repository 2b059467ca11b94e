// yfs_tester lab2|lab3|lab4 DIR1 DIR2: the black-box tester of yfs, in the spirit of the classic
// test-lab-2.pl, test-lab-3.c and test-lab-4-a.pl/test-lab-4-b.c. DIR1 and DIR2 are two mounts of
// one file system (two yfs_client processes on one extent server, as `./dsys yfs start` makes
// them: ./yfs1, ./yfs2); what is done through one must be seen at once through the other.
//
// It uses plain POSIX calls only, and only those the lab has: lab 2 creates, looks up, lists and
// stats files; lab 3 also writes, reads and truncates them; lab 4 also makes directories and
// unlinks files, and its checks run two processes at once, one working through DIR1 and the other
// through DIR2, to prove that concurrent creates, deletes and appends of two clients lose nothing
// and duplicate nothing. A lab's mode runs the checks of the labs before it first. It never
// removes a directory or renames anything (yfs has neither), so every name it creates is fresh:
// each run has a random prefix of its own, and the file system may hold the files of earlier runs.
// Each lab 4 check works in a directory of its own, made with mkdir.
//
// It prints a line per check and, at the end, "yfs_tester: passed all tests" (exit status 0);
// or, at the first failure, what was expected and what was seen instead (exit status 1). A check
// of two processes waits for them a bounded time (kConcurrentLimit), then kills them and fails.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

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
// `bytes` in double quotes, each byte that is not printable ASCII as \xNN (fmt 8, Ubuntu 22.04's,
// has no {:?}).
std::string quoted(std::string_view bytes) {
  std::string out = "\"";
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", byte);
    }
  }
  return out + "\"";
}

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

// Runs `call`, a system call that returns -1 on failure, and returns its errno (0 if it succeeded),
// read before anything else can change it.
template <typename Call>
int error_of(Call call) {
  errno = 0;
  return call() < 0 ? errno : 0;
}

// A call failed with `seen` as errno (0: it succeeded); it must have failed with `expected`.
void expect_errno(int seen, int expected, const std::string& what) {
  if (seen == 0)
    fail(
        fmt::format("{}: expected it to fail with {}, saw it succeed", what, errno_text(expected)));
  if (seen != expected)
    fail(fmt::format("{}: expected {}, saw {}", what, errno_text(expected), errno_text(seen)));
}

void mkdir_or_fail(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0)
    fail(fmt::format("mkdir {}: expected it to succeed, saw {}", path, errno_text(errno)));
}

void unlink_or_fail(const std::string& path) {
  if (::unlink(path.c_str()) != 0)
    fail(fmt::format("unlink {}: expected it to succeed, saw {}", path, errno_text(errno)));
}

// "a, b, c, ... (12 in all)": at most the first few of `names`.
template <typename Names>
std::string some_of(const Names& names) {
  constexpr std::size_t kShown = 5;
  std::string text;
  std::size_t shown = 0;
  for (const auto& name : names) {
    if (shown == kShown) return fmt::format("{}, ... ({} in all)", text, names.size());
    text += (shown++ == 0 ? "" : ", ") + name;
  }
  return shown == 0 ? "none" : text;
}

// A listing of `dir` by readdir holds exactly the names in `expected`, each once ("." and ".."
// aside: a file system may list them or not).
void expect_listing(const std::string& dir, const std::set<std::string>& expected) {
  auto listing = list_directory(dir);
  listing.erase(".");
  listing.erase("..");
  std::vector<std::string> missing, repeated, unexpected;
  for (const auto& name : expected) {
    if (!listing.contains(name)) missing.push_back(name);
  }
  for (const auto& [name, times] : listing) {
    if (!expected.contains(name))
      unexpected.push_back(name);
    else if (times > 1)
      repeated.push_back(fmt::format("{} ({} times)", name, times));
  }
  if (missing.empty() && repeated.empty() && unexpected.empty()) return;
  std::string seen;
  if (!missing.empty()) seen += fmt::format("; missing: {}", some_of(missing));
  if (!repeated.empty()) seen += fmt::format("; listed more than once: {}", some_of(repeated));
  if (!unexpected.empty()) seen += fmt::format("; never expected: {}", some_of(unexpected));
  if (expected.empty())
    fail(fmt::format("readdir {}: expected no names, saw {}{}", dir, listing.size(), seen));
  fail(fmt::format("readdir {}: expected exactly {} name{}, each once ({}), saw {}{}", dir,
                   expected.size(), expected.size() == 1 ? "" : "s", some_of(expected),
                   listing.size(), seen));
}

// How long the two processes of a lab 4 check may take together, before they are killed and the
// check fails; and how long a killed process may take to die (it may be stuck in a call that the
// file system never answers, which even SIGKILL does not interrupt).
constexpr auto kConcurrentLimit = std::chrono::seconds(120);
constexpr auto kDyingLimit = std::chrono::seconds(10);

// Two processes forked to run one body at once: process 1 through DIR1, process 2 through DIR2.
// Both are released together (once both exist). Each reports back through a pipe of its own:
// the body's return value when it returns (exit status 0), or why it failed (exit status 1).
// Nothing of theirs reaches stdout; the parent says what happened.
class TwoProcesses {
 public:
  using Body = std::function<std::string(int process, const std::string& mount)>;

  TwoProcesses(const std::array<std::string, 2>& mounts, const Body& body) {
    try {
      start(mounts, body);
    } catch (...) {
      stop();
      throw;
    }
  }

  // Kills and reaps whichever process is still running (when the parent gave up on them).
  ~TwoProcesses() { stop(); }

  TwoProcesses(const TwoProcesses&) = delete;
  TwoProcesses& operator=(const TwoProcesses&) = delete;

  // Waits for both, at most `limit`; returns what each body returned. Fails with the first
  // failure, once it is known (then the other process is killed: its work no longer matters), or
  // with the process (or both) still running at the deadline.
  std::array<std::string, 2> wait(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!children_[0].reaped || !children_[1].reaped) {
      if (std::chrono::steady_clock::now() >= deadline) overran(limit);
      read_reports(std::chrono::milliseconds(50));
      reap_some();
      for (int i = 0; i < 2; ++i) {
        const Child& child = children_[i];
        if (child.reaped && !child.succeeded())
          fail(fmt::format("process {} (through {}): {}", i + 1, child.mount, child.failure()));
      }
    }
    return {children_[0].report, children_[1].report};
  }

 private:
  struct Child {
    pid_t pid = -1;
    std::string mount;
    int out = -1;        // the read end of its report pipe, until the pipe's end
    std::string report;  // what it wrote to the pipe
    bool reaped = false;
    int status = 0;  // of waitpid, once reaped

    bool succeeded() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
    std::string failure() const {
      if (WIFSIGNALED(status)) {
        const char* name = ::sigabbrev_np(WTERMSIG(status));
        return fmt::format("killed by signal {}",
                           name ? fmt::format("SIG{}", name) : std::to_string(WTERMSIG(status)));
      }
      if (WEXITSTATUS(status) == 1 && !report.empty()) return report;
      return fmt::format("exited with status {}{}", WEXITSTATUS(status),
                         report.empty() ? "" : ": " + report);
    }
  };

  // Forks both, then releases them at once.
  void start(const std::array<std::string, 2>& mounts, const Body& body) {
    const pid_t parent = ::getpid();
    int go[2];
    if (::pipe2(go, O_CLOEXEC) != 0) fail(fmt::format("(tester) pipe: {}", errno_text(errno)));
    Fd go_read(go[0]), go_write(go[1]);
    for (int i = 0; i < 2; ++i) {
      Child& child = children_[i];
      child.mount = mounts[i];
      int out[2];
      if (::pipe2(out, O_CLOEXEC) != 0) fail(fmt::format("(tester) pipe: {}", errno_text(errno)));
      std::fflush(stdout);
      std::fflush(stderr);
      const pid_t pid = ::fork();
      if (pid < 0) {
        const int error = errno;
        ::close(out[0]);
        ::close(out[1]);
        fail(fmt::format("(tester) fork: {}", errno_text(error)));
      }
      if (pid == 0) {
        ::close(out[0]);
        run_child(parent, i + 1, child.mount, go_read.get(), go_write.get(), out[1], body);
      }
      ::close(out[1]);
      child.pid = pid;
      child.out = out[0];
    }
    // Closing the write end releases both: their reads of the start pipe return 0.
    go_write.close("(tester) the start pipe");
  }

  // Kills whichever process is still running, and waits (at most kDyingLimit) for it to die; once.
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    for (auto& child : children_) {
      if (child.pid > 0 && !child.reaped) ::kill(child.pid, SIGKILL);
    }
    reap_until(std::chrono::steady_clock::now() + kDyingLimit);
    for (auto& child : children_) {
      if (child.out >= 0) ::close(child.out);
      child.out = -1;
    }
  }

  // In the child: waits for the release, runs the body, reports and exits (never returns, never
  // runs the parent's destructors or flushes its buffers).
  [[noreturn]] static void run_child(pid_t parent, int process, const std::string& mount,
                                     int go_read, int go_write, int out, const Body& body) {
    // Never outlive the tester, working on the mounts.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(4);
    ::close(go_write);
    char byte;
    while (::read(go_read, &byte, 1) < 0 && errno == EINTR) {
    }
    std::string report;
    int status = 0;
    try {
      report = body(process, mount);
    } catch (const std::exception& e) {
      report = e.what();
      status = 1;
    }
    for (std::size_t done = 0; done < report.size();) {
      const ssize_t n = ::write(out, report.data() + done, report.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) ::_exit(3);
      done += static_cast<std::size_t>(n);
    }
    ::_exit(status);
  }

  // Reads once from a process's report pipe (which must be readable, or this blocks); at the
  // pipe's end (the process has exited, or is exiting), closes it.
  static void read_report(Child& child) {
    char buffer[4096];
    ssize_t got;
    do got = ::read(child.out, buffer, sizeof buffer);
    while (got < 0 && errno == EINTR);
    if (got > 0) {
      child.report.append(buffer, static_cast<std::size_t>(got));
      return;
    }
    ::close(child.out);
    child.out = -1;
  }

  // Reads whatever the processes have written, waiting at most `wait` for something.
  void read_reports(std::chrono::milliseconds wait) {
    std::array<pollfd, 2> polled{};
    std::array<Child*, 2> polled_child{};
    nfds_t n = 0;
    for (auto& child : children_) {
      if (child.out < 0) continue;
      polled_child[n] = &child;
      polled[n++] = {child.out, POLLIN, 0};
    }
    if (n == 0) {
      // Both pipes have ended: the processes are exiting; wait a little for that.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return;
    }
    if (::poll(polled.data(), n, static_cast<int>(wait.count())) <= 0) return;
    for (nfds_t i = 0; i < n; ++i) {
      if (polled[i].revents != 0) read_report(*polled_child[i]);
    }
  }

  // Reaps the processes that have exited, and reads their reports to the end (once a process is
  // gone, nothing holds its pipe's write end: the reads end at once).
  void reap_some() {
    for (auto& child : children_) {
      if (child.reaped || child.pid <= 0) continue;
      if (::waitpid(child.pid, &child.status, WNOHANG) != child.pid) continue;
      child.reaped = true;
      while (child.out >= 0) read_report(child);
    }
  }

  // Reaps the processes until all are, or `until` passes, with a short backoff between tries.
  void reap_until(std::chrono::steady_clock::time_point until) {
    auto backoff = std::chrono::milliseconds(1);
    while (true) {
      for (auto& child : children_) {
        if (child.pid > 0 && !child.reaped &&
            ::waitpid(child.pid, &child.status, WNOHANG) == child.pid)
          child.reaped = true;
      }
      const bool all = std::all_of(children_.begin(), children_.end(),
                                   [](const Child& c) { return c.pid <= 0 || c.reaped; });
      if (all || std::chrono::steady_clock::now() >= until) return;
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(50));
    }
  }

  [[noreturn]] void overran(std::chrono::seconds limit) {
    std::vector<std::string> late;
    for (int i = 0; i < 2; ++i) {
      if (!children_[i].reaped)
        late.push_back(fmt::format("process {} (through {})", i + 1, children_[i].mount));
    }
    stop();
    std::vector<std::string> undying;
    for (int i = 0; i < 2; ++i) {
      if (!children_[i].reaped) undying.push_back(fmt::format("process {}", i + 1));
    }
    const std::string stuck =
        undying.empty() ? ""
                        : fmt::format(
                              "; {} did not die within {} s of SIGKILL (stuck in a call the file "
                              "system does not answer?)",
                              fmt::join(undying, " and "), kDyingLimit.count());
    fail(
        fmt::format("expected both processes to finish within {} s, saw {} still running "
                    "(killed){}",
                    limit.count(), fmt::join(late, " and "), stuck));
  }

  std::array<Child, 2> children_;
  bool stopped_ = false;
};

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

  // ------------------------------------------------------------------ lab 4

  // Proves mkdir and unlink, each seen at once through the other mount: a directory made
  // through DIR1 is a directory through DIR2, and starts empty; a file created in it through
  // DIR2 is listed through DIR1; unlinked through DIR1, it is gone through DIR2 (ENOENT), and a
  // second unlink fails with ENOENT. Unlink of a directory fails with EISDIR, mkdir of a name
  // that is taken (by a directory or a file) with EEXIST, and so does an exclusive create of a
  // directory's name.
  void mkdir_and_unlink_seen_by_other_mount() {
    const std::string d = fresh_directory();
    expect_directory(dir2_ + "/" + d);
    expect_listed_once(list_directory(dir2_), dir2_, d);
    expect_listing(dir2_ + "/" + d, {});

    create(dir2_ + "/" + d + "/file");
    mkdir_or_fail(dir2_ + "/" + d + "/sub");
    expect_listing(dir1_ + "/" + d, {"file", "sub"});
    expect_directory(dir1_ + "/" + d + "/sub");
    expect_listing(dir1_ + "/" + d + "/sub", {});

    const std::string file1 = dir1_ + "/" + d + "/file", file2 = dir2_ + "/" + d + "/file";
    unlink_or_fail(file1);
    struct stat st {};
    expect_errno(error_of([&] { return ::stat(file2.c_str(), &st); }), ENOENT,
                 fmt::format("stat {} (unlinked through {})", file2, dir1_));
    expect_listing(dir2_ + "/" + d, {"sub"});
    expect_errno(error_of([&] { return ::unlink(file2.c_str()); }), ENOENT,
                 fmt::format("unlink {} (already unlinked through {})", file2, dir1_));

    for (const auto& dir : {dir1_ + "/" + d + "/sub", dir2_ + "/" + d}) {
      expect_errno(error_of([&] { return ::unlink(dir.c_str()); }), EISDIR,
                   fmt::format("unlink {} (a directory)", dir));
    }
    create(dir1_ + "/" + d + "/taken");
    for (const auto& taken :
         {dir2_ + "/" + d, dir2_ + "/" + d + "/sub", dir2_ + "/" + d + "/taken"}) {
      expect_errno(error_of([&] { return ::mkdir(taken.c_str(), 0755); }), EEXIST,
                   fmt::format("mkdir {} (the name exists)", taken));
    }
    const std::string sub = dir1_ + "/" + d + "/sub";
    const int error = error_of([&] {
      const int fd = ::open(sub.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
      if (fd >= 0) ::close(fd);  // (a success is a failure of the check: errno does not matter)
      return fd;
    });
    expect_errno(error, EEXIST, fmt::format("open {} with O_CREAT | O_EXCL (a directory)", sub));
    expect_directory(sub);
    expect_listing(dir1_ + "/" + d, {"sub", "taken"});
  }

  // Proves concurrent creates of distinct names in one directory lose nothing: two processes
  // create 50 files each at once, one through DIR1 and one through DIR2; all 100 are listed,
  // each once, through both mounts.
  void concurrent_creates_of_distinct_names() {
    const std::string d = fresh_directory();
    in_two_processes([&](int process, const std::string& mount) {
      for (int i = 0; i < kConcurrentFiles; ++i)
        create(fmt::format("{}/{}/p{}-{}", mount, d, process, i));
      return std::string();
    });
    std::set<std::string> names;
    for (int process = 1; process <= 2; ++process) {
      for (int i = 0; i < kConcurrentFiles; ++i) names.insert(fmt::format("p{}-{}", process, i));
    }
    expect_listing(dir1_ + "/" + d, names);
    expect_listing(dir2_ + "/" + d, names);
  }

  // Proves exclusive create is exclusive between clients: two processes create the same 30 names
  // at once with O_CREAT | O_EXCL, in the same order; each name is created by exactly one of
  // them (the other sees EEXIST), and listed once.
  void concurrent_creates_of_same_names() {
    const std::string d = fresh_directory();
    const auto created = in_two_processes([&](int process, const std::string& mount) {
      std::string mine;  // the names this process created, a line each
      for (int i = 0; i < kSameNames; ++i) {
        const std::string name = fmt::format("same-{}", i);
        const std::string path = fmt::format("{}/{}/{}", mount, d, name);
        const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
        const int error = errno;
        if (fd < 0 && error == EEXIST) continue;
        if (fd < 0)
          fail(
              fmt::format("open {} with O_CREAT | O_EXCL: expected it to succeed or fail with {}, "
                          "saw {}",
                          path, errno_text(EEXIST), errno_text(error)));
        Fd(fd).close(path);
        mine += name + "\n";
      }
      return mine;
    });
    std::array<std::set<std::string>, 2> by;
    for (int p = 0; p < 2; ++p) {
      std::size_t at = 0;
      while (at < created[p].size()) {
        const std::size_t end = created[p].find('\n', at);
        by[p].insert(created[p].substr(at, end - at));
        at = end + 1;
      }
    }
    std::set<std::string> names;
    for (int i = 0; i < kSameNames; ++i) {
      const std::string name = fmt::format("same-{}", i);
      names.insert(name);
      const bool one = by[0].contains(name), two = by[1].contains(name);
      if (one && two)
        fail(
            fmt::format("{}/{}: expected it created by exactly one process, saw both "
                        "processes' O_CREAT | O_EXCL succeed",
                        d, name));
      if (!one && !two)
        fail(
            fmt::format("{}/{}: expected it created by exactly one process, saw both fail with "
                        "EEXIST",
                        d, name));
    }
    expect_listing(dir1_ + "/" + d, names);
    expect_listing(dir2_ + "/" + d, names);
  }

  // Proves an open with O_CREAT but without O_EXCL opens the file when the name is taken, as
  // POSIX says, even when the other client made it a moment ago (after this kernel looked the name
  // up and found nothing): two processes creat() the same 100 names at once, in the same order,
  // with O_CREAT | O_WRONLY | O_TRUNC, and write their number (1 or 2) to each. Every open
  // succeeds; each name is listed once, and holds one byte, "1" or "2" (each truncate comes
  // before its own process's write, so the last change to a file is a whole one-byte write).
  void concurrent_creat_of_same_names_without_excl() {
    const std::string d = fresh_directory();
    in_two_processes([&](int process, const std::string& mount) {
      const std::string mark = std::to_string(process);
      for (int i = 0; i < kSameNamesOpened; ++i) {
        const std::string path = fmt::format("{}/{}/creat-{}", mount, d, i);
        const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (fd < 0)
          fail(
              fmt::format("open {} with O_CREAT | O_WRONLY | O_TRUNC (no O_EXCL): expected it "
                          "to succeed whether or not the other process made it first, saw {}",
                          path, errno_text(errno)));
        Fd opened(fd);
        write_all(opened, path, mark);
        opened.close(path);
      }
      return std::string();
    });
    std::set<std::string> names;
    for (int i = 0; i < kSameNamesOpened; ++i) names.insert(fmt::format("creat-{}", i));
    expect_listing(dir1_ + "/" + d, names);
    expect_listing(dir2_ + "/" + d, names);
    for (const auto& name : names) {
      const std::string path = fmt::format("{}/{}/{}", dir2_, d, name);
      const std::string seen = read_file(path);
      if (seen != "1" && seen != "2")
        fail(
            fmt::format("read {}: expected \"1\" or \"2\" (the last of the two processes' "
                        "one-byte writes), saw {}",
                        path, quoted(seen)));
    }
  }

  // Proves a delete racing a create: process 1 creates 30 files through DIR1 while process 2
  // unlinks each through DIR2 as soon as it appears (retrying on ENOENT); the directory ends
  // empty through both mounts.
  void concurrent_create_and_delete() {
    const std::string d = fresh_directory();
    in_two_processes([&](int process, const std::string& mount) {
      for (int i = 0; i < kRacedFiles; ++i) {
        const std::string path = fmt::format("{}/{}/raced-{}", mount, d, i);
        if (process == 1)
          create(path);
        else
          unlink_once_it_appears(path);
      }
      return std::string();
    });
    expect_listing(dir1_ + "/" + d, {});
    expect_listing(dir2_ + "/" + d, {});
  }

  // Proves creates and deletes in sibling directories: two processes each make a directory at
  // once in one parent, create 100 files there and unlink 99 of them; the parent lists both
  // directories, and each lists its one remaining file, through both mounts.
  void concurrent_creates_and_deletes_in_two_directories() {
    const std::string d = fresh_directory();
    in_two_processes([&](int process, const std::string& mount) {
      const std::string mine = fmt::format("{}/{}/p{}", mount, d, process);
      mkdir_or_fail(mine);
      for (int i = 0; i < kChurnFiles; ++i) create(fmt::format("{}/f-{}", mine, i));
      for (int i = 0; i < kChurnFiles - 1; ++i) unlink_or_fail(fmt::format("{}/f-{}", mine, i));
      return std::string();
    });
    const std::string left = fmt::format("f-{}", kChurnFiles - 1);
    for (const auto& dir : {dir1_, dir2_}) {
      expect_listing(dir + "/" + d, {"p1", "p2"});
      for (const auto& sub : {"p1", "p2"}) {
        expect_directory(fmt::format("{}/{}/{}", dir, d, sub));
        expect_listing(fmt::format("{}/{}/{}", dir, d, sub), {left});
        expect_contents(fmt::format("{}/{}/{}/{}", dir, d, sub, left), "");
      }
    }
  }

  // Proves appends of two clients to one file are each whole and none is lost: two processes
  // open it with O_APPEND, one through DIR1 and one through DIR2, and each appends a 3-byte record
  // of its own 20 times, a record per write(2); the file then holds exactly 40 whole records, 20
  // of each.
  void concurrent_appends() {
    const std::string d = fresh_directory();
    const std::string name = d + "/appended";
    create(dir1_ + "/" + name);
    static constexpr std::array<std::string_view, 2> kRecords = {"a1\n", "b2\n"};
    in_two_processes([&](int process, const std::string& mount) {
      const std::string path = mount + "/" + name;
      Fd fd = open_or_fail(path, O_WRONLY | O_APPEND);
      for (int i = 0; i < kAppends; ++i) write_all(fd, path, std::string(kRecords[process - 1]));
      fd.close(path);
      return std::string();
    });
    for (const auto& dir : {dir2_, dir1_}) {
      const std::string path = dir + "/" + name;
      const std::size_t size = 2 * kAppends * kRecords[0].size();
      const auto st = stat_or_fail(path);
      if (static_cast<std::uint64_t>(st.st_size) != size)
        fail(fmt::format("stat {}: expected size {} (2 x {} records of 3 bytes), saw {}", path,
                         size, kAppends, st.st_size));
      const std::string contents = read_file(path);
      if (contents.size() != size)
        fail(fmt::format("read {}: expected {} bytes, saw {}", path, size, contents.size()));
      std::array<int, 2> count{};
      for (std::size_t at = 0; at < size; at += 3) {
        const std::string_view record = std::string_view(contents).substr(at, 3);
        const auto it = std::find(kRecords.begin(), kRecords.end(), record);
        if (it == kRecords.end())
          fail(fmt::format(
              "read {}: expected every 3-byte record to be {} or {}, saw {} at offset {}", path,
              quoted(kRecords[0]), quoted(kRecords[1]), quoted(record), at));
        ++count[static_cast<std::size_t>(it - kRecords.begin())];
      }
      if (count[0] != kAppends || count[1] != kAppends)
        fail(
            fmt::format("read {}: expected {} records of each process, saw {} of process 1 and "
                        "{} of process 2",
                        path, kAppends, count[0], count[1]));
    }
  }

  // Proves a file of several blocks in a directory of lab 4: 20000 bytes written through DIR1 in
  // one write(2) read back whole through DIR2.
  void write_in_new_directory() {
    const std::string d = fresh_directory();
    const std::string name = d + "/data";
    const std::string data = bytes(kDirectoryFile);
    Fd fd = open_or_fail(dir1_ + "/" + name, O_CREAT | O_EXCL | O_WRONLY);
    write_all(fd, dir1_ + "/" + name, data);
    fd.close(dir1_ + "/" + name);
    expect_contents(dir2_ + "/" + name, data);
  }

 private:
  static constexpr int kManyFiles = 50;
  static constexpr int kLookups = 50;
  static constexpr std::size_t kLongName = 40;
  static constexpr std::size_t kMaxName = 255;  // NAME_MAX, and yfs's limit
  static constexpr std::size_t kLargeFile = std::size_t{5} * 1024 * 1024;
  static constexpr std::size_t kChunk = std::size_t{128} * 1024;
  static constexpr int kConcurrentFiles = 50;   // each of two processes creates
  static constexpr int kSameNames = 30;         // both processes create
  static constexpr int kSameNamesOpened = 100;  // both processes creat() without O_EXCL
  static constexpr int kRacedFiles = 30;        // one process creates, the other deletes
  static constexpr int kChurnFiles = 100;       // each process creates, and deletes all but one
  static constexpr int kAppends = 20;           // records each process appends
  static constexpr std::size_t kDirectoryFile = 20000;
  // How long a deleting process retries the unlink of a name that has not appeared yet.
  static constexpr auto kAppearLimit = std::chrono::seconds(30);

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

  // Makes a fresh directory through DIR1, for a lab 4 check to work in; returns its name.
  std::string fresh_directory() {
    const std::string name = fresh_name();
    mkdir_or_fail(dir1_ + "/" + name);
    return name;
  }

  static void expect_directory(const std::string& path) {
    const auto st = stat_or_fail(path);
    if (!S_ISDIR(st.st_mode))
      fail(fmt::format("stat {}: expected a directory, saw mode 0{:o}", path, st.st_mode));
  }

  // Runs `body` in two processes at once, process 1 through DIR1 and process 2 through DIR2;
  // returns what each returned, or fails with the first failure (or when they overrun).
  std::array<std::string, 2> in_two_processes(const TwoProcesses::Body& body) {
    TwoProcesses processes({dir1_, dir2_}, body);
    return processes.wait(kConcurrentLimit);
  }

  // Unlinks `path`, which another client is about to create: retries while it fails with ENOENT
  // (with a short backoff), for at most kAppearLimit.
  static void unlink_once_it_appears(const std::string& path) {
    const auto until = std::chrono::steady_clock::now() + kAppearLimit;
    auto backoff = std::chrono::microseconds(500);
    while (true) {
      const int error = error_of([&] { return ::unlink(path.c_str()); });
      if (error == 0) return;
      if (error != ENOENT)
        fail(
            fmt::format("unlink {}: expected it to succeed (or ENOENT until it is created), "
                        "saw {}",
                        path, errno_text(error)));
      if (std::chrono::steady_clock::now() >= until)
        fail(
            fmt::format("unlink {}: expected it to appear (the other process creates it), saw "
                        "ENOENT for {} s",
                        path, kAppearLimit.count()));
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::microseconds(20000));
    }
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

// The lab 4 checks: each works in a directory of its own; all but the first and the last run two
// processes at once, process 1 through DIR1 and process 2 through DIR2.
constexpr Check kLab4[] = {
    {"mkdir and unlink in DIR1 are seen in DIR2; unlink ENOENT when gone, EISDIR of a directory; "
     "mkdir EEXIST",
     &Tester::mkdir_and_unlink_seen_by_other_mount},
    {"two processes create 50 files each in one directory at once: all 100 listed once, in both",
     &Tester::concurrent_creates_of_distinct_names},
    {"two processes create the same 30 names at once: each created by exactly one, listed once",
     &Tester::concurrent_creates_of_same_names},
    {"two processes creat() the same 100 names at once without O_EXCL: every open succeeds, each "
     "name listed once, holding one process's write",
     &Tester::concurrent_creat_of_same_names_without_excl},
    {"one process creates 30 files while the other unlinks each as it appears: none is left",
     &Tester::concurrent_create_and_delete},
    {"two processes each create 100 files in a new directory of one parent and unlink 99: one "
     "left in each",
     &Tester::concurrent_creates_and_deletes_in_two_directories},
    {"two processes append 3-byte records 20 times each with O_APPEND: 40 whole records, 20 each",
     &Tester::concurrent_appends},
    {"20000 bytes written in a new directory in DIR1 read back whole in DIR2",
     &Tester::write_in_new_directory},
};

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string lab = argc == 4 ? argv[1] : "";
  if (lab != "lab2" && lab != "lab3" && lab != "lab4") {
    std::fprintf(stderr,
                 "usage: yfs_tester lab2|lab3|lab4 DIR1 DIR2\n"
                 "  checks a yfs file system mounted at DIR1 and at DIR2 (two clients of one\n"
                 "  extent server, e.g. ./yfs1 and ./yfs2 of ./dsys yfs start):\n"
                 "  lab2 creates, looks up and lists files; lab3 also writes, reads and truncates\n"
                 "  them; lab4 also makes directories and unlinks files, from two processes at\n"
                 "  once, one through each mount. Each runs the checks of the labs before it.\n");
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
  if (lab != "lab2") checks.insert(checks.end(), std::begin(kLab3), std::end(kLab3));
  if (lab == "lab4") checks.insert(checks.end(), std::begin(kLab4), std::end(kLab4));
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
