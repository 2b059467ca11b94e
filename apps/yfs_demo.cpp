// yfs_demo (./dsys demo): the whole yfs stack of lab 4 (lab 1's lock server, lab 2's extent
// server, and yfs clients that are lab 4's LockingFs around its DirClient), in both worlds:
//
//   1. simulated: the two servers and two yfs clients as nodes of one process, on virtual time,
//      over a seeded network that drops, duplicates and reorders. A short script of file
//      operations, with a crash and a restart of client 1; then what each client sees, what
//      happened on the wire, and the command that replays the run exactly;
//   2. real: lock_server, extent_server and two yfs_client processes, each client a FUSE mount;
//      a file written through one mount and read through the other, `ls -l` of both; everything
//      it started is stopped and unmounted at the end (testing::YfsCluster).
//
//   yfs_demo [--sim|--real] [--seed N]      both halves by default; seed: N, else DSYS_SEED,
//                                           else 2026
//
// It is a program of lab 4, built for each flavour (build/<preset>/<flavour>/lab4/yfs_demo), so
// it runs that flavour's code; its real half starts the lock_server, extent_server and
// yfs_client of its own directory. On unwritten stubs it stops at the first and names it.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "dsys/core/error.hpp"
#include "dsys/rpc/wire.hpp"
#include "dsys/sim/world.hpp"
#include "dsys/testing/process.hpp"
#include "dsys/testing/yfs_cluster.hpp"
#include "dsys/trace/diagram.hpp"
#include "extent_server.hpp"
#include "lab4_node.hpp"
#include "lock_server.hpp"

using namespace std::chrono_literals;
using dsys::core::Task;
using dsys::fs::FileSystem;
using dsys::fs::Inum;
template <class T>
using FsResult = dsys::fs::Result<T>;

namespace {

constexpr std::uint64_t kDefaultSeed = 2026;

// The demo cannot go on: what() says where and why.
class Stopped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `text` in double quotes, with newlines and other control bytes escaped.
std::string in_quotes(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// ---------------------------------------------------------------------------------------------
// 1. The simulated world.
//
// A step is a coroutine on one client's FileSystem; it returns what the demo prints as its
// outcome. Each runs on its client's node (so on that node's executor), and takes its arguments
// by value.

using Step = std::function<Task<FsResult<std::string>>(FileSystem&)>;

std::vector<std::string> names_in(std::string_view path) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start < path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    if (slash > start) names.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return names;
}

// The inum of `path` ("/docs/notes.txt"), looked up one name at a time from the root.
Task<FsResult<Inum>> resolve(FileSystem& fs, std::string path) {
  Inum inum = dsys::fs::kRootInum;
  for (const auto& name : names_in(path)) {
    auto next = co_await fs.lookup(inum, name);
    if (!next) co_return next.error();
    inum = *next;
  }
  co_return inum;
}

// `path`'s parent directory and last name.
std::pair<std::string, std::string> split(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return {path.substr(0, slash), path.substr(slash + 1)};
}

Task<FsResult<std::string>> make_directory(FileSystem& fs, std::string path) {
  const auto [parent_path, name] = split(path);
  auto parent = co_await resolve(fs, parent_path);
  if (!parent) co_return parent.error();
  auto dir = co_await fs.mkdir(*parent, name);
  if (!dir) co_return dir.error();
  co_return fmt::format("ok (directory inum {:#x})", *dir);
}

Task<FsResult<std::string>> write_new_file(FileSystem& fs, std::string path, std::string data) {
  const auto [parent_path, name] = split(path);
  auto parent = co_await resolve(fs, parent_path);
  if (!parent) co_return parent.error();
  auto file = co_await fs.create(*parent, name);
  if (!file) co_return file.error();
  auto written = co_await fs.write(*file, 0, data);
  if (!written) co_return written.error();
  co_return fmt::format("ok (file inum {:#x}, {} bytes)", *file, *written);
}

Task<FsResult<std::string>> append_to(FileSystem& fs, std::string path, std::string data) {
  auto file = co_await resolve(fs, path);
  if (!file) co_return file.error();
  auto written = co_await fs.write(*file, dsys::fs::kAtEnd, data);
  if (!written) co_return written.error();
  auto attributes = co_await fs.getattr(*file);
  if (!attributes) co_return attributes.error();
  co_return fmt::format("ok ({} bytes more, {} in all)", *written, attributes->size);
}

Task<FsResult<std::string>> read_whole(FileSystem& fs, std::string path) {
  auto file = co_await resolve(fs, path);
  if (!file) co_return file.error();
  auto attributes = co_await fs.getattr(*file);
  if (!attributes) co_return attributes.error();
  auto data = co_await fs.read(*file, 0, attributes->size);
  if (!data) co_return data.error();
  co_return in_quotes(*data);
}

Task<FsResult<std::string>> list_names(FileSystem& fs, std::string path) {
  auto dir = co_await resolve(fs, path);
  if (!dir) co_return dir.error();
  auto entries = co_await fs.readdir(*dir);
  if (!entries) co_return entries.error();
  std::vector<std::string> names;
  for (const auto& e : *entries)
    names.push_back(e.name + (dsys::fs::is_directory(e.inum) ? "/" : ""));
  std::sort(names.begin(), names.end());
  co_return names.empty() ? std::string("(empty)") : fmt::format("{}", fmt::join(names, "  "));
}

Task<FsResult<std::string>> remove_file(FileSystem& fs, std::string path) {
  const auto [parent_path, name] = split(path);
  auto parent = co_await resolve(fs, parent_path);
  if (!parent) co_return parent.error();
  auto removed = co_await fs.unlink(*parent, name);
  if (!removed) co_return removed.error();
  co_return std::string("ok");
}

// Appends to `lines` the tree under directory `dir`, one line per entry, names sorted: a
// directory and then what it holds, a file with its size and contents.
Task<FsResult<void>> walk(FileSystem& fs, Inum dir, std::string indent,
                          std::vector<std::string>& lines) {
  auto entries = co_await fs.readdir(dir);
  if (!entries) co_return entries.error();
  std::sort(entries->begin(), entries->end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& e : *entries) {
    if (dsys::fs::is_directory(e.inum)) {
      lines.push_back(fmt::format("{}{}/", indent, e.name));
      auto below = co_await walk(fs, e.inum, indent + "  ", lines);
      if (!below) co_return below.error();
      continue;
    }
    auto attributes = co_await fs.getattr(e.inum);
    if (!attributes) co_return attributes.error();
    auto data = co_await fs.read(e.inum, 0, attributes->size);
    if (!data) co_return data.error();
    lines.push_back(fmt::format("{}{:<14} {:>3} bytes  {}", indent, e.name, attributes->size,
                                in_quotes(*data)));
  }
  co_return FsResult<void>{};
}

Task<FsResult<std::string>> tree(FileSystem& fs) {
  std::vector<std::string> lines = {"/"};
  auto walked = co_await walk(fs, dsys::fs::kRootInum, "  ", lines);
  if (!walked) co_return walked.error();
  std::string out;
  for (const auto& line : lines) out += "      " + line + "\n";
  co_return out;
}

class SimDemo {
 public:
  explicit SimDemo(std::uint64_t seed)
      : world_({.seed = seed,
                .faults = {.drop = 0.1, .duplicate = 0.1, .reorder = 0.1},
                .label = "yfs-demo",
                .describe = [](const dsys::core::Bytes& m) { return dsys::rpc::describe(m); }}) {
    const auto lock_server =
        world_.add_node("lock_server", dsys::core::make_node<dsys::lab1::LockServer>());
    const auto extent_server =
        world_.add_node("extent_server", dsys::core::make_node<dsys::lab2::ExtentServer>());
    const dsys::fs::Servers servers{.extent = world_.address(extent_server),
                                    .lock = world_.address(lock_server)};
    for (int i = 1; i <= 2; ++i) {
      clients_.push_back(world_.add_node(fmt::format("yfs{}", i),
                                         dsys::core::make_node<dsys::lab4::Node>(servers)));
    }
  }

  dsys::sim::World& world() { return world_; }

  // Runs `step` on client `client` (1 or 2) to its end and prints its line.
  void run(int client, std::string what, Step step) {
    together({{client, std::move(what), std::move(step)}});
  }

  struct Started {
    int client;
    std::string what;
    Step step;
  };
  // Starts every step at once (each on its client's node) and runs the world until all are
  // done, printing each one's line as it finishes.
  void together(std::vector<Started> steps) {
    std::vector<std::shared_ptr<std::optional<FsResult<std::string>>>> results;
    for (auto& s : steps) {
      auto result = std::make_shared<std::optional<FsResult<std::string>>>();
      results.push_back(result);
      FileSystem* fs = &world_.service<dsys::lab4::Node>(node(s.client)).fs();
      world_.context(node(s.client)).spawn([result, fs, step = s.step]() -> Task<void> {
        result->emplace(co_await step(*fs));
      });
    }
    const dsys::core::Time deadline = world_.now() + kStepLimit;
    std::vector<bool> reported(steps.size(), false);
    const auto finished_unreported = [&] {
      for (std::size_t i = 0; i < steps.size(); ++i) {
        if (!reported[i] && results[i]->has_value()) return true;
      }
      return false;
    };
    for (std::size_t left = steps.size(); left > 0;) {
      const bool some = world_.run_until(finished_unreported, deadline - world_.now());
      for (std::size_t i = 0; i < steps.size(); ++i) {
        if (reported[i]) continue;
        const std::string prefix = fmt::format("yfs{}'s {}", steps[i].client, steps[i].what);
        const auto& r = *results[i];
        if (!some) {
          throw Stopped(
              fmt::format("{} did not finish in {} s of simulated time", prefix, kStepLimit / 1s));
        }
        if (!r.has_value()) continue;
        if (!*r) {
          throw Stopped(fmt::format("{} failed: {} ({})", prefix, to_string(r->error()),
                                    std::strerror(dsys::fs::to_errno(r->error()))));
        }
        line(fmt::format("yfs{}", steps[i].client),
             fmt::format("{:<42} {}", steps[i].what, r->value()));
        reported[i] = true;
        --left;
      }
    }
  }

  // Crashes client `client`, lets the world run for `down`, and restarts it.
  void crash_and_restart(int client, dsys::core::Duration down) {
    world_.crash(node(client));
    line(fmt::format("yfs{}", client),
         "CRASH: the node, its coroutines and calls in flight, its lock client: gone");
    world_.run_for(down);
    world_.restart(node(client));
    line(fmt::format("yfs{}", client),
         "RESTART: built again, with a new lock-client id; the files live on the servers");
  }

  // What client `client` sees, from the root down.
  std::string view_of(int client) {
    std::string out;
    auto result = std::make_shared<std::optional<FsResult<std::string>>>();
    FileSystem* fs = &world_.service<dsys::lab4::Node>(node(client)).fs();
    world_.context(node(client)).spawn([result, fs]() -> Task<void> {
      result->emplace(co_await tree(*fs));
    });
    world_.run_until([&] { return result->has_value(); }, kStepLimit);
    if (!result->has_value())
      throw Stopped(fmt::format("yfs{}'s walk of its tree did not finish", client));
    if (!**result)
      throw Stopped(fmt::format("yfs{}'s walk of its tree failed: {}", client,
                                to_string((*result)->error())));
    return (*result)->value();
  }

 private:
  static constexpr dsys::core::Duration kStepLimit = 120s;

  dsys::sim::NodeId node(int client) const {
    return clients_.at(static_cast<std::size_t>(client - 1));
  }
  void line(const std::string& who, const std::string& what) {
    fmt::print("  [{:>9}] {:<5} {}\n", dsys::core::format_time(world_.now()), who, what);
  }

  dsys::sim::World world_;
  std::vector<dsys::sim::NodeId> clients_;
};

void simulated(std::uint64_t seed, const std::string& shiviz) {
  fmt::print(
      "\n== 1. The simulated world (seed {}): a lock server, an extent server and two yfs "
      "clients\n"
      "      (yfs1, yfs2) as nodes of this one process, on virtual time; the network loses 10 %\n"
      "      of messages, duplicates 10 % and holds 10 % back so that later ones overtake them.\n"
      "      Each line: the virtual time an operation finished, the client, what it did, what it "
      "got.\n\n",
      seed);
  SimDemo demo(seed);
  dsys::sim::World& world = demo.world();
  demo.run(1, "mkdir /docs", [](FileSystem& fs) { return make_directory(fs, "/docs"); });
  demo.run(1, "echo 'hello from yfs1' > /docs/notes.txt", [](FileSystem& fs) {
    return write_new_file(fs, "/docs/notes.txt", "hello from yfs1\n");
  });
  demo.run(2, "ls /docs", [](FileSystem& fs) { return list_names(fs, "/docs"); });
  demo.run(2, "cat /docs/notes.txt",
           [](FileSystem& fs) { return read_whole(fs, "/docs/notes.txt"); });
  demo.run(2, "echo 'and from yfs2' >> /docs/notes.txt",
           [](FileSystem& fs) { return append_to(fs, "/docs/notes.txt", "and from yfs2\n"); });
  fmt::print(
      "  (both at once, in one directory: its lock keeps either from losing the other's "
      "entry)\n");
  demo.together({{1, "echo one > /docs/a.txt",
                  [](FileSystem& fs) { return write_new_file(fs, "/docs/a.txt", "one\n"); }},
                 {2, "echo two > /docs/b.txt",
                  [](FileSystem& fs) { return write_new_file(fs, "/docs/b.txt", "two\n"); }}});
  demo.crash_and_restart(1, 500ms);
  demo.run(1, "cat /docs/notes.txt",
           [](FileSystem& fs) { return read_whole(fs, "/docs/notes.txt"); });
  demo.run(2, "rm /docs/b.txt", [](FileSystem& fs) { return remove_file(fs, "/docs/b.txt"); });
  demo.run(1, "ls /docs", [](FileSystem& fs) { return list_names(fs, "/docs"); });

  fmt::print("\n  What each client sees now (a walk from the root: readdir, getattr, read):\n");
  const std::string view1 = demo.view_of(1);
  const std::string view2 = demo.view_of(2);
  fmt::print("    yfs1:\n{}", view1);
  if (view2 == view1) {
    fmt::print("    yfs2: the same\n");
  } else {
    fmt::print("    yfs2 (NOT the same!):\n{}", view2);
    throw Stopped("the two clients see different trees");
  }

  const auto& trace = world.trace();
  using dsys::trace::Kind;
  fmt::print(
      "\n  In all: {} of virtual time, {} events. {} messages sent, {} delivered; the network "
      "lost\n"
      "  {} and duplicated {} (and reordered some, which the trace does not count). {} crash, {} "
      "restart.\n"
      "  The RPC layer sent lost requests again; the servers' reply windows (lab 1) answered "
      "duplicates\n"
      "  without running them twice.\n",
      dsys::core::format_time(world.now()), world.events_run(), trace.count(Kind::send),
      world.deliveries(), trace.count(Kind::drop), trace.count(Kind::duplicate),
      trace.count(Kind::crash), trace.count(Kind::restart));
  const std::string trace_path = world.write_trace();
  fmt::print("  The whole trace: {} (digest {:016x})\n", trace_path, trace.digest());
  if (trace_path.ends_with(".trace")) {
    fmt::print("  Its picture, lane by lane (open it in a browser): {}\n",
               dsys::sim::diagram_path(trace_path));
  }
  if (!shiviz.empty()) {
    if (dsys::trace::write_text_file(shiviz, dsys::trace::render_shiviz(trace))) {
      fmt::print("  As a ShiViz log: {}\n", shiviz);
    } else {
      fmt::print("  (could not write the ShiViz log {})\n", shiviz);
    }
  }
  fmt::print("  Replay exactly this run (same seed, same trace): ./dsys demo --sim --seed {}\n",
             seed);
}

// ---------------------------------------------------------------------------------------------
// 2. The real world.

void write_file(const std::string& path, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Stopped(fmt::format("open({}) for writing: {}", path, std::strerror(errno)));
  const ssize_t n = ::write(fd, data.data(), data.size());
  const int write_errno = errno;
  if (::close(fd) != 0 && n >= 0)
    throw Stopped(fmt::format("close({}): {}", path, std::strerror(errno)));
  if (n != static_cast<ssize_t>(data.size()))
    throw Stopped(
        fmt::format("write({}): {}", path, n < 0 ? std::strerror(write_errno) : "a short write"));
}

std::string read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Stopped(fmt::format("open({}) for reading: {}", path, std::strerror(errno)));
  std::string out;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      const int read_errno = errno;
      ::close(fd);
      throw Stopped(fmt::format("read({}): {}", path, std::strerror(read_errno)));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

// Prints `/bin/ls -l DIR`, indented.
void list_long(const std::string& dir) {
  dsys::testing::Process ls({"/bin/ls", "-l", dir});
  const auto status = ls.wait(10s);
  if (!status) throw Stopped(fmt::format("ls -l {} did not finish in 10 s", dir));
  fmt::print("  $ ls -l {}\n", dir);
  std::string text = ls.output();
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    fmt::print("    {}\n", std::string_view(text).substr(start, end - start));
    start = end + 1;
  }
  if (*status != 0) throw Stopped(fmt::format("ls -l {} exited with status {}", dir, *status));
}

// While armed, after `limit` it SIGTERMs the given processes (the yfs_clients), so that a file
// operation stuck in a mount that never answers fails instead of hanging the demo.
class Watchdog {
 public:
  Watchdog(std::vector<pid_t> pids, dsys::core::Duration limit)
      : thread_([this, pids = std::move(pids), limit] {
          std::unique_lock lock(mutex_);
          if (cv_.wait_for(lock, limit, [this] { return disarmed_; })) return;
          std::cerr << "yfs_demo: the real half is taking too long: stopping the yfs clients\n";
          for (const pid_t pid : pids) ::kill(pid, SIGTERM);
        }) {}
  ~Watchdog() { disarm(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  void disarm() {
    {
      std::lock_guard lock(mutex_);
      disarmed_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool disarmed_ = false;
  std::thread thread_;  // last: it uses the members above
};

bool mounted_under(const std::string& dir) {
  std::ifstream mounts("/proc/self/mounts");
  for (std::string device, point, rest; mounts >> device >> point && std::getline(mounts, rest);) {
    if (point == dir || point.starts_with(dir + "/")) return true;
  }
  return false;
}

// Returns false when FUSE cannot be used here (`asked`: the real half was asked for by name).
bool real(const std::string& programs, bool asked) {
  fmt::print(
      "\n== 2. The real world: lock_server, extent_server and two yfs_client processes over TCP "
      "on\n"
      "      127.0.0.1, each client a FUSE mount; ordinary system calls through the mounts.\n\n");
  if (auto why = dsys::testing::YfsCluster::fuse_unavailable()) {
    fmt::print("  {}: {}\n", asked ? "cannot run here" : "skipped", *why);
    return false;
  }
  const auto started = std::chrono::steady_clock::now();
  fmt::print("  starting them (the programs in {})...\n", programs);
  std::fflush(stdout);
  dsys::testing::YfsCluster cluster(programs, {.mounts = 2, .start_limit = 15s});
  const auto ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 started)
        .count();
  };
  fmt::print("  lock_server    pid {:<7} port {}\n", cluster.lock_server().pid(),
             cluster.lock_port());
  fmt::print("  extent_server  pid {:<7} port {}\n", cluster.extent_server().pid(),
             cluster.extent_port());
  for (std::size_t i = 0; i < cluster.mounts(); ++i) {
    fmt::print("  yfs_client {}   pid {:<7} mounted {}\n", i + 1, cluster.yfs_client(i).pid(),
               cluster.mount(i));
  }
  fmt::print("  (all up and answering after {} ms)\n\n", ms());
  Watchdog watchdog({cluster.yfs_client(0).pid(), cluster.yfs_client(1).pid()}, 60s);

  const std::string one = cluster.mount(0);
  const std::string two = cluster.mount(1);
  const std::string text = fmt::format("hello through mount 1, from pid {}\n", ::getpid());
  if (::mkdir((one + "/docs").c_str(), 0755) != 0)
    throw Stopped(fmt::format("mkdir({}/docs): {}", one, std::strerror(errno)));
  write_file(one + "/hello.txt", text);
  fmt::print("  through mount 1: mkdir docs; wrote hello.txt ({} bytes: open, write, close)\n",
             text.size());
  const std::string seen = read_file(two + "/hello.txt");
  fmt::print("  through mount 2: read hello.txt: {}\n", in_quotes(seen));
  if (seen != text) throw Stopped("mount 2 read something else than mount 1 wrote");
  fmt::print("  the same bytes, written by one yfs_client and read by the other.\n\n");
  list_long(one);
  list_long(two);

  watchdog.disarm();
  fmt::print("\n  stopping: the yfs_clients (SIGTERM: they unmount), then the servers...\n");
  std::fflush(stdout);
  const std::string dir = cluster.directory();
  cluster.stop();
  const bool all_exited = cluster.lock_server().wait(0ms) && cluster.extent_server().wait(0ms) &&
                          cluster.yfs_client(0).wait(0ms) && cluster.yfs_client(1).wait(0ms);
  if (!all_exited) throw Stopped("a process of the demo is still running after stop()");
  if (mounted_under(dir)) throw Stopped(fmt::format("a mount under {} is left", dir));
  fmt::print("  stopped after {} ms in all: no process and no mount of the demo is left{}.\n", ms(),
             std::filesystem::exists(dir) ? "" : fmt::format(", {} is removed", dir));
  return true;
}

// "unimplemented: X" when `what` holds it (a stub ran), else "".
std::string unimplemented_in(std::string_view what) {
  const std::size_t at = what.find("unimplemented: ");
  if (at == std::string_view::npos) return "";
  const std::size_t end = what.find('\n', at);
  return std::string(what.substr(at, end == std::string_view::npos ? end : end - at));
}

int usage() {
  std::cerr
      << "usage: yfs_demo [--sim|--real] [--seed N] [--shiviz FILE]   (./dsys demo [--sim|--real] "
         "[--seed N] [--shiviz FILE])\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool sim = true;
  bool real_world = true;
  std::optional<std::uint64_t> seed;
  std::string shiviz;  // where the simulated run's ShiViz log goes, if anywhere
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--sim") {
      real_world = false;
    } else if (arg == "--real") {
      sim = false;
    } else if (arg == "--seed" || arg.starts_with("--seed=")) {
      std::string value = arg == "--seed" ? (i + 1 < argc ? argv[++i] : "") : arg.substr(7);
      if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos ||
          value.size() > 19) {
        std::cerr << "yfs_demo: --seed takes a whole number\n";
        return usage();
      }
      seed = std::stoull(value);
    } else if (arg == "--shiviz") {
      if (i + 1 >= argc || std::string_view(argv[i + 1]).empty()) {
        std::cerr << "yfs_demo: --shiviz needs a file name\n";
        return usage();
      }
      shiviz = argv[++i];
    } else {
      std::cerr << "yfs_demo: unknown option '" << arg << "'\n";
      return usage();
    }
  }
  if (!sim && !real_world) {
    std::cerr << "yfs_demo: --sim and --real: choose one (or neither, for both)\n";
    return usage();
  }
  try {
    if (sim) simulated(seed.value_or(dsys::sim::seed_from_env(kDefaultSeed)), shiviz);
    if (real_world) {
      const std::string programs =
          std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
      // Asked for by name, a real half that cannot run is a failure; as the second half, a note.
      if (!real(programs, !sim) && !sim) return 1;
    }
    fmt::print("\nThe demo is over.\n");
    return 0;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    if (const std::string stub = unimplemented_in(e.what()); !stub.empty()) {
      std::cerr << "\nyfs_demo: the demo runs yfs from your labs; finish labs 1-4 first, or run it "
                   "in a copy with solutions/ — it stopped at: "
                << stub << "\n";
      return 1;
    }
    std::cerr << "\nyfs_demo: the demo stopped: " << e.what()
              << "\n(on your own code, the labs' tests say more: ./dsys grade lab1 ... lab4)\n";
    return 1;
  }
}
