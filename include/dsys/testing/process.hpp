// dsys/testing/process.hpp: a real child process for tests, with its output read under
// deadlines. Nothing here sleeps a fixed time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsys/core/address.hpp"
#include "dsys/core/time.hpp"

namespace dsys::testing {

// Connects to `to`, sends `bytes` as they are (no framing), and closes; false if it could not.
bool send_raw(core::Address to, std::string_view bytes);

// `count` ports on 127.0.0.1 that are free now: bound at once (so they differ), then released
// for the programs a test starts. Another program could take one meanwhile: a test that starts
// servers on them tries again with others when one says its port is in use. Throws when it
// cannot bind.
std::vector<std::uint16_t> free_ports(std::size_t count);

class Process {
 public:
  // Starts argv[0] (a path) with `argv`, the parent's environment plus `extra_env`
  // ("NAME=value"), and its stdout and stderr merged into one pipe. Throws on failure to start.
  explicit Process(std::vector<std::string> argv, const std::vector<std::string>& extra_env = {});
  ~Process();  // SIGKILLs the process if it is still running, and reaps it
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Reads output until a line containing `text` has arrived; returns that line, or nullopt when
  // `limit` passes or the output ends first.
  std::optional<std::string> wait_for_line(std::string_view text, core::Duration limit);
  // Waits for the process to exit, reading its output; returns its exit code (128 + signal when
  // killed by one), or nullopt when `limit` passes first.
  std::optional<int> wait(core::Duration limit);
  void signal(int sig);
  const std::string& output() const { return output_; }
  pid_t pid() const { return pid_; }

 private:
  bool read_some(int timeout_ms);  // false at end of output
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string output_;
  std::size_t scanned_ = 0;
  std::optional<int> status_;
};

// A fresh directory under the system's temporary one, /tmp/PREFIX-XXXXXX, removed with everything
// in it when this object goes (a test's disks, partition files). Throws if it cannot be made.
// Make it the first member of its owner, so that it goes last, and also when the owner's
// constructor fails.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace dsys::testing
