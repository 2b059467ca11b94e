// The real world on Boost.Asio: TCP frames, steady timers, files. Asio stays in this file, so
// that node and lab code compiles without it.
#include "dsys/net/runtime.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <queue>
#include <random>
#include <set>
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

Address to_address(const tcp::endpoint& e) {
  return Address::ipv4(e.address().to_v4().to_uint(), e.port());
}

tcp::endpoint to_endpoint(Address a) {
  return {asio::ip::address_v4(a.ip()), a.port()};
}

}  // namespace

Options Options::from_environment() {
  Options o;
  o.lossy_percent = static_cast<unsigned>(env_number("DSYS_RPC_LOSSY", 0));
  if (o.lossy_percent > 100) throw UsageError("DSYS_RPC_LOSSY must be a percentage (0 to 100)");
  if (std::getenv("DSYS_SEED") != nullptr) o.seed = env_number("DSYS_SEED", 0);
  return o;
}

class Runtime::Impl final : public core::Host {
 public:
  explicit Impl(Options options)
      : options_(std::move(options)),
        start_(std::chrono::steady_clock::now()),
        rng_(options_.seed ? *options_.seed : std::random_device{}()),
        storage_(storage_dir()),
        acceptor_(io_),
        listening_(options_.listen_port ? listen() : Address()),
        // Node randomness (and so server nonces) must differ between incarnations even when a
        // seed is given: a restarted server that drew its old nonce would not be detected.
        context_(*this, listening_, options_.name, rng_.fork() ^ std::random_device{}()) {
    if (listening_.valid()) accept();
  }

  ~Impl() override {
    context_.shutdown();
    for (auto& [addr, c] : connections_) close_socket(*c);
  }

  core::Context& context() { return context_; }
  Address address() const { return listening_; }

  bool run_until(const std::function<bool()>& done, core::Duration limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    auto guard = asio::make_work_guard(io_);
    while (!stop_requested_ && failure_.empty()) {
      if (done && done()) return true;
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= core::Duration::zero()) break;
      if (io_.stopped()) io_.restart();
      io_.run_one_for(std::min<core::Duration>(left, std::chrono::milliseconds(100)));
    }
    return done ? done() && failure_.empty() : failure_.empty();
  }
  void stop() {
    stop_requested_ = true;
    io_.stop();
  }
  const std::string& failure() const { return failure_; }
  std::uint64_t frames_received() const { return frames_received_; }
  std::uint64_t bad_input_closes() const { return bad_input_closes_; }

  // ---- core::Host
  core::Time now() const override {
    return core::Time(
        std::chrono::duration_cast<core::Duration>(std::chrono::steady_clock::now() - start_));
  }
  // Timers: one asio timer for the node, over a heap of deadlines, firing on whole milliseconds
  // so that a busy node wakes at most a thousand times a second for its timers. Cancelling is
  // lazy: a deadline whose waiter has gone finds nothing to wake (Context::wake ignores it).
  void arm_timer(core::Time when, core::WaiterId id) override {
    deadlines_.push({when, id});
    if (when < armed_for_) rearm();
  }
  void cancel_timer(core::WaiterId) override {}
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
  void post_wake(core::WaiterId id) override {
    asio::post(io_, [this, id] { context_.wake(id, core::WakeCause::signal); });
  }
  void send(Address to, Bytes message) override;
  void disconnect(Address peer, std::string_view reason) override;
  core::Storage& storage() override { return storage_; }
  void breakpoint(std::string_view name) override { reach_breakpoint(name); }
  void log_line(std::string_view text) override {
    if (!options_.log_to_stderr) return;
    std::cerr << fmt::format("[{} {}] {}\n", core::format_time(now()), options_.name, text);
  }
  void fail(std::string_view what) override {
    log_line(fmt::format("FAILED: {}", what));
    if (failure_.empty()) failure_ = std::string(what);
    io_.stop();
  }

 private:
  struct Connection {
    explicit Connection(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    Address peer;
    bool outgoing = false;
    bool connected = false;
    bool closing = false;  // close once the queue is written
    bool writing = false;
    std::deque<Bytes> queue;
    std::vector<asio::const_buffer> batch;
    std::size_t batch_frames = 0;
    std::vector<char> in = std::vector<char>(64 * 1024);
    std::size_t used = 0;
  };
  using ConnectionPtr = std::shared_ptr<Connection>;

  std::filesystem::path storage_dir() {
    if (!options_.storage_dir.empty()) return options_.storage_dir;
    return std::filesystem::temp_directory_path() /
           fmt::format("dsys-{}-{}-{:x}", options_.name, ::getpid(), rng_.next() & 0xffffff);
  }

  Address listen() {
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address_v4(options_.listen_host, ec);
    if (ec) throw UsageError(fmt::format("bad listen address '{}'", options_.listen_host));
    tcp::endpoint at(ip, *options_.listen_port);
    acceptor_.open(at.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(at, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw UsageError(fmt::format("cannot listen on {}:{}: {}", options_.listen_host,
                                   *options_.listen_port, ec.message()));
    }
    return to_address(acceptor_.local_endpoint());
  }

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted) accept();
        return;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto c = std::make_shared<Connection>(io_);
      c->socket = std::move(socket);
      c->connected = true;
      auto remote = c->socket.remote_endpoint(ignored);
      if (ignored) {
        accept();
        return;
      }
      c->peer = to_address(remote);
      connections_[c->peer] = c;
      read(c);
      accept();
    });
  }

  void read(const ConnectionPtr& c) {
    if (c->used == c->in.size()) c->in.resize(c->in.size() * 2);
    c->socket.async_read_some(asio::buffer(c->in.data() + c->used, c->in.size() - c->used),
                              [this, c](boost::system::error_code ec, std::size_t n) {
                                if (ec) {
                                  if (ec == asio::error::operation_aborted) return;
                                  if (c->used != 0 && ec == asio::error::eof) {
                                    bad_input(c, fmt::format("truncated frame: connection closed "
                                                             "after {} bytes of a frame",
                                                             c->used));
                                  } else {
                                    drop(c);
                                  }
                                  return;
                                }
                                c->used += n;
                                if (parse_frames(c)) read(c);
                              });
  }

  // Delivers every complete frame in the buffer; false when the connection was closed.
  bool parse_frames(const ConnectionPtr& c) {
    std::size_t offset = 0;
    while (c->used - offset >= 4) {
      const auto* p = reinterpret_cast<const unsigned char*>(c->in.data() + offset);
      const std::size_t length = p[0] | (p[1] << 8) | (p[2] << 16) | (std::size_t{p[3]} << 24);
      if (length > kMaxFrame) {
        bad_input(
            c, fmt::format("oversized frame: {} bytes announced, at most {}", length, kMaxFrame));
        return false;
      }
      if (c->used - offset - 4 < length) {
        if (c->in.size() < length + 4) c->in.resize(length + 4);  // room for the whole frame
        break;
      }
      Bytes message(c->in.data() + offset + 4, length);
      offset += 4 + length;
      ++frames_received_;
      context_.deliver(c->peer, std::move(message));
      if (!c->socket.is_open()) return false;  // the receiver disconnected it
    }
    if (offset != 0) {
      std::memmove(c->in.data(), c->in.data() + offset, c->used - offset);
      c->used -= offset;
    }
    return true;
  }

  void bad_input(const ConnectionPtr& c, const std::string& why) {
    ++bad_input_closes_;
    log_line(fmt::format("closing connection from {}: {}", c->peer.to_string(), why));
    drop(c);
  }

  void drop(const ConnectionPtr& c) {
    auto it = connections_.find(c->peer);
    if (it != connections_.end() && it->second == c) connections_.erase(it);
    if (!c->outgoing) {
      if (departed_.size() > 4096) departed_.clear();
      departed_.insert(c->peer);
    }
    close_socket(*c);
  }

  static void close_socket(Connection& c) {
    boost::system::error_code ignored;
    c.socket.shutdown(tcp::socket::shutdown_both, ignored);
    c.socket.close(ignored);
  }

  void connect(const ConnectionPtr& c) {
    c->socket.async_connect(to_endpoint(c->peer), [this, c](boost::system::error_code ec) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        log_line(fmt::format("cannot connect to {}: {}", c->peer.to_string(), ec.message()));
        drop(c);
        context_.report_unreachable(c->peer);
        return;
      }
      boost::system::error_code ignored;
      c->socket.set_option(tcp::no_delay(true), ignored);
      c->connected = true;
      read(c);
      write(c);
    });
  }

  void write(const ConnectionPtr& c) {
    if (c->writing || !c->connected) return;
    if (c->queue.empty()) {
      if (c->closing) drop(c);
      return;
    }
    c->batch.clear();
    c->batch_frames = 0;
    for (const Bytes& frame : c->queue) {
      c->batch.emplace_back(asio::buffer(frame));
      if (++c->batch_frames == 64) break;
    }
    c->writing = true;
    asio::async_write(c->socket, c->batch, [this, c](boost::system::error_code ec, std::size_t) {
      c->writing = false;
      if (ec) {
        if (ec != asio::error::operation_aborted) drop(c);
        return;
      }
      c->queue.erase(c->queue.begin(),
                     c->queue.begin() + static_cast<std::ptrdiff_t>(c->batch_frames));
      write(c);
    });
  }

  void enqueue(Address to, const Bytes& message) {
    Bytes frame;
    frame.reserve(4 + message.size());
    const auto n = static_cast<std::uint32_t>(message.size());
    for (int i = 0; i < 4; ++i) frame.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    frame.append(message);
    ConnectionPtr& c = connections_[to];
    if (!c) {
      c = std::make_shared<Connection>(io_);
      c->peer = to;
      c->outgoing = true;
      c->queue.push_back(std::move(frame));
      connect(c);
      return;
    }
    c->queue.push_back(std::move(frame));
    write(c);
  }

  Options options_;
  std::chrono::steady_clock::time_point start_;
  core::Rng rng_;
  FileStorage storage_;
  asio::io_context io_{1};
  tcp::acceptor acceptor_;
  Address listening_;
  core::Context context_;
  std::map<Address, ConnectionPtr> connections_;
  std::set<Address> departed_;  // clients whose connection closed: replies to them are dropped
  struct Deadline {
    core::Time when;
    core::WaiterId id;
    bool operator>(const Deadline& o) const { return when != o.when ? when > o.when : id > o.id; }
  };
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  asio::steady_timer timer_{io_};
  core::Time armed_for_ = core::Time::max();  // when timer_ fires next (max: not armed)
  std::string failure_;
  std::atomic<bool> stop_requested_{false};
  std::uint64_t frames_received_ = 0;
  std::uint64_t bad_input_closes_ = 0;
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
  if (departed_.contains(to) && !connections_.contains(to)) return;  // that client has gone
  if (options_.lossy_percent != 0) {
    const double p = options_.lossy_percent / 100.0;
    if (rng_.chance(p)) return;                // lost
    if (rng_.chance(p)) enqueue(to, message);  // duplicated
  }
  enqueue(to, message);
}

void Runtime::Impl::disconnect(Address peer, std::string_view reason) {
  auto it = connections_.find(peer);
  if (it == connections_.end()) return;
  ++bad_input_closes_;
  log_line(fmt::format("closing connection with {}: {}", peer.to_string(), reason));
  ConnectionPtr c = it->second;
  c->closing = true;
  write(c);
}

Runtime::Runtime(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Runtime::~Runtime() = default;
core::Context& Runtime::context() {
  return impl_->context();
}
Address Runtime::address() const {
  return impl_->address();
}
bool Runtime::run() {
  return impl_->run_until(nullptr, std::chrono::hours(24 * 365));
}
bool Runtime::run_until(const std::function<bool()>& done, core::Duration limit) {
  return impl_->run_until(done, limit);
}
void Runtime::stop() {
  impl_->stop();
}
const std::string& Runtime::failure() const {
  return impl_->failure();
}
std::uint64_t Runtime::frames_received() const {
  return impl_->frames_received();
}
std::uint64_t Runtime::connections_closed_for_bad_input() const {
  return impl_->bad_input_closes();
}

}  // namespace dsys::net
