// ./dsys bench fs: the latency of single file-system operations through real yfs mounts (one per
// lab given), side by side with the same operations through a minimal in-memory FUSE file system
// (bench_memfs, bench/memfs.cpp) and through tmpfs, and the ratios.
//
// memfs is served as yfs is: libfuse3's low-level API on one thread, with nothing cached in the
// kernel (entry and attribute timeouts 0, direct_io). So yfs/memfs is what yfs itself costs (its
// RPCs to the extent server, encoding directories and attributes) over the bare FUSE round trip
// to a process, and yfs/tmpfs is what it costs over the kernel's own in-memory file system.
//
// Each file system is mounted on a mount point of its own under a fresh temporary directory, and
// gets the same sequence of operations in its root (yfs has no mkdir before lab 4). Each
// operation is timed alone with the steady clock, and the median of `samples` (300, or --samples)
// is reported. The file systems take turns, samples / kRounds operations at a time (as bench_rpc
// alternates), so that other work on the machine for a while slows them all alike. In order:
//   - first, untimed: kDirEntries files are made, one of them holding 4 KiB;
//   - readdir (100): opendir, readdir to the end, closedir of the root holding those entries;
//   - stat of the 4 KiB file; 4 KiB write: pwrite of 4096 bytes at offset 0 of it; 4 KiB read:
//     pread of the same (on descriptors opened beforehand; kWarmup untimed rounds first);
//   - create: open(O_CREAT | O_EXCL) and close of a new file, so the root grows from 100 to
//     100 + samples entries as they go (yfs rereads and rewrites the whole directory each time);
//   - mkdir of a new directory, after the creates; "-" when yfs answers ENOSYS (before lab 4), as
//     for write and read before lab 3.
//
// The yfs programs (extent_server, lock_server if the directory has one, yfs_client) come from
// each directory given with --programs or --replicated (whose lock_server is a replica, started
// as a group of one), named in the table by the directory's last component (./dsys bench fs gives
// every lab of labs.json that has a yfs_client of its own, reference code first: labs 2-6, and 8
// with --replicated). Each lab's yfs is a cluster of its own. They run as by hand, on 127.0.0.1,
// each in a process group of its own with its output in a log file, shown if it fails.
//
// Everything runs on one CPU (the bench and every program it starts: they inherit its affinity),
// the first the bench may use, unless --all-cpus: each operation is a ping-pong between the bench
// and a FUSE server, and when the two sit on different CPUs every answer wakes a sleeping CPU,
// which on a virtual machine costs tens of microseconds and varies from run to run far more than
// what is measured. On one CPU, every file system pays only for its own work and the kernel's.
//
// Everything started is stopped and everything mounted is unmounted at the end, also on an error
// or on SIGINT/SIGTERM/SIGHUP; a program gets SIGTERM if the bench dies. No wait is a fixed
// sleep: a mount is waited for by polling until the mount point's st_dev differs from its
// parent's, under a deadline, and a watchdog kills the programs of a file system that stops
// answering (the kernel then fails the operations pending on its mount), so the bench ends.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kDefaultSamples = 300;  // timed operations of each kind, per file system
int samples = kDefaultSamples;    // --samples N (a brief run: CI's smoke run of ./dsys bench fs)
constexpr int kRounds = 3;        // the file systems take turns, kSamples / kRounds at a time
constexpr int kWarmup = 20;       // untimed rounds before stat, read, write and readdir
constexpr int kDirEntries = 100;  // entries of the directory that readdir lists
constexpr std::size_t kBlock = 4096;
constexpr auto kStartLimit = 20s;  // for the programs of a file system to listen and mount
constexpr auto kStopLimit = 10s;   // for a program to exit after SIGTERM (then SIGKILL)
constexpr auto kRoundLimit = 60s;  // for one round of one operation on one file system
constexpr auto kSlack = 5s;        // the watchdog's, past a deadline that a wait watches itself
constexpr auto kPoll = 2ms;        // between two looks at something awaited

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string error_text(int error) {
  return std::generic_category().message(error);
}

volatile std::sig_atomic_t g_signal = 0;  // the last SIGINT, SIGTERM or SIGHUP, else 0
extern "C" void on_signal(int sig) {
  g_signal = sig;
}

void check_interrupted() {
  if (g_signal != 0) throw Failure(fmt::format("stopped by signal {}", int{g_signal}));
}

// Throws for an operation that failed with errno (or for the signal that interrupted it).
[[noreturn]] void fail_errno(std::string_view what, std::string_view path) {
  const int error = errno;
  check_interrupted();
  throw Failure(fmt::format("{} {}: {}", what, path, error_text(error)));
}

// The last `count` lines of a file, each indented, for an error message.
std::string tail_of(const std::string& path, std::size_t count = 10) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  std::string text;
  for (std::size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i)
    text += "\n    " + lines[i];
  return text.empty() ? " (nothing)" : text;
}

// Kills the programs of a file system that takes longer than allowed, each with its process
// group (what it started itself, such as a real server behind a wrapper). SIGKILL closes their
// /dev/fuse descriptor, so the kernel fails the operations waiting on the mount (ECONNABORTED) and
// the bench's thread, blocked in one of them, goes on to report and clean up.
// Thread contract: arm, disarm and fired are called by the bench's thread; the watchdog's own
// thread only waits and kills. The processes are never reaped while armed (see Child::exited).
class Watchdog {
 public:
  Watchdog() {
    // SIGINT and friends must reach the bench's thread (to interrupt what it waits on).
    sigset_t block, old;
    sigemptyset(&block);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&block, sig);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    thread_ = std::thread([this] { run(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Until disarm(): after `limit`, SIGKILL `pids` and remember `what` as having taken too long.
  void arm(std::string what, Clock::duration limit, std::vector<pid_t> pids) {
    {
      std::lock_guard lock(mutex_);
      what_ = std::move(what);
      deadline_ = Clock::now() + limit;
      pids_ = std::move(pids);
      armed_ = true;
      fired_.reset();
    }
    cv_.notify_all();
  }
  void disarm() {
    std::lock_guard lock(mutex_);
    armed_ = false;
  }
  // What took too long, if the watchdog fired since the last arm().
  std::optional<std::string> fired() const {
    std::lock_guard lock(mutex_);
    return fired_;
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!quit_) {
      if (!armed_) {
        cv_.wait(lock);
      } else if (Clock::now() < deadline_) {
        cv_.wait_until(lock, deadline_);
      } else {
        for (pid_t pid : pids_) ::kill(-pid, SIGKILL);  // its process group (see Child)
        fired_ = what_;
        armed_ = false;
      }
    }
  }
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool quit_ = false;
  bool armed_ = false;
  std::string what_;
  Clock::time_point deadline_;
  std::vector<pid_t> pids_;
  std::optional<std::string> fired_;
  std::thread thread_;
};

// One program of a file system, started in a process group of its own (a Ctrl-C reaches only
// the bench, which stops the programs in order), with stdin from /dev/null and stdout and
// stderr into a log file. It gets SIGTERM if the bench dies. The destructor stops it.
class Child {
 public:
  Child(std::string name, std::vector<std::string> argv, std::string log)
      : name_(std::move(name)), log_(std::move(log)) {
    if (::access(argv[0].c_str(), X_OK) != 0) fail_errno("cannot run", argv[0]);
    const int out = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) fail_errno("cannot write", log_);
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0) {
      ::close(out);
      fail_errno("cannot read", "/dev/null");
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {  // only async-signal-safe calls until exec
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);  // the bench died before prctl
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execv(args[0], args.data());
      constexpr char kMessage[] = "bench_fs: exec failed\n";
      (void)!::write(2, kMessage, sizeof kMessage - 1);
      ::_exit(127);
    }
    const int fork_errno = errno;
    ::close(in);
    ::close(out);
    if (pid_ < 0) {
      errno = fork_errno;
      fail_errno("cannot fork for", name_);
    }
    ::setpgid(pid_, pid_);  // (also done by the child; whichever runs first)
  }
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }

  // Whether it has exited. It is not reaped here, so its pid cannot be reused under the watchdog.
  bool exited() {
    if (status_) return true;
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == pid_;
  }

  // The first line of its output holding `text`; throws if it exits or `deadline` passes first.
  std::string wait_for_line(std::string_view text, Clock::time_point deadline) {
    while (true) {
      std::ifstream in(log_);
      // A line is whole once its newline is read, which leaves the stream short of its end.
      for (std::string line; std::getline(in, line);)
        if (line.find(text) != std::string::npos && !in.eof()) return line;
      check_interrupted();
      if (exited())
        throw Failure(fmt::format("{} exited before printing '{}'; its last words:{}", name_, text,
                                  last_words()));
      if (Clock::now() >= deadline)
        throw Failure(fmt::format("{} did not print '{}' in time; its last words:{}", name_, text,
                                  last_words()));
      std::this_thread::sleep_for(kPoll);
    }
  }

  // SIGTERM, then SIGKILL if it has not exited within kStopLimit; and SIGKILL to whatever it
  // left in its process group. Its exit status (128 + the signal if a signal ended it), or
  // nullopt if it cannot be reaped.
  std::optional<int> stop() {
    if (!status_) {
      ::kill(pid_, SIGTERM);
      if (!reap(Clock::now() + kStopLimit)) {
        ::kill(-pid_, SIGKILL);
        reap(Clock::now() + kStopLimit);
      }
    }
    return status_;
  }

  // Waits up to `limit` for it to exit by itself, then stop()s it.
  std::optional<int> wait(Clock::duration limit) {
    if (!status_) reap(Clock::now() + limit);
    return stop();
  }

  std::string last_words() const { return tail_of(log_); }

 private:
  // Once it has exited: SIGKILL to what is left of its process group (while its zombie keeps
  // the group's id from being reused), then reap it.
  bool reap(Clock::time_point deadline) {
    while (!exited()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(kPoll);
    }
    ::kill(-pid_, SIGKILL);
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    if (r != pid_) return false;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  }
  std::string name_;
  std::string log_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Whether `path` (absolute, without symbolic links) is a mount point now, per the kernel's
// mount table: this never touches the file system itself, so it cannot hang on a dead mount.
bool is_mounted(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    fields >> id >> parent >> device >> root >> mount_point;
    std::string unescaped;  // spaces and the like appear as \040 (octal)
    for (std::size_t i = 0; i < mount_point.size(); ++i) {
      if (mount_point[i] == '\\' && i + 3 < mount_point.size()) {
        unescaped += static_cast<char>(std::stoi(mount_point.substr(i + 1, 3), nullptr, 8));
        i += 3;
      } else {
        unescaped += mount_point[i];
      }
    }
    if (unescaped == path) return true;
  }
  return false;
}

// Polls until `path` is a mount point that answers: stat(path).st_dev differs from that of its
// parent directory. Throws if `server` (when there is one) exits or `deadline` passes first.
void wait_for_mount(const std::string& path, Child* server, Clock::time_point deadline) {
  const std::string parent = std::filesystem::path(path).parent_path();
  while (true) {
    struct stat mounted {};
    struct stat above {};
    if (::stat(path.c_str(), &mounted) == 0 && ::stat(parent.c_str(), &above) == 0 &&
        mounted.st_dev != above.st_dev)
      return;
    check_interrupted();
    if (server != nullptr && server->exited())
      throw Failure(fmt::format("{} exited before {} was mounted; its last words:{}",
                                server->name(), path, server->last_words()));
    if (Clock::now() >= deadline) throw Failure(fmt::format("{} was not mounted in time", path));
    std::this_thread::sleep_for(kPoll);
  }
}

// The port in a line such as "extent_server: listening on 127.0.0.1:41235".
std::string port_in(const std::string& line, const std::string& program) {
  const auto at = line.find("listening on");
  const auto colon = at == std::string::npos ? at : line.find(':', at);
  std::string port;
  for (std::size_t i = colon == std::string::npos ? line.size() : colon + 1;
       i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i)
    port += line[i];
  if (port.empty()) throw Failure(fmt::format("no port in {}'s line '{}'", program, line));
  return port;
}

// A file system under test: where it is mounted and the programs that serve it.
struct FileSystem {
  enum class Kind { fuse, tmpfs, directory };
  std::string label;  // yfs, memfs, tmpfs
  Kind kind = Kind::fuse;
  std::string path;  // its mount point (a plain directory for Kind::directory)
  std::string note;  // what it is, for the report
  std::vector<std::unique_ptr<Child>> programs;  // in the order started; the last serves FUSE
  std::vector<pid_t> pids() const {
    std::vector<pid_t> v;
    for (const auto& p : programs) v.push_back(p->pid());
    return v;
  }
};

// One run of the bench: a fresh temporary directory holding a mount point for each file system
// and the programs' logs. The destructor stops every program and unmounts everything, never
// throwing; what it cannot undo it reports on stderr.
class Run {
 public:
  Run() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/dsys-bench-fs-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) fail_errno("cannot make a directory like", pattern);
    dir_ = std::filesystem::canonical(pattern).string();  // as /proc/self/mountinfo spells it
  }
  ~Run() {
    watchdog.disarm();
    for (auto it = file_systems_.rbegin(); it != file_systems_.rend(); ++it) take_down(**it);
    for (const auto& log : logs_) ::unlink(log.c_str());
    for (const auto& disk : disks_) {
      std::error_code ignored;
      std::filesystem::remove_all(disk, ignored);
    }
    if (::rmdir(dir_.c_str()) != 0)
      std::fprintf(stderr, "bench_fs: left %s behind: %s\n", dir_.c_str(),
                   error_text(errno).c_str());
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  // yfs from `programs`: extent_server, lock_server (if there is one), yfs_client. A replicated
  // lock_server (lab 8's: MASTER_PORT MY_PORT --dir D) runs as a group of one replica, its disk
  // in this run's directory, and the client locks through it once its first view is formed.
  FileSystem& mount_yfs(const std::string& programs, const std::string& label, bool replicated) {
    FileSystem& fs = add(label, FileSystem::Kind::fuse);
    const auto deadline = Clock::now() + kStartLimit;
    const std::string extent_port =
        port_in(start(fs, programs, "extent_server", {"0"}).wait_for_line("listening on", deadline),
                "extent_server");
    std::string lock_port = "1";  // unused before lab 4
    const bool lock_server = ::access((programs + "/lock_server").c_str(), X_OK) == 0;
    if (lock_server && replicated) {
      const std::string disk = dir_ + "/" + label + "-replica";
      if (::mkdir(disk.c_str(), 0700) != 0) fail_errno("cannot make", disk);
      disks_.push_back(disk);
      Child& replica = start(fs, programs, "lock_server", {"0", "0", "--dir", disk});
      lock_port = port_in(replica.wait_for_line("listening on", deadline), "lock_server");
      replica.wait_for_line("view 1:", deadline);
    } else if (lock_server) {
      lock_port =
          port_in(start(fs, programs, "lock_server", {"0"}).wait_for_line("listening on", deadline),
                  "lock_server");
    }
    Child& client = start(fs, programs, "yfs_client", {fs.path, extent_port, lock_port});
    watchdog.arm("mounting " + label, deadline - Clock::now() + kSlack, fs.pids());
    client.wait_for_line("mounted", deadline);
    wait_for_mount(fs.path, &client, deadline);
    watchdog.disarm();
    fs.note = programs + (!lock_server ? ": extent_server and yfs_client (lock port 1: unused)"
                          : replicated ? ": extent_server, one lock_server replica and yfs_client"
                                       : ": extent_server, lock_server and yfs_client");
    return fs;
  }

  FileSystem& mount_memfs(const std::string& program) {
    FileSystem& fs = add("memfs", FileSystem::Kind::fuse);
    const auto deadline = Clock::now() + kStartLimit;
    fs.programs.push_back(std::make_unique<Child>(
        "bench_memfs", std::vector<std::string>{program, fs.path}, log_for("bench_memfs")));
    watchdog.arm("mounting memfs", kStartLimit + kSlack, fs.pids());
    wait_for_mount(fs.path, fs.programs.back().get(), deadline);
    watchdog.disarm();
    fs.note = program + ": in memory, one libfuse3 thread, no kernel caching";
    return fs;
  }

  // tmpfs mounted here as root; where that fails, a directory under /dev/shm (say so).
  FileSystem& mount_tmpfs() {
    FileSystem& fs = add("tmpfs", FileSystem::Kind::tmpfs);
    if (::mount("dsys-bench-tmpfs", fs.path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                "size=64m,mode=0755") == 0) {
      fs.note = "mount -t tmpfs";
      wait_for_mount(fs.path, nullptr, Clock::now() + kStartLimit);
      return fs;
    }
    const std::string why = error_text(errno);
    std::string shm = "/dev/shm/dsys-bench-fs-XXXXXX";
    if (::mkdtemp(shm.data()) == nullptr) fail_errno("cannot make a directory like", shm);
    ::rmdir(fs.path.c_str());
    fs.kind = FileSystem::Kind::directory;
    fs.path = shm;
    fs.note = fmt::format("{} (mount -t tmpfs failed: {}; /dev/shm's tmpfs instead)", shm, why);
    return fs;
  }

  Watchdog watchdog;
  bool failed = false;  // set when the run has failed and said why (with the last words)

 private:
  FileSystem& add(std::string label, FileSystem::Kind kind) {
    auto fs = std::make_unique<FileSystem>();
    fs->label = std::move(label);
    fs->kind = kind;
    fs->path = dir_ + "/" + fs->label;
    if (::mkdir(fs->path.c_str(), 0755) != 0) fail_errno("cannot make", fs->path);
    file_systems_.push_back(std::move(fs));
    return *file_systems_.back();
  }
  std::string log_for(const std::string& program) {
    logs_.push_back(dir_ + "/" + program + ".log");
    return logs_.back();
  }
  Child& start(FileSystem& fs, const std::string& programs, const std::string& program,
               std::vector<std::string> args) {
    args.insert(args.begin(), programs + "/" + program);
    fs.programs.push_back(
        std::make_unique<Child>(program, std::move(args), log_for(fs.label + "-" + program)));
    return *fs.programs.back();
  }
  // Stops a file system's programs, its FUSE server first (which unmounts), then unmounts
  // whatever is left mounted and removes the mount point.
  void take_down(FileSystem& fs) noexcept {
    try {
      for (auto it = fs.programs.rbegin(); it != fs.programs.rend(); ++it) {
        const auto status = (*it)->stop();
        if (!status)
          std::fprintf(stderr, "bench_fs: %s (pid %d) would not exit\n", (*it)->name().c_str(),
                       static_cast<int>((*it)->pid()));
        else if (*status != 0)
          std::fprintf(stderr, "bench_fs: %s exited with status %d when stopped%s%s\n",
                       (*it)->name().c_str(), *status, failed ? "" : "; its last words:",
                       failed ? "" : (*it)->last_words().c_str());
      }
      if (fs.kind == FileSystem::Kind::directory) {
        std::error_code ignored;
        std::filesystem::remove_all(fs.path, ignored);  // not a mount: nothing else lies below
        return;
      }
      if (is_mounted(fs.path) && ::umount2(fs.path.c_str(), 0) != 0 &&
          ::umount2(fs.path.c_str(), MNT_DETACH) != 0 && fs.kind == FileSystem::Kind::fuse) {
        // Not root: fusermount3 (setuid) may unmount a FUSE mount of ours.
        Child("fusermount3", {"/usr/bin/fusermount3", "-u", "-z", fs.path}, log_for("fusermount3"))
            .wait(kStopLimit);
      }
      if (is_mounted(fs.path))
        std::fprintf(stderr, "bench_fs: could not unmount %s\n", fs.path.c_str());
      else
        ::rmdir(fs.path.c_str());  // never removes anything below: a mount point is empty
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_fs: taking down %s: %s\n", fs.label.c_str(), e.what());
    }
  }

  std::string dir_;
  std::vector<std::unique_ptr<FileSystem>> file_systems_;
  std::vector<std::string> logs_;
  std::vector<std::string> disks_;  // the replicas' --dir, removed with what is in them
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void create_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno("create", path);
  if (::close(fd) != 0) fail_errno("close", path);
}

// Paths of `count` entries of `dir` ("dir/f007"), made before timing so that no timed operation
// formats one.
std::vector<std::string> names(const std::string& dir, char prefix, int count) {
  std::vector<std::string> v;
  for (int i = 0; i < count; ++i) v.push_back(fmt::format("{}/{}{:03}", dir, prefix, i));
  return v;
}

// The operations of the header comment on one file system, and what they need: its root holds
// kDirEntries files, the first (`file_`) with kBlock bytes, open on `fd_`. Each operation throws
// a Failure if the file system fails it or answers wrongly.
class Workload {
 public:
  explicit Workload(const std::string& root)
      : root_(root),
        files_(names(root, 'f', kDirEntries)),
        file_(files_[0]),
        created_(names(root, 'c', samples)),
        made_(names(root, 'd', samples)),
        block_(kBlock, '\0'),
        got_(kBlock, '\0') {
    for (std::size_t i = 0; i < kBlock; ++i) block_[i] = static_cast<char>('a' + i % 26);
    for (const auto& path : files_) create_file(path);
    fd_ = ::open(file_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) fail_errno("open", file_);
    // yfs before lab 3 has no write: its reads and writes are left out ("-").
    if (::pwrite(fd_, block_.data(), kBlock, 0) < 0 && errno == ENOSYS) {
      has_io_ = false;
    } else {
      write();
    }
  }
  bool has_io() const { return has_io_; }
  ~Workload() { ::close(fd_); }
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  void readdir() {
    DIR* d = ::opendir(root_.c_str());
    if (d == nullptr) fail_errno("opendir", root_);
    int entries = 0;
    while (true) {
      errno = 0;
      const dirent* e = ::readdir(d);
      if (e == nullptr) break;
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) ++entries;
    }
    if (errno != 0) fail_errno("readdir", root_);
    ::closedir(d);
    if (entries != kDirEntries)
      throw Failure(
          fmt::format("readdir of {} listed {} entries, not {}", root_, entries, kDirEntries));
  }
  void stat() {
    struct stat st {};
    if (::stat(file_.c_str(), &st) != 0) fail_errno("stat", file_);
    const off_t size = has_io_ ? static_cast<off_t>(kBlock) : 0;
    if (st.st_size != size)
      throw Failure(fmt::format("stat of {} says {} bytes, not {}", file_, st.st_size, size));
  }
  void write() {
    if (::pwrite(fd_, block_.data(), kBlock, 0) != static_cast<ssize_t>(kBlock))
      fail_errno("pwrite", file_);
  }
  void read() {
    if (::pread(fd_, got_.data(), kBlock, 0) != static_cast<ssize_t>(kBlock))
      fail_errno("pread", file_);
  }
  // Whether the last read() got what write() wrote (checked outside the timing).
  void check_read() const {
    if (got_ != block_) throw Failure(fmt::format("{} does not read back what was written", file_));
  }
  void create() { create_file(created_.at(creates_++)); }
  // Whether the file system has mkdir: false if it answers ENOSYS (yfs before lab 4).
  bool probe_mkdir() {
    const std::string probe = root_ + "/dprobe";
    if (::mkdir(probe.c_str(), 0755) == 0) return true;
    if (errno != ENOSYS) fail_errno("mkdir", probe);
    return false;
  }
  void mkdir() {
    const std::string& path = made_.at(mkdirs_++);
    if (::mkdir(path.c_str(), 0755) != 0) fail_errno("mkdir", path);
  }

 private:
  std::string root_;
  std::vector<std::string> files_;
  const std::string& file_;
  std::vector<std::string> created_, made_;
  std::size_t creates_ = 0, mkdirs_ = 0;
  std::string block_, got_;
  int fd_ = -1;
  bool has_io_ = true;
};

// One file system under measurement: its workload and its samples of each operation, in us.
struct Subject {
  const FileSystem* fs;
  std::unique_ptr<Workload> work;
  std::vector<std::vector<double>> samples;  // by operation, as in kOperations
  bool has_mkdir = true;
};

struct Operation {
  const char* name;
  void (Workload::*run)();
  int warmup;       // untimed calls before each round (none for those that add entries)
  bool mkdir;       // skipped where the file system has no mkdir
  bool io = false;  // skipped where it has no write (yfs before lab 3)
};

// In the order measured (readdir first: it lists the files made before the creates).
constexpr Operation kOperations[] = {
    {"readdir (100)", &Workload::readdir, kWarmup, false},
    {"stat", &Workload::stat, kWarmup, false},
    {"4 KiB write", &Workload::write, kWarmup, false, true},
    {"4 KiB read", &Workload::read, kWarmup, false, true},
    {"create", &Workload::create, 0, false},
    {"mkdir", &Workload::mkdir, 0, true},
};
constexpr std::size_t kOperationCount = std::size(kOperations);

// Each operation `samples` times on each file system, in kRounds rounds that take turns between
// the file systems (as bench_rpc does), so that a machine busy with something else for a while
// slows them all alike. Each round runs under the watchdog.
void measure(Run& run, std::vector<Subject>& subjects) {
  for (auto& s : subjects) {
    run.watchdog.arm("preparing " + s.fs->label, kRoundLimit, s.fs->pids());
    s.work = std::make_unique<Workload>(s.fs->path);
    s.samples.assign(kOperationCount, {});
    run.watchdog.disarm();
  }
  for (std::size_t op = 0; op < kOperationCount; ++op) {
    const Operation& o = kOperations[op];
    for (int round = 0; round < kRounds; ++round) {
      for (auto& s : subjects) {
        run.watchdog.arm(fmt::format("{} on {}", o.name, s.fs->label), kRoundLimit, s.fs->pids());
        Workload& w = *s.work;
        if (o.mkdir && round == 0) s.has_mkdir = w.probe_mkdir();
        if ((!o.mkdir || s.has_mkdir) && (!o.io || w.has_io())) {
          for (int i = 0; i < o.warmup; ++i) (w.*o.run)();
          for (int i = 0; i < samples / kRounds; ++i) {
            check_interrupted();
            const auto start = Clock::now();
            (w.*o.run)();
            s.samples[op].push_back(
                std::chrono::duration<double, std::micro>(Clock::now() - start).count());
          }
          if (o.run == &Workload::read) w.check_read();
        }
        run.watchdog.disarm();
      }
    }
  }
}

std::string us(std::optional<double> v) {
  return v ? fmt::format("{:.1f}", *v) : "-";
}
std::string ratio(std::optional<double> a, std::optional<double> b) {
  return a && b ? fmt::format("{:.1f}x", *a / *b) : "-";
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_fs --memfs BENCH_MEMFS [--programs DIR]... [--replicated DIR]...\n"
               "                [--samples N] [--all-cpus]\n"
               "  each DIR holds extent_server, yfs_client and maybe lock_server (a lab's\n"
               "  programs; its last component names its column); with --replicated, that\n"
               "  lock_server is a replica (lab 8's). Without any, only memfs and tmpfs are\n"
               "  measured. Needs root for tmpfs (else /dev/shm). N timed operations of each\n"
               "  kind (a multiple of 3, default 300). Everything runs on one CPU unless\n"
               "  --all-cpus.\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> programs;
  std::vector<bool> replicated;
  std::optional<std::string> memfs;
  bool all_cpus = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--all-cpus") {
      all_cpus = true;
    } else if ((arg == "--programs" || arg == "--replicated") && i + 1 < argc) {
      programs.push_back(argv[++i]);
      replicated.push_back(arg == "--replicated");
    } else if (arg == "--samples" && i + 1 < argc) {
      const std::string n = argv[++i];
      samples = n.empty() || n.size() > 5 || n.find_first_not_of("0123456789") != std::string::npos
                    ? 0
                    : std::stoi(n);
      if (samples < kRounds || samples % kRounds != 0) {
        std::fprintf(stderr, "bench_fs: --samples %s: a multiple of %d, at least %d\n", n.c_str(),
                     kRounds, kRounds);
        return 2;
      }
    } else if (arg == "--memfs" && i + 1 < argc) {
      memfs = argv[++i];
    } else {
      return usage();
    }
  }
  if (!memfs) return usage();
  std::vector<std::string> labels;
  for (const auto& dir : programs) {
    std::filesystem::path path(dir);
    while (!path.empty() && path.filename().empty()) path = path.parent_path();  // "lab6/"
    const std::string label = path.filename().string();
    if (label.empty() || label == "memfs" || label == "tmpfs" ||
        std::find(labels.begin(), labels.end(), label) != labels.end()) {
      std::fprintf(stderr,
                   "bench_fs: --programs/--replicated %s: its name '%s' is taken or empty\n",
                   dir.c_str(), label.c_str());
      return 2;
    }
    labels.push_back(label);
  }

  std::string cpus = "on every CPU (--all-cpus)";
  if (!all_cpus) {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (::sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
      int first = 0;
      while (first < CPU_SETSIZE && !CPU_ISSET(first, &allowed)) ++first;
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(first, &one);
      if (first < CPU_SETSIZE && ::sched_setaffinity(0, sizeof one, &one) == 0)
        cpus = fmt::format("all on CPU {} (see bench/fs_bench.cpp; --all-cpus to spread)", first);
    }
  }

  struct sigaction action {};
  action.sa_handler = on_signal;  // no SA_RESTART: a wait in progress ends with EINTR
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &action, nullptr);

  std::optional<Run> run;
  try {
    run.emplace();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_fs: %s\n", e.what());
    return 1;
  }
  try {
    std::vector<const FileSystem*> yfs;
    for (std::size_t i = 0; i < programs.size(); ++i)
      yfs.push_back(&run->mount_yfs(programs[i], labels[i], replicated[i]));
    const FileSystem& mem = run->mount_memfs(*memfs);
    const FileSystem& tmp = run->mount_tmpfs();
    std::vector<Subject> subjects;
    for (const FileSystem* fs : yfs) subjects.push_back(Subject{fs, nullptr, {}, true});
    subjects.push_back(Subject{&mem, nullptr, {}, true});
    subjects.push_back(Subject{&tmp, nullptr, {}, true});
    measure(*run, subjects);

    fmt::print(
        "file-system operation latency: the median of {} of each, in µs, in the root of each\n"
        "mount, in {} rounds taking turns; memfs is served as yfs is, with nothing cached in the\n"
        "kernel (see bench/fs_bench.cpp); {}\n",
        samples, kRounds, cpus);
    if (yfs.empty()) fmt::print("  yfs:   not measured (no --programs)\n");
    for (const FileSystem* fs : yfs) fmt::print("  {}:  {}\n", fs->label, fs->note);
    fmt::print("  memfs: {}\n", mem.note);
    fmt::print("  tmpfs: {}\n", tmp.note);
    auto median_of = [&](const FileSystem* fs, std::size_t op) -> std::optional<double> {
      for (const auto& s : subjects)
        if (s.fs == fs && !s.samples[op].empty()) return median(s.samples[op]);
      return std::nullopt;
    };
    std::string header = fmt::format("{:<14}", "operation");
    for (const FileSystem* fs : yfs) header += fmt::format("  {:>9}", fs->label + " µs");
    header += fmt::format("  {:>9}  {:>9}", "memfs µs", "tmpfs µs");
    for (const FileSystem* fs : yfs) header += fmt::format("  {:>11}", fs->label + "/memfs");
    fmt::print("{}\n", header);
    for (const char* name :
         {"create", "4 KiB write", "4 KiB read", "mkdir", "stat", "readdir (100)"}) {
      std::size_t op = 0;
      while (std::string_view(kOperations[op].name) != name) ++op;
      const auto b = median_of(&mem, op), c = median_of(&tmp, op);
      std::string line = fmt::format("{:<14}", name);
      for (const FileSystem* fs : yfs) line += fmt::format("  {:>9}", us(median_of(fs, op)));
      line += fmt::format("  {:>9}  {:>9}", us(b), us(c));
      for (const FileSystem* fs : yfs) {
        const auto a = median_of(fs, op);
        // "-": that yfs answered ENOSYS (no write before lab 3, no mkdir before lab 4)
        line += fmt::format("  {:>11}", ratio(a, b));
      }
      fmt::print("{}\n", line);
    }
    std::fflush(stdout);
  } catch (const std::exception& e) {
    if (const auto what = run->watchdog.fired())
      std::fprintf(stderr, "bench_fs: %s took too long: the watchdog killed its programs\n",
                   what->c_str());
    std::fprintf(stderr, "bench_fs: %s\n", e.what());
    run->failed = true;
    return 1;
  }
  return 0;
}
