// dsys/net/runtime.hpp: the real world. One node per Runtime (normally one per process): a
// single-threaded Boost.Asio io_context, TCP on 127.0.0.1 (unless told otherwise), the steady
// clock, and a directory of files as the node's disk.
//
//   net::Runtime runtime({.name = "lock_server", .listen_port = 3772});
//   LockServer server(runtime.context());
//   runtime.run();  // until stop() or a node failure
//
// Threading contract: construct a Runtime on any thread, then call run()/run_until() from one
// thread only; everything on its Context runs there. stop() may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "dsys/core/context.hpp"
#include "dsys/net/frame.hpp"  // kMaxFrame

namespace dsys::net {

struct Options {
  std::string name = "node";                 // for log lines
  std::optional<std::uint16_t> listen_port;  // listen here (0: any free port); none: client only
  std::string listen_host = "127.0.0.1";
  std::string storage_dir;            // the node's disk; empty: a fresh temporary directory
  unsigned lossy_percent = 0;         // lose, and separately duplicate, N % of messages
  std::optional<std::uint64_t> seed;  // none: from the OS
  bool log_to_stderr = true;

  // Defaults, with lossy_percent from DSYS_RPC_LOSSY and seed from DSYS_SEED when they are set.
  static Options from_environment();
};

class Runtime {
 public:
  explicit Runtime(Options options);  // throws UsageError when the port cannot be bound
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  core::Context& context();
  // The address this node listens on (invalid when it does not listen).
  core::Address address() const;

  // Runs until stop() is called or a spawned task fails; returns false after a failure.
  bool run();
  // Runs until done() holds (true), or `limit` of real time passes or a task fails (false).
  bool run_until(const std::function<bool()>& done, core::Duration limit);
  void stop();
  // What failed, after run() returned false.
  const std::string& failure() const;

  // Counters, for tests and benchmarks.
  std::uint64_t frames_received() const;
  std::uint64_t connections_closed_for_bad_input() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dsys::net
