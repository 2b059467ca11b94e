// dsys/testing/yfs_cluster.hpp: a yfs file system of real processes for a lab's tests: a
// lock_server, an extent_server and yfs_client mounts of one store, as `./dsys yfs start` runs
// them, but each cluster in a temporary directory of its own (/tmp/dsys-yfs-XXXXXX) and on ports
// the kernel picks (port 0), so that tests running at once never meet.
//
//   if (auto why = dsys::testing::YfsCluster::fuse_unavailable()) SKIP(*why);
//   dsys::testing::YfsCluster cluster(DSYS_APPS_DIR);
//   write_file(cluster.mount(0) + "/a", "hi");  // ...and read it through cluster.mount(1)
//
// The constructor returns once every mount answers, or throws std::runtime_error naming the
// program that did not start and its last lines of output (every process it started is stopped
// and every mount undone first). The destructor never leaves a mount behind: it stops the
// yfs_clients (SIGTERM: they unmount), unmounts whatever is still mounted, stops the servers and
// removes the directory. Nothing here sleeps a fixed time: it waits for lines and for mounts,
// each with a limit.
//
// Not thread-safe: one thread uses a cluster. The test's own file-system calls are served by the
// yfs_client processes, so they may block for as long as those take to answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsys/core/time.hpp"
#include "dsys/testing/process.hpp"

namespace dsys::testing {

struct YfsClusterOptions {
  unsigned lock_lossy = 0;  // DSYS_RPC_LOSSY for the lock server alone (percent; 0: reliable)
  std::size_t mounts = 2;   // yfs_client processes, each with a mount of its own
  std::vector<std::string> extra_env;  // "NAME=value", for every program
  // How long each program may take to say it listens or has mounted, and each mount to answer.
  core::Duration start_limit = std::chrono::seconds(30);
};

class YfsCluster {
 public:
  using Options = YfsClusterOptions;

  // Starts `apps_dir`/lock_server, `apps_dir`/extent_server and `options.mounts` times
  // `apps_dir`/yfs_client (a lab's DSYS_APPS_DIR), and waits until every mount answers.
  explicit YfsCluster(std::string apps_dir, Options options = {});
  ~YfsCluster();
  YfsCluster(const YfsCluster&) = delete;
  YfsCluster& operator=(const YfsCluster&) = delete;

  // Why a FUSE file system cannot be mounted here (no /dev/fuse, it cannot be opened, or neither
  // root nor fusermount3), for SKIP; nullopt when it can.
  static std::optional<std::string> fuse_unavailable();

  const std::string& directory() const { return dir_; }  // the cluster's temporary directory
  std::size_t mounts() const { return clients_.size(); }
  const std::string& mount(std::size_t i) const { return clients_.at(i).mount; }  // absolute
  std::uint16_t lock_port() const { return lock_port_; }
  std::uint16_t extent_port() const { return extent_port_; }

  Process& lock_server() { return *lock_server_; }
  Process& extent_server() { return *extent_server_; }
  Process& yfs_client(std::size_t i) { return *clients_.at(i).process; }

  // For each of its processes that has exited, prints on stdout
  //   dsys: child process NAME exited with status N: LAST LINE
  // (the line the grader shows: a dead server or client explains a test's failure). NAME is
  // lock_server, extent_server, or "yfs_client 1", "yfs_client 2", ... (mount 0, 1, ...).
  // `grace`: first wait up to that long for processes that may be on their way out (after a
  // test's check failed, a client that failed may still be unmounting); healthy processes run
  // on, so this always takes `grace` in full when one is given.
  void report_if_dead(core::Duration grace = core::Duration::zero());
  // Every process's name, state and last lines of output, for a failed test's INFO.
  std::string describe();

  // Stops everything now (as the destructor does); idempotent. A test that wants to see how the
  // processes exit calls this and then looks at them.
  void stop();

 private:
  struct Client {
    std::string mount;
    std::unique_ptr<Process> process;
  };
  struct Named {
    std::string name;
    Process* process;
  };

  void start();
  std::vector<Named> processes();
  [[noreturn]] void fail(Process& process, const std::string& name, const std::string& what);

  std::string apps_dir_;
  Options options_;
  std::string dir_;
  std::uint16_t lock_port_ = 0;
  std::uint16_t extent_port_ = 0;
  std::unique_ptr<Process> lock_server_;
  std::unique_ptr<Process> extent_server_;
  std::vector<Client> clients_;
  bool stopped_ = false;
};

}  // namespace dsys::testing
