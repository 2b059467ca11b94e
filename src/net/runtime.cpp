// The real world on Boost.Asio: TCP frames with a hello, steady timers, files, a log that never
// blocks. Asio stays in this file, so that node and lab code compiles without it.
#include "dsys/net/runtime.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "dsys/core/error.hpp"
#include "dsys/net/breakpoint.hpp"
#include "dsys/net/file_storage.hpp"

namespace dsys::net {

namespace asio = boost::asio;
using asio::ip::tcp;
using core::Address;
using core::Bytes;
using Clock = std::chrono::steady_clock;

namespace {

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0')
    throw UsageError(fmt::format("{}={} is not a number", name, text));
  return value;
}

tcp::endpoint to_endpoint(Address a) {
  return {asio::ip::address_v4(a.ip()), a.port()};
}

std::string seconds_text(core::Duration d) {
  return fmt::format("{:.1f} s", std::chrono::duration<double>(d).count());
}

// ---- the log: lines go to a queue that one thread per process writes to stderr, so that a
// node never waits for stderr (a pipe nobody reads blocks a write forever). Bounded: when
// kMaxQueued bytes wait, further lines are counted and dropped, and the count is logged later.
class StderrLog {
 public:
  static StderrLog& instance() {
    static StderrLog* log = new StderrLog();  // never destroyed: its thread may be blocked
    return *log;
  }

  void write(std::string line) {
    std::lock_guard lock(mutex_);
    if (queued_bytes_ + line.size() > kMaxQueued) {
      ++dropped_;
      return;
    }
    if (dropped_ != 0) {
      std::string note =
          fmt::format("[{} log lines dropped: stderr was not being read]\n", dropped_);
      queued_bytes_ += note.size();
      queue_.push_back(std::move(note));
      dropped_ = 0;
    }
    queued_bytes_ += line.size();
    queue_.push_back(std::move(line));
    start_locked();
    ready_.notify_one();
  }

  // Starts the writing thread, if it has not started yet: a Runtime does so when it is built,
  // so that its first log line does not start a thread when resources may be short.
  void start() {
    std::lock_guard lock(mutex_);
    start_locked();
  }

  bool flush(core::Duration limit) {
    std::unique_lock lock(mutex_);
    return drained_.wait_for(lock, limit, [this] { return queue_.empty() && !writing_; });
  }

 private:
  static constexpr std::size_t kMaxQueued = 4u << 20;
  void start_locked() {
    if (thread_.joinable()) return;
    // A reader of stderr that has gone must not kill the process: the write fails instead.
    ::signal(SIGPIPE, SIG_IGN);
    thread_ = std::thread([this] { drain(); });
  }
  void drain() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ready_.wait(lock, [this] { return !queue_.empty(); });
      std::string batch;
      while (!queue_.empty() && batch.size() < (64u << 10)) {
        batch += queue_.front();
        queued_bytes_ -= queue_.front().size();
        queue_.pop_front();
      }
      writing_ = true;
      lock.unlock();
      std::string_view rest = batch;
      while (!rest.empty()) {
        const ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // stderr is gone: nothing more can be done with these lines
        rest.remove_prefix(static_cast<std::size_t>(n));
      }
      lock.lock();
      writing_ = false;
      if (queue_.empty()) drained_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_, drained_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  std::uint64_t dropped_ = 0;
  bool writing_ = false;
  std::thread thread_;
};

// ---- the hello: the first frame a connecting node sends, naming the address it listens on.
constexpr char kHelloMagic[4] = {'D', 'S', 'Y', 'H'};
constexpr std::uint8_t kHelloVersion = 1;
constexpr std::size_t kHelloSize = 4 + 1 + 4 + 2;

}  // namespace

std::string hello_message(Address listening) {
  std::string h(kHelloMagic, 4);
  h.push_back(static_cast<char>(kHelloVersion));
  const std::uint32_t ip = listening.valid() ? listening.ip() : 0;
  const std::uint16_t port = listening.valid() ? listening.port() : 0;
  for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>(ip >> (8 * i)));
  for (int i = 0; i < 2; ++i) h.push_back(static_cast<char>(port >> (8 * i)));
  return h;
}

namespace {

// Removes temporary node directories (dsys-NAME-PID-HEX) of processes that no longer run.
void remove_stale_temporary_directories() {
  std::error_code ec;
  const auto tmp = std::filesystem::temp_directory_path(ec);
  if (ec) return;
  for (const auto& entry : std::filesystem::directory_iterator(tmp, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("dsys-") || !entry.is_directory(ec)) continue;
    const auto last = name.rfind('-');
    if (last == std::string::npos || last < 5) continue;
    const auto before = name.rfind('-', last - 1);
    if (before == std::string::npos || before < 4) continue;
    const std::string pid_text = name.substr(before + 1, last - before - 1);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  }
}

// How many connections a node may have open: Limits::max_connections, and fewer than the
// process may open descriptors, keeping kReservedDescriptors for files and everything else.
constexpr std::size_t kReservedDescriptors = 32;
std::size_t connection_budget(const Limits& limits) {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) {
    return limits.max_connections;
  }
  const std::size_t usable = r.rlim_cur > 2 * kReservedDescriptors
                                 ? static_cast<std::size_t>(r.rlim_cur) - kReservedDescriptors
                                 : static_cast<std::size_t>(r.rlim_cur) / 2;
  return std::max<std::size_t>(1, std::min(limits.max_connections, usable));
}

bool out_of_descriptors(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec.value() == ENFILE;
}

}  // namespace

bool flush_log(core::Duration limit) {
  return StderrLog::instance().flush(limit);
}

Options Options::from_environment() {
  Options o;
  o.lossy_percent = static_cast<unsigned>(env_number("DSYS_RPC_LOSSY", 0));
  if (o.lossy_percent > 100) throw UsageError("DSYS_RPC_LOSSY must be a percentage (0 to 100)");
  if (std::getenv("DSYS_SEED") != nullptr) o.seed = env_number("DSYS_SEED", 0);
  const auto ms = [](const char* name, core::Duration fallback) {
    const std::uint64_t n = env_number(name, 0);
    if (n > 24ull * 3600 * 1000) throw UsageError(fmt::format("{} is over a day", name));
    return n == 0 ? fallback : core::Duration(std::chrono::milliseconds(n));
  };
  o.limits.idle_timeout = ms("DSYS_IDLE_TIMEOUT_MS", o.limits.idle_timeout);
  o.limits.stalled_timeout = ms("DSYS_STALLED_TIMEOUT_MS", o.limits.stalled_timeout);
  if (const char* file = std::getenv("DSYS_PARTITION_FILE")) o.partition_file = file;
  return o;
}

class Runtime::Impl final : public core::Host {
 public:
  Impl(Options options, const core::NodeFactory& factory)
      : options_(std::move(options)),
        start_(Clock::now()),
        rng_(options_.seed ? *options_.seed : std::random_device{}()),
        storage_(std::make_unique<FileStorage>(storage_dir(), options_.fsync)),
        acceptor_(io_),
        listening_(options_.listen_port ? listen() : Address()),
        announced_(announced_address()),
        hello_(hello_message(announced_)),
        // Node randomness (and so server nonces) must differ between incarnations even when a
        // seed is given: a restarted server that drew its old nonce would not be detected.
        context_(*this, announced_, options_.name, rng_.fork() ^ std::random_device{}()) {
    if (options_.log_to_stderr) StderrLog::instance().start();
    if (listening_.valid()) accept();
    if (options_.stop_on_signals) {
      signals_.emplace(io_, SIGINT, SIGTERM);
      stop_on_signal();
    }
    if (!options_.partition_file.empty()) {
      read_partition();
      partition_signal_.emplace(io_, SIGUSR1);
      reread_partition_on_signal();
    }
    if (factory) service_ = factory(context_);
  }

  ~Impl() override {
    // The node's tasks, then its service object, then (as members go) its Context.
    context_.shutdown();
    service_.reset();
    for (auto& [raw, c] : live_) close_socket(*c);
    if (options_.log_to_stderr) StderrLog::instance().flush(std::chrono::seconds(2));
    if (owns_storage_dir_) {
      const auto dir = storage_->directory();
      storage_.reset();
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  }

  core::Context& context() { return context_; }
  void* service_object() { return service_.get(); }
  Address address() const { return announced_; }
  Address listening_address() const { return listening_; }

  bool run_until(const std::function<bool()>& done, core::Duration limit) {
    const auto deadline = Clock::now() + limit;
    auto guard = asio::make_work_guard(io_);
    int since_clock = 0;
    int wakes_in_a_row = 0;
    while (!stop_requested_ && failure_.empty()) {
      if (done && done()) return true;
      // The node's own wakes first, but never more than 64 before a look at the io_context.
      if (!wakes_.empty() && ++wakes_in_a_row <= 64) {
        const core::WaiterId id = wakes_.front();
        wakes_.pop_front();
        context_.wake(id, core::WakeCause::signal);
        continue;
      }
      wakes_in_a_row = 0;
      if (io_.stopped()) io_.restart();
      // Handlers that are ready run one at a time (done() is checked after each), reading the
      // clock only every 64 of them.
      if (++since_clock < 64 && io_.poll_one() != 0) continue;
      since_clock = 0;
      const auto now = Clock::now();
      if (now >= deadline) break;
      if (!wakes_.empty()) continue;
      // Nothing ready: look again for a few microseconds before sleeping. A reply often comes
      // that soon, and waking a sleeping thread costs far more (most of all on a virtual
      // machine) than these looks. A node whose looks keep finding nothing (it is idle, or its
      // peers are slow) stops looking, but for one sleep in 16.
      if (missed_spins_ < 4 || ++sleeps_ % 16 == 0) {
        if (spin_until_ready(now + kSpin)) {
          missed_spins_ = 0;
          continue;
        }
        ++missed_spins_;
      }
      io_.run_one_for(std::min<core::Duration>(deadline - Clock::now(), std::chrono::seconds(1)));
    }
    return done ? done() && failure_.empty() : failure_.empty();
  }
  static constexpr auto kSpin = std::chrono::microseconds(30);
  int missed_spins_ = 0;
  std::uint64_t sleeps_ = 0;
  bool spin_until_ready(Clock::time_point until) {
    do {
      if (io_.poll_one() != 0 || !wakes_.empty()) return true;
    } while (Clock::now() < until && !stop_requested_);
    return false;
  }
  void stop() {
    stop_requested_ = true;
    io_.stop();
  }
  void resume() {
    stop_requested_ = false;
    if (signals_) stop_on_signal();
  }
  void stop_on_signal() {
    signals_->async_wait([this](boost::system::error_code ec, int signal) {
      if (ec) return;
      log_line(fmt::format("stopping: {}", signal == SIGINT ? "SIGINT" : "SIGTERM"));
      stop();
    });
  }
  // ---- the partition knob (Options::partition_file)
  void reread_partition_on_signal() {
    partition_signal_->async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      read_partition();
      reread_partition_on_signal();
    });
  }
  void read_partition() {
    const std::string& path = options_.partition_file;
    std::ifstream in(path);
    if (!in) {
      log_line(fmt::format("partition: cannot read {}: {}; the cut stays as it was", path,
                           std::strerror(errno)));
      return;
    }
    std::set<Address> cut;
    std::string word;
    while (in >> word) {
      const auto peer = Address::parse(word);
      if (!peer || peer->port() == 0) {
        log_line(
            fmt::format("partition: {}: '{}' is not a PORT or A.B.C.D:PORT; the cut stays "
                        "as it was",
                        path, word));
        return;
      }
      cut.insert(*peer);
    }
    cut_off_ = std::move(cut);
    std::string names;
    for (Address a : cut_off_) {
      names += ' ';
      names += a.to_string();
    }
    log_line(fmt::format("partition: cut off from{}", names.empty() ? " no one" : names));
  }
  bool cut_off(Address peer) const { return !cut_off_.empty() && cut_off_.contains(peer); }

  const std::string& failure() const { return failure_; }
  void post(std::function<void()> fn) { asio::post(io_, std::move(fn)); }
  std::unique_ptr<FdWatch> watch_readable(int fd, std::function<bool()> on_readable);

  Counters counters() const {
    Counters c = counters_;
    c.open_connections = live_.size();
    c.queued_bytes = 0;
    for (const auto& [raw, conn] : live_) c.queued_bytes += conn->queued();
    return c;
  }

  // ---- core::Host
  core::Time now() const override {
    return core::Time(std::chrono::duration_cast<core::Duration>(Clock::now() - start_));
  }
  std::int64_t wall_time_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // Timers: one asio timer for the node, over a heap of deadlines, firing on whole milliseconds
  // so that a busy node wakes at most a thousand times a second for its timers. Cancelling is
  // lazy: a deadline whose waiter has gone finds nothing to wake (Context::wake ignores it).
  void arm_timer(core::Time when, core::WaiterId id) override {
    deadlines_.push({when, id});
    if (when < armed_for_) rearm();
  }
  void cancel_timer(core::WaiterId) override {}
  // A wake from the node's own code (a notify, a spawn) waits in wakes_, which run_until serves
  // before the io_context: posting it to asio would make the reactor interrupt itself (a system
  // call) for every one.
  void post_wake(core::WaiterId id) override { wakes_.push_back(id); }
  void send(Address to, Bytes message) override;
  void disconnect(Address peer, std::string_view reason) override;
  core::Storage& storage() override { return *storage_; }
  void breakpoint(std::string_view name) override { reach_breakpoint(name); }
  void log_line(std::string_view text) override {
    if (!options_.log_to_stderr) return;
    StderrLog::instance().write(
        fmt::format("[{} {}] {}\n", core::format_time(now()), options_.name, text));
  }
  void fail(std::string_view what) override {
    log_line(fmt::format("FAILED: {}", what));
    if (failure_.empty()) failure_ = std::string(what);
    io_.stop();
  }

 private:
  struct Connection {
    explicit Connection(asio::io_context& io) : socket(io) {}
    std::size_t queued() const { return pending.size() + writing_bytes.size(); }
    tcp::socket socket;
    Address peer;             // for incoming connections, known once the hello has arrived
    bool outgoing = false;    // this node dialled it
    bool hello_seen = false;  // incoming: the peer's hello has arrived
    bool connected = false;
    bool closing = false;  // close once the queue is written
    bool closed = false;
    bool writing = false;
    bool reading = false;       // a read (or, parked, a wait for readability) is outstanding
    bool parked = false;        // quiet: no buffer, waiting for readability
    bool flush_posted = false;  // a write of `pending` is due after the current handlers
    bool paused = false;        // not reading: too much is queued to this peer
    std::string pending;        // frames to write next
    std::string writing_bytes;  // frames being written
    FrameDecoder decoder;
    Clock::time_point last_activity = Clock::now();
    Clock::time_point write_since = Clock::now();  // when the write in progress began
  };
  using ConnectionPtr = std::shared_ptr<Connection>;

  std::filesystem::path storage_dir() {
    if (!options_.storage_dir.empty()) return options_.storage_dir;
    remove_stale_temporary_directories();
    owns_storage_dir_ = true;
    return std::filesystem::temp_directory_path() /
           fmt::format("dsys-{}-{}-{:x}", options_.name, ::getpid(), rng_.next() & 0xffffff);
  }

  // The constructor cannot go on: the temporary directory it made goes (the destructor will not
  // run), then a UsageError says why.
  [[noreturn]] void refuse(const std::string& why) {
    if (owns_storage_dir_ && storage_) {
      const auto dir = storage_->directory();
      storage_.reset();
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
    throw UsageError(why);
  }

  Address listen() {
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address_v4(options_.listen_host, ec);
    if (ec) refuse(fmt::format("bad listen address '{}'", options_.listen_host));
    tcp::endpoint at(ip, *options_.listen_port);
    acceptor_.open(at.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(at, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      refuse(fmt::format("cannot listen on {}:{}: {}", options_.listen_host, *options_.listen_port,
                         ec.message()));
    }
    const auto local = acceptor_.local_endpoint();
    return Address::ipv4(local.address().to_v4().to_uint(), local.port());
  }

  // Options::announce, checked; else where it listens.
  Address announced_address() {
    if (!options_.announce) return listening_;
    if (!listening_.valid()) {
      refuse(
          "an announced address needs a node that listens (--announce without --listen or a "
          "port)");
    }
    const Address a = *options_.announce;
    if (a.is_node() || a.is_unlisted() || a.ip() == 0) {
      refuse(
          fmt::format("cannot announce '{}': name the address others reach this node at (not "
                      "0.0.0.0)",
                      a.to_string()));
    }
    // Port 0: the port it listens on.
    return Address::ipv4(a.ip(), a.port() != 0 ? a.port() : listening_.port());
  }

  // ---- timers
  void rearm() {
    constexpr auto kTick = std::chrono::milliseconds(1);
    const auto next = deadlines_.top().when.time_since_epoch();
    armed_for_ = core::Time(((next + kTick - core::Duration(1)) / kTick) * kTick);
    timer_.expires_at(start_ + armed_for_.time_since_epoch());
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;  // re-armed for an earlier deadline, or shutting down
      fire_timers();
    });
  }
  void fire_timers() {
    armed_for_ = core::Time::max();
    const core::Time now = this->now();
    while (!deadlines_.empty() && deadlines_.top().when <= now) {
      const core::WaiterId id = deadlines_.top().id;
      deadlines_.pop();
      context_.wake(id, core::WakeCause::timer);
    }
    if (!deadlines_.empty() && deadlines_.top().when < armed_for_) rearm();
  }

  // ---- accepting. At the connection budget the node stops accepting (the kernel keeps new
  // connections waiting) until one closes, so that descriptors stay for its disk and the
  // connections it dials; if descriptors run out all the same, it backs off and tries again.
  void accept() {
    if (live_.size() >= connection_budget_) {
      if (!accept_paused_) {
        log_line(fmt::format(
            "not accepting connections: {} are open, the most that {} ({}) "
            "allows; waiting for one to close",
            live_.size(),
            connection_budget_ == options_.limits.max_connections ? "Limits::max_connections"
                                                                  : "the descriptor limit",
            connection_budget_));
      }
      accept_paused_ = true;
      return;
    }
    accept_paused_ = false;
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        if (out_of_descriptors(ec)) {
          back_off_accepting(ec);
        } else {
          accept();  // the peer gave up before we took it: nothing to learn
        }
        return;
      }
      accept_backoff_ = core::Duration::zero();
      auto c = std::make_shared<Connection>(io_);
      c->socket = std::move(socket);
      c->connected = true;
      boost::system::error_code ignored;
      c->socket.set_option(tcp::no_delay(true), ignored);
      c->socket.non_blocking(true, ignored);
      const auto remote = c->socket.remote_endpoint(ignored);
      if (ignored) {
        accept();
        return;
      }
      // Until its hello names its listening address, the peer is known by its connection.
      c->peer = Address::unlisted(remote.address().to_v4().to_uint(), remote.port());
      add_live(c);
      read(c);
      accept();
    });
  }

  void back_off_accepting(const boost::system::error_code& ec) {
    ++counters_.accept_backoffs;
    accept_backoff_ = std::clamp<core::Duration>(accept_backoff_ * 2, 10ms, 1s);
    if (counters_.accept_backoffs == 1 || accept_backoff_ == 1s) {
      log_line(fmt::format(
          "cannot accept connections: {}; trying again in {} ms", ec.message(),
          std::chrono::duration_cast<std::chrono::milliseconds>(accept_backoff_).count()));
    }
    accept_timer_.expires_after(accept_backoff_);
    accept_timer_.async_wait([this](boost::system::error_code e) {
      if (!e) accept();
    });
  }

  // ---- connections
  void add_live(const ConnectionPtr& c) {
    live_[c.get()] = c;
    if (!sweeping_) sweep_later();
  }

  // Makes `c` the route to its peer unless another connection already is.
  void add_route(const ConnectionPtr& c) {
    auto [it, added] = routes_.try_emplace(c->peer, c);
    (void)it;
    (void)added;
  }

  // One read outstanding per connection, into the decoder's room. A connection quiet for a
  // second is parked by sweep(): its read is cancelled, its buffer given back, and it waits for
  // readability without one.
  void read(const ConnectionPtr& c) {
    if (c->closed || c->reading) return;
    if (c->queued() > options_.limits.pause_reading_at) {
      c->paused = true;  // resumed by write() once the peer has taken its replies
      return;
    }
    c->reading = true;
    if (c->parked) {
      c->socket.async_wait(tcp::socket::wait_read, [this, c](boost::system::error_code ec) {
        c->reading = false;
        if (c->closed || ec == asio::error::operation_aborted) return;
        if (ec) {
          drop(c);
          return;
        }
        c->parked = false;
        read(c);
      });
      return;
    }
    std::span<char> room = c->decoder.prepare();
    c->socket.async_read_some(
        asio::buffer(room.data(), room.size()),
        [this, c](boost::system::error_code ec, std::size_t n) {
          c->reading = false;
          if (c->closed) return;
          if (ec == asio::error::operation_aborted) {
            if (c->parked) {
              c->decoder.shrink();  // no read into its buffer is outstanding now
              read(c);
            }
            return;
          }
          if (ec) {
            if (c->decoder.buffered() != 0 && ec == asio::error::eof) {
              bad_input(c, fmt::format("truncated frame: connection closed after {} bytes of a "
                                       "frame",
                                       c->decoder.buffered()));
            } else {
              drop(c);
            }
            return;
          }
          c->decoder.commit(n);
          c->last_activity = Clock::now();
          if (!deliver_frames(c)) return;
          if (!c->outgoing && !c->hello_seen && c->decoder.announced() &&
              *c->decoder.announced() != kHelloSize) {
            // Not worth waiting for the end of a frame that cannot be a hello.
            bad_input(c, fmt::format("the first frame ({} bytes announced) is not a dsys hello",
                                     *c->decoder.announced()));
            return;
          }
          read(c);
        });
  }

  // Delivers every complete frame; false when the connection was closed.
  bool deliver_frames(const ConnectionPtr& c) {
    while (auto message = c->decoder.next()) {
      if (!c->outgoing && !c->hello_seen) {
        if (!accept_hello(c, *message)) return false;
        continue;
      }
      ++counters_.frames_received;
      if (cut_off(c->peer)) continue;  // the partition knob: dropped
      context_.deliver(c->peer, std::move(*message));
      if (c->closed) return false;  // the receiver disconnected it
    }
    if (c->decoder.failed()) {
      bad_input(c, c->decoder.error());
      return false;
    }
    return true;
  }

  bool accept_hello(const ConnectionPtr& c, std::string_view hello) {
    if (hello.size() != kHelloSize || hello.substr(0, 4) != std::string_view(kHelloMagic, 4) ||
        static_cast<std::uint8_t>(hello[4]) != kHelloVersion) {
      bad_input(c, fmt::format("the first frame ({} bytes) is not a dsys hello", hello.size()));
      return false;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(hello.data() + 5);
    const std::uint32_t ip = p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t{p[3]} << 24);
    const std::uint16_t port = static_cast<std::uint16_t>(p[4] | (p[5] << 8));
    c->hello_seen = true;
    if (port != 0) {
      // A node listening on every interface names no ip: it is where its connection comes from.
      c->peer = Address::ipv4(ip != 0 ? ip : c->peer.ip(), port);
    }
    add_route(c);
    return true;
  }

  void bad_input(const ConnectionPtr& c, const std::string& why) {
    ++counters_.bad_input_closes;
    log_line(fmt::format("closing connection from {}: {}", c->peer.to_string(), why));
    drop(c);
  }

  void drop(const ConnectionPtr& c) {
    if (c->closed) return;
    c->closed = true;
    live_.erase(c.get());
    auto it = routes_.find(c->peer);
    if (it != routes_.end() && it->second == c) {
      routes_.erase(it);
      // Another connection with the same peer (both nodes dialled at once) takes over.
      for (auto& [raw, other] : live_) {
        if (other->peer == c->peer && (other->outgoing || other->hello_seen)) {
          routes_.emplace(c->peer, other);
          break;
        }
      }
    }
    close_socket(*c);
    if (accept_paused_ && live_.size() < connection_budget_) {
      accept_paused_ = false;
      asio::post(io_, [this] { accept(); });
    }
  }

  static void close_socket(Connection& c) {
    boost::system::error_code ignored;
    c.socket.shutdown(tcp::socket::shutdown_both, ignored);
    c.socket.close(ignored);
  }

  void connect(const ConnectionPtr& c) {
    c->socket.async_connect(to_endpoint(c->peer), [this, c](boost::system::error_code ec) {
      if (c->closed || ec == asio::error::operation_aborted) return;
      if (ec) {
        log_line(fmt::format("cannot connect to {}: {}", c->peer.to_string(), ec.message()));
        drop(c);
        context_.report_unreachable(c->peer);
        return;
      }
      boost::system::error_code ignored;
      c->socket.set_option(tcp::no_delay(true), ignored);
      c->socket.non_blocking(true, ignored);
      c->connected = true;
      c->last_activity = Clock::now();
      read(c);
      write(c);
    });
  }

  void write(const ConnectionPtr& c) {
    if (c->writing || !c->connected || c->closed) return;
    if (c->pending.empty()) {
      if (c->closing) drop(c);
      return;
    }
    // Eagerly: the socket usually takes it all at once, and then no operation is outstanding.
    boost::system::error_code ec;
    const std::size_t n = c->socket.write_some(asio::buffer(c->pending), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      drop(c);
      return;
    }
    if (!ec && n == c->pending.size()) {
      c->pending.clear();
      c->last_activity = Clock::now();
      if (c->closing) {
        drop(c);
      } else {
        resume_reading(c);
      }
      return;
    }
    if (!ec) c->pending.erase(0, n);
    std::swap(c->writing_bytes, c->pending);
    c->writing = true;
    c->write_since = Clock::now();
    asio::async_write(c->socket, asio::buffer(c->writing_bytes),
                      [this, c](boost::system::error_code ec, std::size_t) {
                        c->writing = false;
                        if (c->closed) return;
                        if (ec) {
                          drop(c);
                          return;
                        }
                        c->writing_bytes.clear();
                        c->last_activity = Clock::now();
                        write(c);
                        resume_reading(c);
                      });
  }

  // Reads a peer's requests again once it has taken most of what was queued to it.
  void resume_reading(const ConnectionPtr& c) {
    if (c->closed || !c->paused || c->queued() > options_.limits.pause_reading_at / 2) return;
    c->paused = false;
    read(c);
  }

  void enqueue(Address to, std::string_view message) {
    ConnectionPtr& route = routes_[to];
    if (!route) {
      route = std::make_shared<Connection>(io_);
      route->peer = to;
      route->outgoing = true;
      add_live(route);
      append_frame(route->pending, hello_);
      append_frame(route->pending, message);
      connect(route);
      return;
    }
    const ConnectionPtr c = route;  // drop() below may erase the route
    if (c->queued() + kFrameHeader + message.size() > options_.limits.max_queued_bytes) {
      ++counters_.stalled_closes;
      log_line(
          fmt::format("closing connection with {}: peer is not reading: {} bytes queued, "
                      "at most {}",
                      c->peer.to_string(), c->queued(), options_.limits.max_queued_bytes));
      drop(c);
      return;
    }
    append_frame(c->pending, message);
    if (!c->flush_posted) {
      write(c);  // the first message of a turn leaves at once, so that the peer can start on it
      flush_soon(c);
    }
  }

  // Writes what is pending once the handlers that are due have run, so that the replies (or
  // requests) they make leave in one write: fewer system calls, and fewer wake-ups of the peer.
  void flush_soon(const ConnectionPtr& c) {
    if (c->flush_posted || !c->connected) return;
    c->flush_posted = true;
    asio::post(io_, [this, c] {
      c->flush_posted = false;
      write(c);
    });
  }

  // ---- the sweep: every second while connections are open, close the stalled and the idle
  // and give back the buffers of the quiet.
  void sweep_later() {
    sweeping_ = true;
    sweep_timer_.expires_after(1s);
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      sweep();
      if (live_.empty()) {
        sweeping_ = false;
      } else {
        sweep_later();
      }
    });
  }
  void sweep() {
    const auto now = Clock::now();
    std::vector<ConnectionPtr> stalled, idle;
    for (auto& [raw, c] : live_) {
      if (!c->connected) continue;
      if (c->writing && now - c->write_since > options_.limits.stalled_timeout) {
        stalled.push_back(c);
      } else if (!c->writing && c->pending.empty() &&
                 now - c->last_activity > options_.limits.idle_timeout) {
        idle.push_back(c);
      } else if (now - c->last_activity > 1s && !c->writing && c->pending.empty() && !c->parked &&
                 c->reading) {
        c->parked = true;
        boost::system::error_code ignored;
        c->socket.cancel(ignored);  // the read ends with operation_aborted and parks (read())
        std::string().swap(c->pending);
        std::string().swap(c->writing_bytes);
      }
    }
    for (const ConnectionPtr& c : stalled) {
      ++counters_.stalled_closes;
      log_line(
          fmt::format("closing connection with {}: peer stopped reading ({} bytes unsent "
                      "for {})",
                      c->peer.to_string(), c->queued(), seconds_text(now - c->write_since)));
      drop(c);
    }
    for (const ConnectionPtr& c : idle) {
      ++counters_.idle_closes;
      drop(c);
    }
  }

  Options options_;
  Clock::time_point start_;
  core::Rng rng_;
  bool owns_storage_dir_ = false;
  std::unique_ptr<FileStorage> storage_;
  asio::io_context io_{1};
  tcp::acceptor acceptor_;
  Address listening_;
  Address announced_;  // what the hello and the Context name: listening_ unless announced
  std::string hello_;
  core::Context context_;
  std::shared_ptr<void> service_;  // built by the factory; destroyed before context_
  // Every open connection, and the one that carries messages to each peer address.
  std::unordered_map<Connection*, ConnectionPtr> live_;
  std::unordered_map<Address, ConnectionPtr> routes_;
  struct Deadline {
    core::Time when;
    core::WaiterId id;
    bool operator>(const Deadline& o) const { return when != o.when ? when > o.when : id > o.id; }
  };
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  asio::steady_timer timer_{io_};
  core::Time armed_for_ = core::Time::max();  // when timer_ fires next (max: not armed)
  asio::steady_timer accept_timer_{io_};
  core::Duration accept_backoff_ = core::Duration::zero();
  asio::steady_timer sweep_timer_{io_};
  bool sweeping_ = false;
  std::size_t connection_budget_ = connection_budget(options_.limits);
  bool accept_paused_ = false;
  std::optional<asio::signal_set> signals_;
  std::optional<asio::signal_set> partition_signal_;  // SIGUSR1, with a partition_file
  std::set<Address> cut_off_;                         // the peers whose messages are dropped
  std::string failure_;
  std::atomic<bool> stop_requested_{false};
  std::deque<core::WaiterId> wakes_;  // see post_wake
  Counters counters_;
};

void Runtime::Impl::send(Address to, Bytes message) {
  if (message.size() > kMaxFrame) {
    log_line(fmt::format("not sending a {}-byte message to {}: over the {}-byte limit",
                         message.size(), to.to_string(), kMaxFrame));
    return;
  }
  if (!to.valid() || to.is_node()) {
    asio::post(io_, [this, to] { context_.report_unreachable(to); });
    return;
  }
  if (to.is_unlisted() && !routes_.contains(to)) {
    ++counters_.dropped_to_departed;  // that client has gone, and it cannot be dialled
    return;
  }
  if (cut_off(to)) return;  // the partition knob: dropped
  if (options_.lossy_percent != 0) {
    const double p = options_.lossy_percent / 100.0;
    if (rng_.chance(p)) return;                // lost
    if (rng_.chance(p)) enqueue(to, message);  // duplicated
  }
  enqueue(to, message);
}

void Runtime::Impl::disconnect(Address peer, std::string_view reason) {
  auto it = routes_.find(peer);
  if (it == routes_.end()) return;
  ++counters_.bad_input_closes;
  log_line(fmt::format("closing connection with {}: {}", peer.to_string(), reason));
  ConnectionPtr c = it->second;
  c->closing = true;
  write(c);
}

// ---- watching a descriptor
namespace {
class AsioFdWatch final : public FdWatch {
 public:
  struct State {
    State(asio::io_context& io, int fd, std::function<bool()> f)
        : descriptor(io, fd), on_readable(std::move(f)), fd(fd) {}
    asio::posix::stream_descriptor descriptor;
    std::function<bool()> on_readable;
    int fd;
    bool alive = true;
  };
  explicit AsioFdWatch(std::shared_ptr<State> state) : state_(std::move(state)) { arm(state_); }
  ~AsioFdWatch() override {
    state_->alive = false;
    boost::system::error_code ignored;
    state_->descriptor.cancel(ignored);
    (void)state_->descriptor.release();  // the caller owns the descriptor
  }

 private:
  static void arm(const std::shared_ptr<State>& s) {
    s->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                             [s](boost::system::error_code ec) {
                               if (!s->alive || ec) return;
                               call_while_readable(s);
                             });
  }
  // Level-triggered: as long as data is left, call again (after other work has had its turn).
  static void call_while_readable(const std::shared_ptr<State>& s) {
    const bool drained = s->on_readable();
    if (!s->alive) return;
    pollfd p{s->fd, POLLIN, 0};
    if (!drained && ::poll(&p, 1, 0) > 0) {
      asio::post(s->descriptor.get_executor(), [s] {
        if (s->alive) call_while_readable(s);
      });
    } else {
      arm(s);
    }
  }
  std::shared_ptr<State> state_;
};
}  // namespace

std::unique_ptr<FdWatch> Runtime::Impl::watch_readable(int fd, std::function<bool()> on_readable) {
  if (fd < 0) throw UsageError(fmt::format("watch_readable: {} is not a file descriptor", fd));
  auto state = std::make_shared<AsioFdWatch::State>(io_, fd, std::move(on_readable));
  return std::make_unique<AsioFdWatch>(std::move(state));
}

Runtime::Runtime(Options options) : Runtime(std::move(options), nullptr) {}
Runtime::Runtime(Options options, const core::NodeFactory& factory)
    : impl_(std::make_unique<Impl>(std::move(options), factory)) {}
Runtime::~Runtime() = default;
core::Context& Runtime::context() {
  return impl_->context();
}
void* Runtime::service_object() {
  return impl_->service_object();
}
Address Runtime::address() const {
  return impl_->address();
}

Address Runtime::listening_address() const {
  return impl_->listening_address();
}
// Both return with the node's log lines written (or 1 s spent trying), so that what a program
// prints next comes after them.
bool Runtime::run() {
  const bool ok = impl_->run_until(nullptr, std::chrono::hours(24 * 365));
  StderrLog::instance().flush(std::chrono::seconds(1));
  return ok;
}
bool Runtime::run_until(const std::function<bool()>& done, core::Duration limit) {
  const bool ok = impl_->run_until(done, limit);
  StderrLog::instance().flush(std::chrono::seconds(1));
  return ok;
}
void Runtime::stop() {
  impl_->stop();
}
void Runtime::resume() {
  impl_->resume();
}
const std::string& Runtime::failure() const {
  return impl_->failure();
}
void Runtime::post(std::function<void()> fn) {
  impl_->post(std::move(fn));
}
std::unique_ptr<FdWatch> Runtime::watch_readable(int fd, std::function<bool()> on_readable) {
  return impl_->watch_readable(fd, std::move(on_readable));
}
Counters Runtime::counters() const {
  return impl_->counters();
}

}  // namespace dsys::net
