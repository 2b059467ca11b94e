// dsys/net/runtime.hpp: the real world. One node per Runtime (normally one per process): a
// single-threaded Boost.Asio io_context, TCP on 127.0.0.1 (unless told otherwise), the steady
// clock, and a directory of files as the node's disk.
//
// A program builds its node with the same factory as the simulated world, and the Runtime tears
// it down in the same order (the node's tasks, then its service object, then its Context):
//
//   auto options = net::Options::from_environment();
//   options.name = "lock_server";
//   options.listen_port = 3772;
//   options.stop_on_signals = true;                       // SIGINT/SIGTERM end run() cleanly
//   net::Runtime runtime(options, core::make_node<LockServer>());
//   return runtime.run() ? 0 : 1;                         // until stop(), a signal or a failure
//
// Waiting: when nothing is ready, a node looks again for up to 30 us before it sleeps (a reply
// often comes that soon, and waking a thread costs more); a node whose looks keep finding nothing
// stops looking, but for one sleep in 16. So an idle node costs next to nothing.
//
// Threading contract: construct a Runtime on any thread, then call run()/run_until() from one
// thread only; everything on its Context runs there. stop() and post() may be called from any
// thread while the Runtime exists.
//
// Addresses: every connection starts with a hello frame naming the address its node is known by
// (where it listens, or Options::announce), so a handler's CallInfo::from (and every address node
// code sees) is the caller's address, as in the simulated world, and a server can call its caller
// back. A node that does not listen is known as Address::unlisted(ip, port): replies reach it over
// its connection while it lasts; it is never dialled.
//
// Limits (docs/architecture.md, "The transport's limits"): a frame is at most kMaxFrame bytes and
// its buffer grows only as its bytes arrive; a connection's unsent bytes are bounded (Limits);
// a peer that stops reading, or a connection idle for too long, is closed with a logged reason;
// running out of file descriptors backs the accept loop off; log lines never block the node.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "dsys/core/context.hpp"
#include "dsys/net/frame.hpp"  // kMaxFrame

namespace dsys::net {

using namespace std::chrono_literals;

// Bounds on what one connection may cost the node.
struct Limits {
  // Unsent bytes queued to one peer. A send beyond it closes the connection ("peer is not
  // reading"): one peer that never reads cannot take the node's memory.
  std::size_t max_queued_bytes = kMaxFrame + (1u << 20);
  // While more than this is queued to a peer, the node stops reading that peer's requests, so
  // that it cannot make the node produce more replies than it takes.
  std::size_t pause_reading_at = 64u << 10;
  // A peer that has taken none of the bytes queued to it for this long is disconnected.
  core::Duration stalled_timeout = 30s;
  // A connection with no traffic either way for this long is closed (and dialled again when a
  // message must go to that address). Its buffers are given back after one second of quiet.
  core::Duration idle_timeout = 120s;
  // Connections open at once (fewer when the descriptor limit, RLIMIT_NOFILE, is lower: 32
  // descriptors stay for files). At the limit the node stops accepting until one closes.
  std::size_t max_connections = 4096;
};

struct Options {
  std::string name = "node";                 // for log lines
  std::optional<std::uint16_t> listen_port;  // listen here (0: any free port); none: client only
  std::string listen_host = "127.0.0.1";     // an IPv4 address; "0.0.0.0": every interface
  // The address this node names itself by, in its hello and as its Context's address: where the
  // others reach it, when that is not where it listens (it listens on 0.0.0.0, or behind a
  // forwarder). Port 0: the port it listens on. None: where it listens. Needs listen_port.
  std::optional<core::Address> announce;
  std::string storage_dir;  // the node's disk; empty: a fresh temporary directory,
                            // removed with the Runtime
  // false: the disk never fsyncs (benchmarks: what a sync promised survives a crash of the
  // process, not of the machine; see FileStorage).
  bool fsync = true;
  unsigned lossy_percent = 0;  // lose, and separately duplicate, N % of messages
  // A test's partition knob (the classic tester's): a file naming peers ("PORT" or
  // "A.B.C.D:PORT", separated by spaces or lines) whose messages this node drops, both those it
  // would send them and those it receives from them. Read at start and again at each SIGUSR1;
  // each reading logs "partition: cut off from ..." (or "partition: cut off from no one"); a file
  // that cannot be read or holds something else logs why and keeps the peers cut off before.
  // Empty: no knob (SIGUSR1 keeps its default action).
  std::string partition_file;
  std::optional<std::uint64_t> seed;  // none: from the OS
  bool log_to_stderr = true;
  bool stop_on_signals = false;  // SIGINT and SIGTERM make run() return true (for programs)
  Limits limits;

  // Defaults, with lossy_percent from DSYS_RPC_LOSSY, seed from DSYS_SEED, partition_file from
  // DSYS_PARTITION_FILE, and
  // limits.idle_timeout and limits.stalled_timeout from DSYS_IDLE_TIMEOUT_MS and
  // DSYS_STALLED_TIMEOUT_MS when they are set.
  static Options from_environment();
};

// Counters, for tests, benchmarks and the curious.
struct Counters {
  std::uint64_t frames_received = 0;
  std::uint64_t bad_input_closes = 0;  // malformed frames, oversized lengths, bad hellos, ...
  std::uint64_t stalled_closes = 0;    // peers that stopped reading
  std::uint64_t idle_closes = 0;
  std::uint64_t accept_backoffs = 0;      // accept failed for want of descriptors or memory
  std::uint64_t dropped_to_departed = 0;  // messages to an unlisted peer that has gone
  std::size_t open_connections = 0;
  std::size_t queued_bytes = 0;  // unsent, over all connections
};

// Watches a file descriptor on the node's executor (see Runtime::watch_readable).
class FdWatch {
 public:
  virtual ~FdWatch() = default;  // stops watching; the descriptor stays open (the caller owns it)
};

class Runtime {
 public:
  // A node whose code the program drives itself (spawning tasks on context()).
  explicit Runtime(Options options);  // throws UsageError when the port cannot be bound
  // A node whose service object `factory` builds on its Context, and which the Runtime destroys
  // after the node's tasks and before the Context.
  Runtime(Options options, const core::NodeFactory& factory);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  core::Context& context();
  // The service object the factory built (precondition: built with a factory, of type T).
  template <class T>
  T& service() {
    return *static_cast<T*>(service_object());
  }
  // The address this node is known by: Options::announce, else where it listens (invalid when it
  // does not listen).
  core::Address address() const;
  // Where its socket listens (0.0.0.0:PORT for every interface; invalid when it does not listen).
  core::Address listening_address() const;

  // Runs until stop() is called, a signal arrives (stop_on_signals) or a spawned task fails;
  // returns false after a failure.
  bool run();
  // Runs until done() holds (true), or `limit` of real time passes or a task fails (false).
  bool run_until(const std::function<bool()>& done, core::Duration limit);
  void stop();
  // After run() or run_until() returned because of stop() or a signal: lets them run again, for
  // a program's last work (lab 6's yfs_client writes its cache back). A signal that arrives from
  // then on stops them again.
  void resume();
  // What failed, after run() returned false.
  const std::string& failure() const;

  // Runs `fn` on the node's executor, soon. Thread-safe: the door for other threads.
  void post(std::function<void()> fn);
  // Calls `on_readable` on the node's executor whenever `fd` has data to read (or is at its end
  // or in error), until the returned watch is destroyed. `on_readable` returns true when it read
  // until the descriptor had nothing more (EAGAIN), which spares the watch a look of its own.
  // Level-triggered: if `on_readable` leaves
  // data unread it is called again. The descriptor is not owned: close it after the watch.
  std::unique_ptr<FdWatch> watch_readable(int fd, std::function<bool()> on_readable);

  Counters counters() const;
  std::uint64_t frames_received() const { return counters().frames_received; }
  std::uint64_t connections_closed_for_bad_input() const { return counters().bad_input_closes; }

 private:
  void* service_object();
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The first message (framed like every other) on a connection a node opens: "DSYH", version 1,
// the IPv4 address and port it is known by (Runtime::address(): announced, else where it listens;
// both 0 when it does not listen; ip 0 when it listens on every interface and announces nothing,
// and then its peer takes the connection's source address), little-endian. An
// accepted connection whose first frame is not a hello is closed.
std::string hello_message(core::Address listening);

// Waits up to `limit` for every log line written so far to reach stderr; false if it could not
// (stderr blocked). The Runtime does this when it is destroyed; programs that print after it
// need not.
bool flush_log(core::Duration limit);

}  // namespace dsys::net
