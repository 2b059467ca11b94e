// ./dsys bench rpc: null RPC round trips per second over TCP loopback, for 1 and 8 concurrent
// clients, side by side with a raw Boost.Asio ping-pong of the same frame size (the limit of
// the machine's loopback and syscalls), and the ratio of the two.
//
// Both sides of each measurement are one server thread and one client thread with a
// single-threaded io_context each, as dsys nodes run. The raw clients use a connection each;
// dsys's clients share their node's one connection to the server, as dsys does. A dsys node
// looks for work for up to 30 us before it sleeps (net::Runtime); the raw ping-pong sleeps in
// epoll_wait at once, so at one client the difference is mostly the cost of waking a thread.
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "brief.hpp"
#include "dsys/net/runtime.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "dsys/rpc/wire.hpp"
#include "dsys/testing/echo_service.hpp"

using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
namespace echo = dsys::testing::echo;

namespace {

const auto kDuration = dsys::bench::full_or_brief<std::chrono::milliseconds>(1500ms, 50ms);
constexpr int kRounds = 3;  // raw and dsys alternate; the median of each is reported
// A null RPC is a 4-byte frame length and a 36-byte header, both ways.
constexpr std::size_t kFrame = 4 + dsys::rpc::kHeaderSize;

// ---- raw Boost.Asio ping-pong: the server echoes each kFrame-byte message.
class RawServer {
 public:
  RawServer() : acceptor_(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RawServer() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    explicit Session(tcp::socket s) : socket(std::move(s)) {}
    void read() {
      asio::async_read(socket, asio::buffer(buffer),
                       [self = shared_from_this()](auto ec, std::size_t) {
                         if (!ec) self->write();
                       });
    }
    void write() {
      asio::async_write(socket, asio::buffer(buffer),
                        [self = shared_from_this()](auto ec, std::size_t) {
                          if (!ec) self->read();
                        });
    }
    tcp::socket socket;
    std::array<char, kFrame> buffer{};
  };
  void accept() {
    acceptor_.async_accept([this](auto ec, tcp::socket socket) {
      if (ec) return;
      socket.set_option(tcp::no_delay(true));
      std::make_shared<Session>(std::move(socket))->read();
      accept();
    });
  }
  asio::io_context io_{1};
  tcp::acceptor acceptor_;
  std::thread thread_;
};

double raw_round_trips_per_second(int clients) {
  RawServer server;
  asio::io_context io{1};
  struct Pinger {
    explicit Pinger(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    std::array<char, kFrame> buffer{};
  };
  std::vector<std::unique_ptr<Pinger>> pingers;
  std::uint64_t round_trips = 0;
  bool measuring = true;
  std::function<void(Pinger&)> ping = [&](Pinger& p) {
    asio::async_write(p.socket, asio::buffer(p.buffer), [&](auto ec, std::size_t) {
      if (ec) return;
      asio::async_read(p.socket, asio::buffer(p.buffer), [&](auto ec2, std::size_t) {
        if (ec2 || !measuring) return;
        ++round_trips;
        ping(p);
      });
    });
  };
  for (int i = 0; i < clients; ++i) {
    auto p = std::make_unique<Pinger>(io);
    p->socket.connect(tcp::endpoint(asio::ip::address_v4::loopback(), server.port()));
    p->socket.set_option(tcp::no_delay(true));
    pingers.push_back(std::move(p));
  }
  const auto start = Clock::now();
  for (auto& p : pingers) ping(*p);
  io.run_for(kDuration);
  measuring = false;
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return round_trips / seconds;
}

// ---- dsys: a Runtime with the echo server, and a client Runtime with `clients` coroutines.
double dsys_round_trips_per_second(int clients) {
  dsys::net::Runtime server_runtime(
      {.name = "server", .listen_port = 0, .seed = 1, .log_to_stderr = false},
      dsys::core::make_node<echo::Server>());
  std::thread server_thread([&] { server_runtime.run(); });

  dsys::net::Runtime runtime({.name = "client", .seed = 2, .log_to_stderr = false});
  dsys::core::Context& ctx = runtime.context();
  dsys::rpc::Endpoint& endpoint = dsys::rpc::Endpoint::of(ctx);
  std::uint64_t round_trips = 0;
  bool measuring = true;
  int running = clients;
  for (int i = 0; i < clients; ++i) {
    ctx.spawn([&]() -> dsys::core::Task<void> {
      dsys::rpc::Client client(endpoint, server_runtime.address());
      (void)co_await client.call<echo::Null>({}, 5s);  // connect before measuring
      while (measuring) {
        auto r = co_await client.call<echo::Null>({}, 5s);
        if (!r) break;
        ++round_trips;
      }
      --running;
    });
  }
  runtime.run_until([&] { return false; }, 200ms);  // connect and warm up
  round_trips = 0;
  const auto start = Clock::now();
  runtime.run_until([&] { return false; }, kDuration);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double rate = round_trips / seconds;
  measuring = false;
  runtime.run_until([&] { return running == 0; }, 5s);
  ctx.shutdown();  // no client task may outlive `endpoint`
  server_runtime.stop();
  server_thread.join();
  return rate;
}

}  // namespace

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// bench_rpc [raw|dsys CLIENTS]: both side by side (what ./dsys bench rpc runs), or one of them
// alone for 3 rounds (for profiling it: perf stat, perf record).
int main(int argc, char** argv) {
  if (argc == 3) {
    const std::string which = argv[1];
    const int clients = std::atoi(argv[2]);
    if ((which != "raw" && which != "dsys") || clients < 1 || clients > 64) {
      std::fprintf(stderr, "usage: bench_rpc [raw|dsys CLIENTS (1-64)]\n");
      return 2;
    }
    for (int round = 0; round < kRounds; ++round) {
      const double rate = which == "raw" ? raw_round_trips_per_second(clients)
                                         : dsys_round_trips_per_second(clients);
      fmt::print("{} {} clients: {:.0f} round trips/s\n", which, clients, rate);
    }
    return 0;
  }
  if (argc != 1) {
    std::fprintf(stderr, "usage: bench_rpc [raw|dsys CLIENTS]\n");
    return 2;
  }
  fmt::print(
      "null RPC round trips per second over TCP loopback: {} alternating rounds of {} ms each,\n"
      "median of each; {}-byte frames both ways. dsys nodes look for work for 30 us before\n"
      "sleeping; the raw ping-pong sleeps at once (see bench/rpc_bench.cpp)\n",
      kRounds, std::chrono::duration_cast<std::chrono::milliseconds>(kDuration).count(), kFrame);
  fmt::print("{:>8}  {:>14}  {:>14}  {:>8}\n", "clients", "raw asio", "dsys rpc", "ratio");
  for (int clients : {1, 8}) {
    std::vector<double> raw, rpc;
    for (int round = 0; round < kRounds; ++round) {
      raw.push_back(raw_round_trips_per_second(clients));
      rpc.push_back(dsys_round_trips_per_second(clients));
    }
    fmt::print("{:>8}  {:>14.0f}  {:>14.0f}  {:>7.2f}x\n", clients, median(raw), median(rpc),
               median(rpc) / median(raw));
  }
  return 0;
}
