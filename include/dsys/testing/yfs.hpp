// dsys/testing/yfs.hpp: yfs in the simulated world, for the labs' tests (labs 2-6).
//
// One extent server node (and, from lab 4 on, a lock server node) and `clients` yfs client nodes,
// on a TestWorld whose network the test chooses. A test drives a client by running file-system
// operations on its node, one at a time (run) or several at once (start):
//
//   TestWorld world({.seed = 7, .faults = testing::lossy_network(), .label = "lab2-create"});
//   SimYfs<lab2::ExtentServer, fs::ClientNode<lab2::YfsClient>> yfs(world, 2);
//   auto inum = yfs.run(1, [](auto& fs) { return fs.create(fs::kRootInum, "a"); });
//   REQUIRE(inum);                       // a fs::Result<fs::Inum>
//
// The operation is a callable taking the client's FS& and returning its core::Task; run() returns
// what the task returns. Arguments the operation takes by value (names, data) are its own.
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "dsys/fs/directory.hpp"
#include "dsys/fs/node.hpp"
#include "dsys/testing/lab.hpp"
#include "dsys/testing/process.hpp"
#include "dsys/testing/yfs_cluster.hpp"

namespace dsys::testing {

using namespace std::chrono_literals;

// A network that drops, duplicates and reorders (each independently, per message).
inline sim::LinkFaults lossy_network() {
  return {.drop = 0.05, .duplicate = 0.05, .reorder = 0.1};
}

namespace detail {
template <class T>
struct TaskResult;
template <class T>
struct TaskResult<core::Task<T>> {
  using type = T;
};
}  // namespace detail

// ExtentServer: built as ExtentServer(core::Context&), with
//   std::optional<std::string> peek(extent::ExtentId) const   (the bytes, or none; no side effect)
// Node: a yfs client node, built as Node(core::Context&, fs::Servers), whose fs() is its
// FileSystem (fs::ClientNode<FS> for labs 2 and 3).
// LockServer: void (no lock server), or built as LockServer(core::Context&).
template <class ExtentServer, class Node, class LockServer = void>
class SimYfs {
 public:
  SimYfs(TestWorld& world, int clients) : world_(world) {
    server_ = world.add_node("extent_server", core::make_node<ExtentServer>());
    fs::Servers servers{world.address(server_)};
    if constexpr (!std::is_void_v<LockServer>) {
      lock_server_ = world.add_node("lock_server", core::make_node<LockServer>());
      servers.lock = world.address(lock_server_);
    }
    for (int i = 1; i <= clients; ++i) {
      clients_.push_back(world.add_node(fmt::format("yfs{}", i), core::make_node<Node>(servers)));
    }
  }

  sim::NodeId server() const { return server_; }
  sim::NodeId lock_server() const { return lock_server_; }  // (with a LockServer)
  sim::NodeId client(int i) const { return clients_.at(static_cast<std::size_t>(i - 1)); }
  int clients() const { return static_cast<int>(clients_.size()); }
  Node& node(int i) { return world_.service<Node>(client(i)); }
  auto& fs(int i) { return node(i).fs(); }
  ExtentServer& extent_server() { return world_.service<ExtentServer>(server_); }

  // Starts `op(fs)` on client i's node; the returned optional holds its result once it is done.
  template <class F>
  auto start(int i, F op) {
    using FS = std::remove_reference_t<decltype(fs(i))>;  // the node's FileSystem type
    using T = typename detail::TaskResult<decltype(op(std::declval<FS&>()))>::type;
    auto result = std::make_shared<std::optional<T>>();
    FS* fs_of_client = &fs(i);
    world_.context(client(i)).spawn(
        [result, fs_of_client, op = std::move(op)]() mutable -> core::Task<void> {
          result->emplace(co_await op(*fs_of_client));
        });
    return result;
  }

  // Runs `op(fs)` on client i's node until it is done (at most `limit` of simulated time) and
  // returns its result. An operation that does not finish in time fails the test.
  template <class F>
  auto run(int i, F op, core::Duration limit = 10min) {
    auto result = start(i, std::move(op));
    const bool done = world_.run_until([&] { return result->has_value(); }, limit);
    INFO("client " << i << "'s operation did not finish in " << limit / 1min
                   << " min of simulated time: it is waiting for something that never comes");
    REQUIRE(done);
    return std::move(**result);
  }

  // Runs every live client's `finish()`, one after the other, when its Node has one (lab 6's
  // writes its cache back and gives its locks back), so that the extent server holds everything
  // the clients did: for a test that looks at the server next. Nothing for other nodes.
  void settle(core::Duration limit = 10min) {
    if constexpr (requires(Node & n) { n.finish(); }) {
      for (int i = 1; i <= clients(); ++i) {
        if (!world_.is_up(client(i))) continue;
        auto done = std::make_shared<bool>(false);
        world_.context(client(i)).spawn([done, n = &node(i)]() -> core::Task<void> {
          co_await n->finish();
          *done = true;
        });
        const bool finished = world_.run_until([&] { return *done; }, limit);
        INFO("client " << i << "'s finish() did not end in " << limit / 1min << " min");
        REQUIRE(finished);
      }
    }
  }

  // Checks after every event that every directory reachable from the root, as the extent
  // server holds it, decodes, lists no name twice, and names only inodes whose extents exist.
  void check_directories() {
    world_.add_invariant("directories are well formed", [this]() -> std::string {
      if (!world_.is_up(server_)) return "";
      return directory_problem();
    });
  }

  // What is wrong with the directories now ("" when nothing is).
  std::string directory_problem() {
    ExtentServer& server = extent_server();
    std::vector<fs::Inum> todo = {fs::kRootInum};
    std::set<fs::Inum> seen;
    while (!todo.empty()) {
      const fs::Inum dir = todo.back();
      todo.pop_back();
      if (!seen.insert(dir).second) continue;
      const std::optional<std::string> bytes = server.peek(dir);
      if (!bytes) return fmt::format("directory {:#x} has no extent", dir);
      const auto decoded = fs::Directory::decode(*bytes);
      if (!decoded) return fmt::format("directory {:#x}'s extent does not decode", dir);
      std::set<std::string> names;
      for (const auto& e : decoded->entries()) {
        if (!names.insert(e.name).second) {
          return fmt::format("directory {:#x} lists '{}' twice", dir, e.name);
        }
        if (!server.peek(e.inum)) {
          return fmt::format("directory {:#x} lists '{}' as inode {:#x}, which has no extent", dir,
                             e.name, e.inum);
        }
        if (fs::is_directory(e.inum)) todo.push_back(e.inum);
      }
    }
    return "";
  }

 private:
  TestWorld& world_;
  sim::NodeId server_;
  sim::NodeId lock_server_{};
  std::vector<sim::NodeId> clients_;
};

// Why a test that mounts yfs cannot run here, printed for the grader, or nullopt when it can:
//   if (dsys::testing::skip_without_fuse()) return;
inline bool skip_without_fuse() {
  auto why = YfsCluster::fuse_unavailable();
  if (!why) return false;
  std::cout << "dsys: skipped: FUSE cannot be used here: " << *why << std::endl;
  SUCCEED("skipped: " << *why);
  return true;
}

// The real programs of `apps_dir` (a lab's DSYS_APPS_DIR) with two FUSE mounts, and
// `yfs_tester MODE MOUNT1 MOUNT2` run through them: the test passes when the tester does. `before`
// runs first, on the started cluster (to send a server garbage, say). Skipped where FUSE cannot be
// used. A client that dies is named in the report (YfsCluster::report_if_dead).
inline void check_yfs_tester(const std::string& apps_dir, const std::string& mode,
                             unsigned lock_lossy,
                             const std::function<void(YfsCluster&)>& before = nullptr,
                             core::Duration limit = std::chrono::seconds(170)) {
  if (skip_without_fuse()) return;
  YfsCluster cluster(apps_dir, {.lock_lossy = lock_lossy});
  if (before) before(cluster);
  Process tester({apps_dir + "/yfs_tester", mode, cluster.mount(0), cluster.mount(1)});
  auto status = tester.wait(limit);
  // A yfs_client that failed may still be unmounting when the tester reports: give it a moment.
  cluster.report_if_dead(status == 0 ? core::Duration::zero() : std::chrono::seconds(3));
  INFO("yfs_tester output:\n" << tester.output());
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK_THAT(tester.output(), Catch::Contains("passed all tests"));
}

}  // namespace dsys::testing
