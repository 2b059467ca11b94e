#include "dsys/testing/yfs_cluster.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace dsys::testing {

namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kDirPrefix = "/tmp/dsys-yfs-";
constexpr std::size_t kTailLines = 20;      // of a program's output, in a failure's message
constexpr auto kStopLimit = 10s;            // for SIGTERMed processes to exit, before SIGKILL
constexpr auto kUnmountProgramLimit = 10s;  // for fusermount3 or umount to finish

core::Duration left_until(SteadyClock::time_point deadline) {
  return std::max<core::Duration>(deadline - SteadyClock::now(), core::Duration::zero());
}

// The last `n` lines of `text` that are not blank, each indented.
std::string tail(const std::string& text, std::size_t n) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);
  }
  if (lines.empty()) return "    (no output)\n";
  std::string out;
  if (lines.size() > n) out += fmt::format("    ... ({} lines before)\n", lines.size() - n);
  for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    out += "    " + lines[i] + "\n";
  return out;
}

std::string last_line(const std::string& text) {
  std::string last;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  return last;
}

// A mount point as /proc/self/mountinfo writes it: space, tab, newline and backslash as \ooo.
std::string unescape_mount_path(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      bool octal = true;
      for (std::size_t j = 1; j <= 3; ++j) {
        const char c = field[i + j];
        if (c < '0' || c > '7') octal = false;
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

// Every mount point of this process's mount namespace (field 5 of /proc/self/mountinfo).
std::vector<std::string> mount_points() {
  std::vector<std::string> points;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, device, root, point;
    if (fields >> id >> parent >> device >> root >> point)
      points.push_back(unescape_mount_path(point));
  }
  return points;
}

bool is_mounted(const std::string& path) {
  for (const auto& point : mount_points()) {
    if (point == path) return true;
  }
  return false;
}

bool anything_mounted_under(const std::string& dir) {
  for (const auto& point : mount_points()) {
    if (point == dir || point.starts_with(dir + "/")) return true;
  }
  return false;
}

// `name` found on PATH (or in /usr/bin, /bin), as a path; "" when there is none.
std::string find_program(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/bin:/bin:/usr/sbin:/sbin";
  std::istringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    std::string candidate = fmt::format("{}/{}", dir, name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Runs `argv` to its end (bounded); true when it exited 0.
bool run_quietly(std::vector<std::string> argv) {
  try {
    Process p(std::move(argv));
    const auto status = p.wait(kUnmountProgramLimit);
    return status && *status == 0;
  } catch (const std::exception&) {
    return false;
  }
}

// Detaches the mount at `path` (lazily: a busy mount goes as soon as it is no longer used), by
// the system call as root, else with fusermount3, and umount as the last resort. True when it is
// no longer a mount point.
bool unmount(const std::string& path) {
  if (::geteuid() == 0) ::umount2(path.c_str(), MNT_DETACH);
  if (!is_mounted(path)) return true;
  if (const auto fusermount = find_program("fusermount3"); !fusermount.empty())
    run_quietly({fusermount, "-u", "-z", "-q", path});
  if (!is_mounted(path)) return true;
  if (const auto umount = find_program("umount"); !umount.empty())
    run_quietly({umount, "-l", path});
  return !is_mounted(path);
}

// The device of `path`, when stat answers within `limit`. stat of a mount point is served by
// its yfs_client, which may never answer: it runs on a thread of its own, abandoned after `limit`
// (a process that exits ends it).
struct StatResult {
  bool answered = false;  // within the limit
  int error = 0;          // errno, when it failed
  dev_t device = 0;
};
StatResult stat_within(const std::string& path, core::Duration limit) {
  struct Shared {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    StatResult result;
  };
  auto shared = std::make_shared<Shared>();
  std::thread([shared, path] {
    struct stat st {};
    StatResult r{.answered = true};
    if (::stat(path.c_str(), &st) == 0)
      r.device = st.st_dev;
    else
      r.error = errno;
    std::lock_guard lock(shared->mutex);
    shared->result = r;
    shared->done = true;
    shared->done_cv.notify_all();
  }).detach();
  std::unique_lock lock(shared->mutex);
  if (!shared->done_cv.wait_for(lock, limit, [&] { return shared->done; })) return {};
  return shared->result;
}

// A process's start time (field 22 of /proc/PID/stat), which tells it from a later process that
// got the same pid; "" when there is no such process.
std::string start_time_of(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return "";
  std::istringstream fields(text.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {  // the fields after the name are numbered from 3
    if (!(fields >> field)) return "";
  }
  return field;
}

// Clusters whose test process died without its destructor (killed at a time limit: the grader
// SIGKILLs the test's process group, yfs_clients included) leave dead mounts behind. Each
// cluster's directory names its owner ("PID START_TIME" in ./owner); the mounts of those whose
// owner is gone are undone here and their directories removed. Clusters of running tests are
// never touched.
void sweep_stale_clusters() {
  std::error_code ec;
  const std::filesystem::path tmp = std::string(kDirPrefix).substr(0, 4);  // "/tmp"
  std::vector<std::string> dirs;
  for (const auto& entry : std::filesystem::directory_iterator(tmp, ec)) {
    const std::string path = entry.path().string();
    if (path.starts_with(kDirPrefix)) dirs.push_back(path);
  }
  for (const auto& dir : dirs) {
    std::ifstream owner(dir + "/owner");
    long pid = 0;
    std::string started;
    if (!(owner >> pid >> started) || pid <= 0) continue;  // not ours, or still being written
    if (start_time_of(static_cast<pid_t>(pid)) == started) continue;  // its test is running
    bool all_gone = true;
    for (const auto& point : mount_points()) {
      if (point.starts_with(dir + "/") && !unmount(point)) all_gone = false;
    }
    if (all_gone) std::filesystem::remove_all(dir, ec);
  }
}

std::optional<std::uint16_t> port_of(const std::string& line) {
  const auto colon = line.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string_view digits(line);
  digits.remove_prefix(colon + 1);
  while (!digits.empty() && (digits.back() == '\r' || digits.back() == ' '))
    digits.remove_suffix(1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 || value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// SIGTERMs every process in `group`, waits for them until `kStopLimit`, then SIGKILLs the rest.
void stop_processes(const std::vector<Process*>& group) {
  for (auto* p : group) p->signal(SIGTERM);
  const auto deadline = SteadyClock::now() + kStopLimit;
  for (auto* p : group) {
    if (p->wait(left_until(deadline))) continue;
    p->signal(SIGKILL);
    p->wait(kStopLimit);
  }
}

}  // namespace

std::optional<std::string> YfsCluster::fuse_unavailable() {
  struct stat st {};
  if (::stat("/dev/fuse", &st) != 0)
    return std::string(
        "FUSE is not available here: there is no /dev/fuse (load the fuse module; "
        "in a container, run it with --device /dev/fuse)");
  const int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return fmt::format(
        "FUSE is not available here: /dev/fuse cannot be opened: {} (in a "
        "container, run it with --device /dev/fuse --cap-add SYS_ADMIN)",
        std::strerror(errno));
  }
  ::close(fd);
  if (::geteuid() != 0 && find_program("fusermount3").empty())
    return std::string(
        "FUSE is not available here: fusermount3 is not installed and this is not "
        "root (apt-get install fuse3)");
  return std::nullopt;
}

YfsCluster::YfsCluster(std::string apps_dir, Options options)
    : apps_dir_(std::move(apps_dir)), options_(std::move(options)) {
  try {
    start();
  } catch (...) {
    stop();
    throw;
  }
}

YfsCluster::~YfsCluster() {
  stop();
}

void YfsCluster::start() {
  for (const char* program : {"lock_server", "extent_server", "yfs_client"}) {
    const std::string path = apps_dir_ + "/" + program;
    if (::access(path.c_str(), X_OK) != 0) {
      throw std::runtime_error(
          fmt::format("YfsCluster: there is no program {} (is the lab built? its programs are "
                      "built with its tests)",
                      path));
    }
  }
  sweep_stale_clusters();

  std::string dir_template = std::string(kDirPrefix) + "XXXXXX";
  if (::mkdtemp(dir_template.data()) == nullptr)
    throw std::runtime_error(fmt::format("YfsCluster: mkdtemp: {}", std::strerror(errno)));
  dir_ = dir_template;
  {
    std::ofstream owner(dir_ + "/owner");
    owner << ::getpid() << ' ' << start_time_of(::getpid()) << '\n';
  }
  const auto limit = options_.start_limit;

  // The servers, one after the other: each says where it listens.
  auto lock_env = options_.extra_env;
  if (options_.lock_lossy > 0)
    lock_env.push_back(fmt::format("DSYS_RPC_LOSSY={}", options_.lock_lossy));
  lock_server_ = std::make_unique<Process>(
      std::vector<std::string>{apps_dir_ + "/lock_server", "0"}, lock_env);
  auto line = lock_server_->wait_for_line("listening on", limit);
  const auto lock_port = line ? port_of(*line) : std::nullopt;
  if (!lock_port) fail(*lock_server_, "lock_server", "did not say where it listens");
  lock_port_ = *lock_port;

  extent_server_ = std::make_unique<Process>(
      std::vector<std::string>{apps_dir_ + "/extent_server", "0"}, options_.extra_env);
  line = extent_server_->wait_for_line("listening on", limit);
  const auto extent_port = line ? port_of(*line) : std::nullopt;
  if (!extent_port) fail(*extent_server_, "extent_server", "did not say where it listens");
  extent_port_ = *extent_port;

  // The clients all at once; then each mount, until it answers.
  for (std::size_t i = 0; i < options_.mounts; ++i) {
    Client client{.mount = fmt::format("{}/yfs{}", dir_, i + 1)};
    if (::mkdir(client.mount.c_str(), 0755) != 0)
      throw std::runtime_error(
          fmt::format("YfsCluster: mkdir {}: {}", client.mount, std::strerror(errno)));
    client.process = std::make_unique<Process>(
        std::vector<std::string>{apps_dir_ + "/yfs_client", client.mount,
                                 std::to_string(extent_port_), std::to_string(lock_port_)},
        options_.extra_env);
    clients_.push_back(std::move(client));
  }
  struct stat parent {};
  if (::stat(dir_.c_str(), &parent) != 0)
    throw std::runtime_error(fmt::format("YfsCluster: stat {}: {}", dir_, std::strerror(errno)));
  const auto deadline = SteadyClock::now() + limit;
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    auto& client = clients_[i];
    const std::string name = fmt::format("yfs_client {}", i + 1);
    if (!client.process->wait_for_line("yfs_client: mounted", left_until(deadline)))
      fail(*client.process, name, fmt::format("did not say it mounted {}", client.mount));
    // It says so once the kernel has the mount; the mount answers once it serves requests.
    while (true) {
      const auto st = stat_within(client.mount, left_until(deadline));
      if (st.answered && st.error == 0 && st.device != parent.st_dev) break;
      if (client.process->wait(10ms))
        fail(*client.process, name, fmt::format("did not mount {}", client.mount));
      if (SteadyClock::now() >= deadline) {
        fail(*client.process, name,
             !st.answered
                 ? fmt::format("said it mounted {}, whose stat did not answer", client.mount)
             : st.error != 0 ? fmt::format("said it mounted {}, whose stat kept failing ({})",
                                           client.mount, std::strerror(st.error))
                             : fmt::format("said it mounted {}, which did not become a mount point",
                                           client.mount));
      }
    }
  }
}

void YfsCluster::fail(Process& process, const std::string& name, const std::string& what) {
  // A program whose output ended is exiting: a moment for its exit status.
  const auto status = process.wait(1s);
  const auto limit = std::chrono::duration_cast<std::chrono::seconds>(options_.start_limit);
  const std::string when = status ? fmt::format("(it exited with status {})", *status)
                                  : fmt::format("within {} s (it is still running)", limit.count());
  throw std::runtime_error(fmt::format("YfsCluster: {} {} {}; its last lines:\n{}", name, what,
                                       when, tail(process.output(), kTailLines)));
}

void YfsCluster::stop() {
  if (stopped_) return;
  stopped_ = true;
  // The clients first: each unmounts on SIGTERM. Then whatever is still mounted (a client that
  // died, or was killed) is detached, and only then are the servers stopped.
  std::vector<Process*> clients;
  for (auto& c : clients_) {
    if (c.process) clients.push_back(c.process.get());
  }
  stop_processes(clients);
  bool all_unmounted = true;
  for (auto& c : clients_) {
    if (is_mounted(c.mount) && !unmount(c.mount)) {
      all_unmounted = false;
      std::cerr << "YfsCluster: " << c.mount << " is still mounted (fusermount3 -u -z, umount -l "
                << "failed)\n";
    }
  }
  std::vector<Process*> servers;
  if (extent_server_) servers.push_back(extent_server_.get());
  if (lock_server_) servers.push_back(lock_server_.get());
  stop_processes(servers);
  // The directory, unless a mount is left in it (removing it would remove the files of the mount).
  if (!dir_.empty() && all_unmounted && !anything_mounted_under(dir_)) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::vector<YfsCluster::Named> YfsCluster::processes() {
  std::vector<Named> all;
  if (lock_server_) all.push_back({"lock_server", lock_server_.get()});
  if (extent_server_) all.push_back({"extent_server", extent_server_.get()});
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    if (clients_[i].process)
      all.push_back({fmt::format("yfs_client {}", i + 1), clients_[i].process.get()});
  }
  return all;
}

void YfsCluster::report_if_dead(core::Duration grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (bool running = true; running && std::chrono::steady_clock::now() < deadline;) {
    running = false;
    for (const auto& [name, process] : processes()) running |= !process->wait(20ms);
  }
  for (const auto& [name, process] : processes()) {
    const auto status = process->wait(0ms);
    if (!status) continue;
    std::cout << "dsys: child process " << name << " exited with status " << *status << ": "
              << last_line(process->output()) << std::endl;
  }
}

std::string YfsCluster::describe() {
  std::string out;
  for (const auto& [name, process] : processes()) {
    const auto status = process->wait(1ms);  // with the output it has written by now
    out +=
        fmt::format("{} (pid {}): {}; its last lines:\n{}", name, process->pid(),
                    status ? fmt::format("exited with status {}", *status) : std::string("running"),
                    tail(process->output(), kTailLines));
  }
  return out;
}

}  // namespace dsys::testing
