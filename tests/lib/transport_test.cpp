// The real world's node and transport: callbacks to the caller's listening address (the same
// code as in the simulated world), factory-built nodes and their teardown, signals, a door for
// file descriptors and other threads, and a server that attackers and crashed clients cannot take
// down. Servers under attack are real processes (`demo serve 0`, the echo service over TCP);
// their memory is read from /proc. Every wait has a deadline; none sleeps a fixed time.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <numeric>
#include <optional>
#include <sstream>
#include <thread>

#include "dsys/net/runtime.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "dsys/sim/world.hpp"
#include "dsys/testing/echo_service.hpp"
#include "dsys/testing/process.hpp"
#include "raw_socket.hpp"

using namespace std::chrono_literals;
using dsys::core::Address;
using dsys::core::Context;
using dsys::core::Task;
namespace echo = dsys::testing::echo;
namespace net = dsys::net;
namespace rpc = dsys::rpc;
using dsys::testing::RawSocket;

#ifndef DSYS_DEMO_PROGRAM
#error "DSYS_DEMO_PROGRAM names the demo program (tests/CMakeLists.txt)"
#endif

namespace {

// ---- a service that calls its caller back, and a node that hosts two services and a client
namespace callback {
inline constexpr rpc::ServiceId kPublisher = 120;
inline constexpr rpc::ServiceId kSubscriber = 121;
struct Subscribe {  // the publisher calls the caller back; replies with what it saw
  static constexpr rpc::ServiceId kService = kPublisher;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "callback.subscribe";
  using Request = std::uint32_t;  // a token to send back
  using Reply = std::string;      // "from=ADDRESS notify=RESULT increment=RESULT"
};
struct Notify {
  static constexpr rpc::ServiceId kService = kSubscriber;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "callback.notify";
  using Request = std::uint32_t;
  using Reply = rpc::Empty;
};
}  // namespace callback

std::string describe(const auto& result) {
  return result ? std::string("ok") : std::string(to_string(result.error()));
}

// Serves Subscribe: calls Notify, then echo's Increment (a second service of the same node),
// at the address the request came from.
class Publisher {
 public:
  explicit Publisher(Context& ctx) : service_(ctx, callback::kPublisher, "publisher") {
    service_.serve<callback::Subscribe>(
        [this](const std::uint32_t& token, const rpc::CallInfo& call) -> Task<std::string> {
          rpc::Client back(service_.endpoint(), call.from);
          auto notified = co_await back.call<callback::Notify>(token, 5s);
          auto counted = co_await back.call<echo::Increment>({}, 5s);
          co_return fmt::format("from={} notify={} increment={}", call.from.to_string(),
                                describe(notified),
                                counted ? std::to_string(*counted) : describe(counted));
        });
  }

 private:
  rpc::Service service_;
};

// Hosts the echo service and the Notify service, and subscribes to a publisher at start.
class Subscriber {
 public:
  Subscriber(Context& ctx, Address publisher)
      : echo_(ctx),
        notify_(ctx, callback::kSubscriber, "subscriber"),
        publisher_(rpc::Endpoint::of(ctx), publisher) {
    notify_.serve<callback::Notify>(
        [this](const std::uint32_t& token, const rpc::CallInfo&) -> Task<rpc::Empty> {
          tokens.push_back(token);
          co_return rpc::Empty{};
        });
    ctx.spawn([this]() -> Task<void> {
      auto r = co_await publisher_.call<callback::Subscribe>(7, 10s);
      reply = r ? *r : describe(r);
      done = true;
    });
  }
  std::vector<std::uint32_t> tokens;
  std::string reply;
  bool done = false;
  std::uint64_t increments() const { return echo_.counter; }

 private:
  echo::Server echo_;
  rpc::Service notify_;
  rpc::Client publisher_;
};

// ---- the real world's helpers
// Reads the node's counters on its own thread.
net::Counters counters_of(net::Runtime& runtime) {
  std::promise<net::Counters> promise;
  auto future = promise.get_future();
  runtime.post([&] { promise.set_value(runtime.counters()); });
  REQUIRE(future.wait_for(10s) == std::future_status::ready);
  return future.get();
}

// A Runtime running on a thread of its own, its node built by `factory`.
struct NodeThread {
  NodeThread(net::Options options, dsys::core::NodeFactory factory)
      : runtime(std::move(options), std::move(factory)), thread([this] { runtime.run(); }) {}
  ~NodeThread() {
    runtime.stop();
    thread.join();
  }
  net::Runtime runtime;
  std::thread thread;
};

// One Echo call from a fresh client node; true when it came back intact within 15 s.
bool echo_once(Address server) {
  net::Runtime runtime({.name = "client", .seed = 5, .log_to_stderr = false});
  bool done = false, ok = false;
  runtime.context().spawn([&]() -> Task<void> {
    rpc::Client client(rpc::Endpoint::of(runtime.context()), server);
    auto r = co_await client.call<echo::Echo>({"still here"}, 15s);
    ok = r && r->text == "still here";
    done = true;
  });
  return runtime.run_until([&] { return done; }, 20s) && ok;
}

// `demo serve 0`: the echo service in a process of its own.
struct ServerProcess {
  explicit ServerProcess(std::vector<std::string> env = {},
                         std::vector<std::string> argv = {DSYS_DEMO_PROGRAM, "serve", "0"})
      : process(std::move(argv), with_small_quarantine(std::move(env))) {
    auto line = process.wait_for_line("listening", 20s);
    REQUIRE(line);
    char address_text[64] = {};
    int child = 0;
    REQUIRE(std::sscanf(line->c_str() + line->find("listening"), "listening %63s pid %d",
                        address_text, &child) == 2);
    auto parsed = Address::parse(address_text);
    REQUIRE(parsed);
    address = *parsed;
    pid = child;
  }
  // Memory freed under ASan waits in a quarantine before reuse: keep it small, so that the
  // resident size measures what the server holds.
  static std::vector<std::string> with_small_quarantine(std::vector<std::string> env) {
    env.push_back("ASAN_OPTIONS=quarantine_size_mb=1:allocator_may_return_null=1");
    return env;
  }
  // A field of /proc/PID/status in KiB ("VmRSS", "VmHWM": the peak).
  std::uint64_t status_kib(std::string_view field) const {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(in, line)) {
      if (line.starts_with(std::string(field) + ":")) {
        return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10);
      }
    }
    FAIL("no " << field << " in /proc/" << pid << "/status");
    return 0;
  }
  std::size_t open_descriptors() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e :
         std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", pid))) {
      ++n;
    }
    return n;
  }
  // CPU time used so far, in clock ticks.
  std::uint64_t cpu_ticks() const {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string text((std::istreambuf_iterator<char>(in)), {});
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string f;
    std::uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
      if (i == 14) utime = std::stoull(f);
      if (i == 15) stime = std::stoull(f);
    }
    return utime + stime;
  }
  dsys::testing::Process process;
  Address address;
  pid_t pid = 0;
};

// The kernel's view of the server's connections on `port`: bytes not yet read by the server.
std::vector<std::uint64_t> unread_bytes_of_server_sockets(std::uint16_t port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // the column names
  std::vector<std::uint64_t> unread;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    fields >> slot >> local >> remote >> state >> queues;
    const auto colon = local.find(':');
    if (colon == std::string::npos || state != "01") continue;  // 01: established
    if (std::stoul(local.substr(colon + 1), nullptr, 16) != port) continue;
    unread.push_back(std::stoull(queues.substr(queues.find(':') + 1), nullptr, 16));
  }
  return unread;
}

std::string framed(std::string_view message) {
  std::string out;
  net::append_frame(out, message);
  return out;
}

std::string header_announcing(std::uint32_t n) {
  std::string h(4, '\0');
  for (int i = 0; i < 4; ++i) h[static_cast<std::size_t>(i)] = static_cast<char>(n >> (8 * i));
  return h;
}

// An Echo request of `text`, framed, as a client without a filter would send it.
std::string echo_request(rpc::Xid xid, const std::string& text) {
  std::string message;
  rpc::write_header(message, {.kind = rpc::Kind::request,
                              .service = echo::Echo::kService,
                              .procedure = echo::Echo::kId,
                              .client_nonce = 0x5eed,
                              .xid = xid});
  message += rpc::encode(echo::Text(text));
  return framed(message);
}

template <class Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    ::poll(nullptr, 0, 20);  // look again soon: the condition belongs to another process
  }
  return true;
}

constexpr std::uint64_t kMemoryBudgetKiB = 64 * 1024;

}  // namespace

// ---- 2. callbacks: `from` is the caller's listening address in both worlds
TEST_CASE(
    "a server calls back the address it saw, to either service of a two-service node, in "
    "the simulated world",
    "[transport][callback]") {
  dsys::sim::World world({.seed = dsys::sim::seed_from_env(11)});
  const auto publisher = world.add_node<Publisher>("publisher");
  const auto subscriber =
      world.add_node("subscriber", dsys::core::make_node<Subscriber>(world.address(publisher)));
  REQUIRE(world.run_until([&] { return world.service<Subscriber>(subscriber).done; }, 1min));
  Subscriber& s = world.service<Subscriber>(subscriber);
  CHECK(s.reply ==
        fmt::format("from={} notify=ok increment=1", world.address(subscriber).to_string()));
  CHECK(s.tokens == std::vector<std::uint32_t>{7});
  CHECK(s.increments() == 1);
}

TEST_CASE(
    "a server calls back the address it saw, to either service of a two-service node, "
    "over TCP",
    "[transport][callback]") {
  NodeThread publisher({.name = "publisher", .listen_port = 0, .seed = 1, .log_to_stderr = false},
                       dsys::core::make_node<Publisher>());
  net::Runtime subscriber(
      {.name = "subscriber", .listen_port = 0, .seed = 2, .log_to_stderr = false},
      dsys::core::make_node<Subscriber>(publisher.runtime.address()));
  Subscriber& s = subscriber.service<Subscriber>();
  REQUIRE(subscriber.run_until([&] { return s.done; }, 20s));
  // The publisher saw the subscriber's listening address, not the port of its connection.
  CHECK(s.reply == fmt::format("from={} notify=ok increment=1", subscriber.address().to_string()));
  CHECK(s.tokens == std::vector<std::uint32_t>{7});
  CHECK(s.increments() == 1);
}

// ---- 3. one way to build and stop a node
namespace {
struct Teardown {
  std::vector<std::string>* order;
  ~Teardown() { order->push_back("task"); }
};
struct OrderedNode {
  OrderedNode(Context& ctx, std::vector<std::string>* order) : order(order) {
    ctx.spawn([this, &ctx]() -> Task<void> {
      Teardown t{this->order};
      waiting = true;
      co_await ctx.sleep_for(1h);
    });
  }
  ~OrderedNode() { order->push_back("service"); }
  std::vector<std::string>* order;
  bool waiting = false;
};
}  // namespace

TEST_CASE("a real node built by a factory loses its tasks before its service object",
          "[transport][node]") {
  std::vector<std::string> order;
  {
    net::Runtime runtime({.name = "ordered", .log_to_stderr = false},
                         dsys::core::make_node<OrderedNode>(&order));
    REQUIRE(runtime.run_until([&] { return runtime.service<OrderedNode>().waiting; }, 10s));
    CHECK(order.empty());
  }
  CHECK(order == std::vector<std::string>{"task", "service"});
}

TEST_CASE("SIGTERM and SIGINT stop a real node cleanly, and its temporary directory goes with it",
          "[transport][node]") {
  for (int sig : {SIGTERM, SIGINT}) {
    ServerProcess server;
    const std::string prefix = fmt::format("dsys-counter-{}-", server.pid);
    auto own_directories = [&] {
      int n = 0;
      for (const auto& e :
           std::filesystem::directory_iterator(std::filesystem::temp_directory_path())) {
        if (e.path().filename().string().starts_with(prefix)) ++n;
      }
      return n;
    };
    CHECK(own_directories() == 1);
    REQUIRE(echo_once(server.address));
    server.process.signal(sig);
    CHECK(server.process.wait(20s) == 0);
    CHECK_THAT(server.process.output(),
               Catch::Contains(sig == SIGTERM ? "stopping: SIGTERM" : "stopping: SIGINT"));
    CHECK(own_directories() == 0);
  }
}

TEST_CASE("temporary directories of processes that have ended are removed at a node's start",
          "[transport][node]") {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  REQUIRE(::waitpid(child, nullptr, 0) == child);  // `child` is now a pid nobody has
  const auto stale =
      std::filesystem::temp_directory_path() / fmt::format("dsys-stale-{}-abc", child);
  std::filesystem::create_directories(stale / "inner");
  const auto alive = std::filesystem::temp_directory_path() /
                     fmt::format("dsys-alive-{}-abc", ::getppid());  // a running process's
  std::filesystem::create_directories(alive);
  { net::Runtime runtime({.name = "cleaner", .log_to_stderr = false}); }
  CHECK_FALSE(std::filesystem::exists(stale));
  CHECK(std::filesystem::exists(alive));
  std::filesystem::remove_all(alive);
}

// ---- 6. a door into a node
TEST_CASE(
    "a watched pipe is read on the node's thread, level-triggered, and post() from other "
    "threads runs there in order",
    "[transport][door]") {
  net::Runtime runtime({.name = "door", .log_to_stderr = false});
  int fds[2];
  REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  const auto node_thread = std::this_thread::get_id();  // run_until runs the node here
  std::string got;
  bool all_on_node = true;
  std::vector<int> posted;
  auto watch = runtime.watch_readable(fds[0], [&] {
    char c = 0;  // one byte per call: the watch must call again while bytes are left
    if (::read(fds[0], &c, 1) == 1) got.push_back(c);
    all_on_node = all_on_node && std::this_thread::get_id() == node_thread;
    return false;  // (bytes may be left: the watch looks itself)
  });
  const std::string message = "the kernel asks; the node answers on its own executor";
  std::thread other([&] {
    for (int i = 0; i < 100; ++i) {
      runtime.post([&, i] {
        posted.push_back(i);
        all_on_node = all_on_node && std::this_thread::get_id() == node_thread;
      });
    }
    REQUIRE(::write(fds[1], message.data(), message.size()) ==
            static_cast<ssize_t>(message.size()));
  });
  const bool finished =
      runtime.run_until([&] { return got.size() == message.size() && posted.size() == 100; }, 10s);
  other.join();
  REQUIRE(finished);
  CHECK(got == message);
  std::vector<int> in_order(100);
  std::iota(in_order.begin(), in_order.end(), 0);
  CHECK(posted == in_order);
  CHECK(all_on_node);
  // Ending the watch leaves the descriptor open.
  watch.reset();
  REQUIRE(::write(fds[1], "x", 1) == 1);
  char c = 0;
  CHECK(::read(fds[0], &c, 1) == 1);
  ::close(fds[0]);
  ::close(fds[1]);
}

// ---- 8. a transport that an attacker or a crashed client cannot take down
TEST_CASE("200 connections announcing 16 MiB frames cost the server little, and it serves on",
          "[transport][attack]") {
  ServerProcess server;
  REQUIRE(echo_once(server.address));
  const std::uint64_t idle = server.status_kib("VmRSS");
  std::vector<std::unique_ptr<RawSocket>> attackers;
  for (int i = 0; i < 200; ++i) {
    attackers.push_back(std::make_unique<RawSocket>(server.address));
    attackers.back()->send(framed(net::hello_message({})) + header_announcing(net::kMaxFrame) +
                           "abcd");
  }
  // The server has read every byte sent to it (the kernel holds none unread).
  REQUIRE(wait_until(
      [&] {
        auto unread = unread_bytes_of_server_sockets(server.address.port());
        return unread.size() >= 200 &&
               std::count(unread.begin(), unread.end(), 0) == static_cast<long>(unread.size());
      },
      30s));
  const std::uint64_t peak = server.status_kib("VmHWM");
  INFO("idle " << idle << " KiB, peak " << peak << " KiB");
  CHECK(peak < idle + kMemoryBudgetKiB);
  CHECK(echo_once(server.address));
}

TEST_CASE("a first frame that is not a hello closes the connection at once",
          "[transport][attack]") {
  ServerProcess server;
  RawSocket big(server.address);  // announces 16 MiB where a hello should be
  big.send(header_announcing(net::kMaxFrame) + "abcd");
  CHECK(big.closed_by_peer(10s));
  RawSocket wrong(server.address);  // a frame of a hello's size that is not one
  wrong.send(framed("HELLO-THERE"));
  CHECK(wrong.closed_by_peer(10s));
  RawSocket request_first(server.address);  // a well-formed request, but no hello before it
  request_first.send(echo_request(1, "hi"));
  CHECK(request_first.closed_by_peer(10s));
  CHECK(server.process.wait_for_line("is not a dsys hello", 10s));
  CHECK(echo_once(server.address));
}

TEST_CASE(
    "peers that send requests and never read replies are disconnected, and the server's "
    "memory stays bounded",
    "[transport][attack]") {
  ServerProcess server({"DSYS_STALLED_TIMEOUT_MS=1000"});
  REQUIRE(echo_once(server.address));
  const std::uint64_t idle = server.status_kib("VmRSS");
  constexpr int kPeers = 4;
  constexpr std::size_t kMaxSent = 96u << 20;  // each; far more than the kernel buffers hold
  std::vector<std::unique_ptr<RawSocket>> peers;
  std::vector<std::size_t> sent(kPeers, 0);
  std::vector<bool> cut(kPeers, false);
  for (int i = 0; i < kPeers; ++i) {
    peers.push_back(std::make_unique<RawSocket>(server.address));
    peers.back()->send(framed(net::hello_message({})));
    REQUIRE(::fcntl(peers.back()->fd(), F_SETFL, O_NONBLOCK) == 0);
  }
  // Send until the server cuts each peer off (or, failing that, stops taking bytes for 5 s).
  const std::string request = echo_request(1, std::string(60'000, 'r'));
  std::vector<std::size_t> offset(kPeers, 0);  // into `request`, for each peer's stream
  auto quiet_since = std::chrono::steady_clock::now();
  while (std::count(cut.begin(), cut.end(), true) < kPeers &&
         std::chrono::steady_clock::now() - quiet_since < 5s) {
    bool progress = false;
    for (int i = 0; i < kPeers; ++i) {
      if (cut[i] || sent[i] >= kMaxSent) continue;
      const ssize_t n = ::send(peers[i]->fd(), request.data() + offset[i],
                               request.size() - offset[i], MSG_NOSIGNAL);
      if (n > 0) {
        sent[i] += static_cast<std::size_t>(n);
        offset[i] = (offset[i] + static_cast<std::size_t>(n)) % request.size();
        progress = true;
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        cut[i] = true;  // reset by the server
      }
    }
    if (progress) {
      quiet_since = std::chrono::steady_clock::now();
    } else {
      pollfd p{peers[0]->fd(), POLLOUT, 0};
      ::poll(&p, 1, 50);
    }
  }
  for (int i = 0; i < kPeers; ++i) {
    REQUIRE(server.process.wait_for_line("peer stopped reading", 20s));
  }
  const std::uint64_t peak = server.status_kib("VmHWM");
  std::size_t total = 0;
  for (std::size_t s : sent) total += s;
  INFO("sent " << total / 1024 << " KiB; idle " << idle << " KiB, peak " << peak << " KiB");
  CHECK(total > kPeers * (1u << 20));  // the peers did make the server work
  CHECK(peak < idle + kMemoryBudgetKiB);
  CHECK(echo_once(server.address));
}

TEST_CASE("at its descriptor limit a server stops accepting, without spinning, and recovers",
          "[transport][attack]") {
  // 48 descriptors: the server takes 24 connections and keeps the rest for everything else.
  ServerProcess server({},
                       {"/bin/sh", "-c", "ulimit -n 48 && exec \"$0\" serve 0", DSYS_DEMO_PROGRAM});
  std::vector<std::unique_ptr<RawSocket>> hogs;
  for (int i = 0; i < 80; ++i) hogs.push_back(std::make_unique<RawSocket>(server.address));
  REQUIRE(server.process.wait_for_line("not accepting connections: 24 are open", 20s));
  // For a second, the server takes no further connection and (unlike a loop that re-arms at
  // once) uses almost no CPU.
  const std::size_t descriptors = server.open_descriptors();
  const std::uint64_t before = server.cpu_ticks();
  const auto start = std::chrono::steady_clock::now();
  const bool accepted_more =
      wait_until([&] { return server.open_descriptors() > descriptors; }, 1s);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = static_cast<double>(server.cpu_ticks() - before) /
                     static_cast<double>(::sysconf(_SC_CLK_TCK));
  INFO("the server used " << cpu << " s of CPU in " << waited << " s");
  CHECK_FALSE(accepted_more);
  CHECK(cpu < 0.3 * waited + 0.05);
  // As the hogs leave, it accepts again and serves a real client.
  hogs.clear();
  CHECK(echo_once(server.address));
}

TEST_CASE("a server whose stderr nobody reads goes on serving", "[transport][attack]") {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("dsys-fifo-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto fifo = dir / "stderr";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);  // never read
  REQUIRE(reader >= 0);
  {
    // Every call served logs an RPC STATS line: far more than a pipe holds.
    ServerProcess server({"DSYS_RPC_COUNT=1"}, {"/bin/sh", "-c", "exec \"$0\" serve 0 2>\"$1\"",
                                                DSYS_DEMO_PROGRAM, fifo.string()});
    net::Runtime runtime({.name = "client", .seed = 9, .log_to_stderr = false});
    int answered = 0;
    bool done = false;
    runtime.context().spawn([&]() -> Task<void> {
      rpc::Client client(rpc::Endpoint::of(runtime.context()), server.address);
      for (int i = 0; i < 2000; ++i) {
        if (!co_await client.call<echo::Null>({}, 10s)) break;
        ++answered;
      }
      done = true;
    });
    REQUIRE(runtime.run_until([&] { return done; }, 120s));
    CHECK(answered == 2000);
    char buffer[256];
    const ssize_t n = ::read(reader, buffer, sizeof buffer);  // the lines did go to stderr
    REQUIRE(n > 0);
    CHECK_THAT(std::string(buffer, static_cast<std::size_t>(n)), Catch::Contains("RPC STATS"));
  }
  ::close(reader);
  std::filesystem::remove_all(dir);
}

TEST_CASE("idle connections are closed, and a client whose connection was closed dials again",
          "[transport][limits]") {
  net::Options options{.name = "server", .listen_port = 0, .seed = 1, .log_to_stderr = false};
  options.limits.idle_timeout = 1500ms;
  NodeThread server(options, dsys::core::make_node<echo::Server>());
  net::Runtime client({.name = "client", .seed = 2, .log_to_stderr = false});
  int answered = 0;
  bool phase_done = false;
  auto call_once = [&]() -> Task<void> {
    rpc::Client rpc(rpc::Endpoint::of(client.context()), server.runtime.address());
    if (co_await rpc.call<echo::Echo>({"x"}, 5s)) ++answered;
    phase_done = true;
  };
  client.context().spawn(call_once);
  REQUIRE(client.run_until([&] { return phase_done; }, 10s));
  CHECK(counters_of(server.runtime).open_connections == 1);
  // Nothing moves for longer than the idle timeout: the server closes the connection.
  REQUIRE(wait_until([&] { return counters_of(server.runtime).idle_closes == 1; }, 20s));
  CHECK(counters_of(server.runtime).open_connections == 0);
  phase_done = false;
  client.context().spawn(call_once);
  REQUIRE(client.run_until([&] { return phase_done; }, 10s));
  CHECK(answered == 2);
}

TEST_CASE("a reply to a client-only node that has gone is dropped, never dialled",
          "[transport][limits]") {
  NodeThread server({.name = "server", .listen_port = 0, .seed = 1, .log_to_stderr = false},
                    dsys::core::make_node<echo::Server>());
  {
    net::Runtime client({.name = "client", .seed = 2, .log_to_stderr = false});
    bool sent = false;
    client.context().spawn([&]() -> Task<void> {
      rpc::Client rpc(rpc::Endpoint::of(client.context()), server.runtime.address());
      sent = true;
      (void)co_await rpc.call<echo::Wait>(300, 10s);  // the client is gone before the reply
    });
    REQUIRE(client.run_until(
        [&] { return sent && counters_of(server.runtime).frames_received >= 1; }, 10s));
  }
  REQUIRE(wait_until([&] { return counters_of(server.runtime).dropped_to_departed >= 1; }, 20s));
  const auto c = counters_of(server.runtime);
  CHECK(c.open_connections == 0);  // no connection was dialled to the client's old port
  CHECK(echo_once(server.runtime.address()));
}

TEST_CASE("the echo service refuses out-of-range waits and blob sizes over TCP", "[transport]") {
  ServerProcess server;
  net::Runtime runtime({.name = "client", .seed = 4, .log_to_stderr = false});
  std::vector<std::string> results;
  bool done = false;
  runtime.context().spawn([&]() -> Task<void> {
    rpc::Client client(rpc::Endpoint::of(runtime.context()), server.address);
    results.push_back(describe(co_await client.call<echo::Wait>(INT64_MAX, 5s)));
    results.push_back(describe(co_await client.call<echo::Wait>(-1, 5s)));
    results.push_back(describe(co_await client.call<echo::MakeBlob>(0xFFFFFFFFu, 5s)));
    results.push_back(describe(co_await client.call<echo::MakeBlob>(10, 5s)));
    done = true;
  });
  REQUIRE(runtime.run_until([&] { return done; }, 30s));
  CHECK(results ==
        std::vector<std::string>{"decode failure", "decode failure", "decode failure", "ok"});
}

TEST_CASE(
    "DSYS_PARTITION_FILE cuts a real process off from the peers it names, at SIGUSR1, keeps the "
    "cut on a bad file, and heals",
    "[transport][partition]") {
  const std::string file =
      (std::filesystem::temp_directory_path() / fmt::format("dsys-partition-{}", ::getpid()))
          .string();
  auto write = [&](const std::string& text) { std::ofstream(file, std::ios::trunc) << text; };
  write("");
  ServerProcess server({"DSYS_PARTITION_FILE=" + file});
  // (Its first reading is logged as it starts: before or after its "listening" line.)
  const bool read_at_start =
      server.process.output().find("partition: cut off from no one") != std::string::npos ||
      server.process.wait_for_line("partition: cut off from no one", 20s);
  REQUIRE(read_at_start);
  // A client that listens, so that the server knows it by its port.
  net::Runtime client({.name = "client", .listen_port = 0, .seed = 5, .log_to_stderr = false});
  auto call = [&](dsys::core::Duration timeout) {
    bool done = false, ok = false;
    client.context().spawn([&]() -> Task<void> {
      rpc::Client rpc(rpc::Endpoint::of(client.context()), server.address);
      auto r = co_await rpc.call<echo::Echo>({"hello"}, timeout);
      ok = r && r->text == "hello";
      done = true;
    });
    REQUIRE(client.run_until([&] { return done; }, timeout + 10s));
    return ok;
  };
  CHECK(call(10s));
  const std::string port = std::to_string(client.address().port());
  auto cut = [&](const std::string& text, std::string_view expect) {
    write(text);
    server.process.signal(SIGUSR1);
    auto line = server.process.wait_for_line(expect, 20s);
    INFO("the server's output:\n" << server.process.output());
    REQUIRE(line);
  };
  // Cut off (by port, with another peer that does not exist): requests are dropped.
  cut("7 " + port + "\n", "partition: cut off from 127.0.0.1:7 127.0.0.1:" + port);
  CHECK_FALSE(call(2s));
  // A file with something else in it: said, and the cut stays.
  cut("127.0.0.1:" + port + " not-a-port", "'not-a-port' is not a PORT or A.B.C.D:PORT");
  CHECK_FALSE(call(2s));
  // Healed.
  cut("", "partition: cut off from no one");
  CHECK(call(10s));
  std::filesystem::remove(file);
}
