// The real world: RPC over TCP on 127.0.0.1 between runtimes on separate threads, bad input on
// the wire, file storage. Every wait is bounded by a deadline; none sleeps a fixed time.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <thread>

#include "dsys/core/error.hpp"
#include "dsys/net/runtime.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "dsys/testing/echo_service.hpp"
#include "raw_socket.hpp"

using namespace std::chrono_literals;
using dsys::core::Address;
using dsys::core::Context;
using dsys::core::Task;
using dsys::rpc::Error;
namespace echo = dsys::testing::echo;
namespace net = dsys::net;
using dsys::testing::RawSocket;

namespace {

// An echo server on its own thread, listening on 127.0.0.1 (port 0: any free port).
struct ServerThread {
  explicit ServerThread(std::uint16_t port = 0, unsigned lossy = 0)
      : runtime({.name = "server",
                 .listen_port = port,
                 .lossy_percent = lossy,
                 .seed = 1,
                 .log_to_stderr = false},
                dsys::core::make_node<echo::Server>()),
        server(runtime.service<echo::Server>()),
        thread([this] { runtime.run(); }) {}
  ~ServerThread() { stop(); }
  void stop() {
    if (!thread.joinable()) return;
    runtime.stop();
    thread.join();
  }
  Address address() const { return runtime.address(); }

  net::Runtime runtime;
  echo::Server& server;
  std::thread thread;
};

// Runs `body` as a client coroutine on a runtime of this thread until it finishes (or 20 s pass).
template <class F>
bool run_client(Address server, F body, unsigned lossy = 0) {
  net::Runtime runtime(
      {.name = "client", .lossy_percent = lossy, .seed = 2, .log_to_stderr = false});
  Context& ctx = runtime.context();
  bool done = false;
  ctx.spawn([&]() -> Task<void> {
    dsys::rpc::Endpoint& endpoint = dsys::rpc::Endpoint::of(ctx);
    dsys::rpc::Client client(endpoint, server);
    co_await body(ctx, client);
    done = true;
  });
  return runtime.run_until([&] { return done; }, 20s);
}

std::string frame(const std::string& message) {
  std::string out;
  const auto n = static_cast<std::uint32_t>(message.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out + message;
}

std::string describe(const auto& result) {
  return result ? std::string("ok") : std::string(to_string(result.error()));
}

}  // namespace

TEST_CASE("real world: typed calls over TCP, with a 1 MB request and a 70000-byte reply", "[net]") {
  ServerThread server;
  std::string big(1 << 20, 'x');
  big[12345] = 'y';
  bool echoed = false, blob_ok = false;
  std::string small;
  REQUIRE(run_client(server.address(), [&](Context&, dsys::rpc::Client& rpc) -> Task<void> {
    auto r = co_await rpc.call<echo::Echo>({"hello"}, 5s);
    small = r ? r->text : describe(r);
    auto big_reply = co_await rpc.call<echo::Echo>({big}, 10s);
    echoed = big_reply && big_reply->text == big;
    auto blob = co_await rpc.call<echo::MakeBlob>(70000, 10s);
    blob_ok = blob && blob->size() == 70000 && (*blob)[26] == 'a';
  }));
  CHECK(small == "hello");
  CHECK(echoed);
  CHECK(blob_ok);
}

TEST_CASE("real world: deadlines, unknown procedures and unreachable servers are typed errors",
          "[net]") {
  ServerThread server;
  std::vector<std::string> results;
  REQUIRE(run_client(server.address(), [&](Context& ctx, dsys::rpc::Client& rpc) -> Task<void> {
    const auto start = ctx.now();
    results.push_back(describe(co_await rpc.call<echo::Wait>(3000, 200ms)));
    const auto waited = ctx.now() - start;
    results.push_back(waited >= 200ms && waited < 3s ? "returned at the deadline"
                                                     : "deadline not kept");
    results.push_back(describe(co_await rpc.call<echo::Unserved>({}, 5s)));
  }));
  CHECK(results ==
        std::vector<std::string>{"timeout", "returned at the deadline", "unknown procedure"});

  // A port where nothing listens: free one by closing a runtime that had it.
  Address nobody;
  {
    net::Runtime probe({.name = "probe", .listen_port = 0, .log_to_stderr = false});
    nobody = probe.address();
  }
  std::string error;
  REQUIRE(run_client(nobody, [&](Context&, dsys::rpc::Client& rpc) -> Task<void> {
    error = describe(co_await rpc.call<echo::Echo>({"anyone?"}, 10s));
  }));
  CHECK(error == "unreachable");
}

TEST_CASE("real world: a restarted server is detected by its client", "[net]") {
  std::optional<ServerThread> server;
  server.emplace();
  const Address address = server->address();
  std::vector<std::string> results;
  net::Runtime runtime({.name = "client", .seed = 3, .log_to_stderr = false});
  Context& ctx = runtime.context();
  dsys::rpc::Endpoint& endpoint = dsys::rpc::Endpoint::of(ctx);
  dsys::rpc::Client rpc(endpoint, address);
  int phase = 0;
  ctx.spawn([&]() -> Task<void> {
    results.push_back(describe(co_await rpc.call<echo::Increment>({}, 5s)));
    phase = 1;
  });
  if (!runtime.run_until([&] { return phase == 1; }, 20s)) {
    ctx.shutdown();
    FAIL("the first call did not finish");
  }
  server.reset();                  // the server process "dies"...
  server.emplace(address.port());  // ...and a new one starts on the same port
  ctx.spawn([&]() -> Task<void> {
    results.push_back(describe(co_await rpc.call<echo::Increment>({}, 5s)));
    rpc.rebind();
    auto fresh = co_await rpc.call<echo::Increment>({}, 5s);
    results.push_back(fresh ? fmt::format("counter {}", *fresh) : describe(fresh));
    phase = 2;
  });
  const bool finished = runtime.run_until([&] { return phase == 2; }, 20s);
  ctx.shutdown();  // no task may outlive `rpc` and `endpoint`
  REQUIRE(finished);
  CHECK(results == std::vector<std::string>{"ok", "server restarted", "counter 1"});
}

TEST_CASE(
    "real world: garbage, oversized, truncated and undecodable frames close only their connection",
    "[net]") {
  ServerThread server;
  auto still_serving = [&] {
    std::string got;
    run_client(server.address(), [&](Context&, dsys::rpc::Client& rpc) -> Task<void> {
      auto r = co_await rpc.call<echo::Echo>({"still here"}, 5s);
      got = r ? r->text : describe(r);
    });
    return got == "still here";
  };
  SECTION("random garbage") {
    RawSocket raw(server.address(), /*hello=*/true);
    std::string garbage;
    for (int i = 0; i < 3000; ++i) garbage.push_back(static_cast<char>((i * 7919 + 13) % 256));
    raw.send(garbage);
    CHECK(raw.closed_by_peer(10s));
  }
  SECTION("a frame announcing more than the maximum") {
    RawSocket raw(server.address(), /*hello=*/true);
    raw.send(std::string("\xff\xff\xff\x7f", 4) + "abc");
    CHECK(raw.closed_by_peer(10s));
  }
  SECTION("a well-framed message that is not an RPC") {
    RawSocket raw(server.address(), /*hello=*/true);
    raw.send(frame(std::string(100, 'z')));
    CHECK(raw.closed_by_peer(10s));
  }
  SECTION("a frame cut short by the client closing") {
    RawSocket raw(server.address(), /*hello=*/true);
    raw.send(frame(std::string(100, 'z')).substr(0, 50));
  }
  SECTION("a request whose body does not decode") {
    RawSocket raw(server.address(), /*hello=*/true);
    std::string message;
    dsys::rpc::write_header(
        message, {dsys::rpc::Kind::request, 0, echo::kService, echo::Echo::kId, 1234, 0, 1, 0});
    message += std::string("\xff\xff\xff\xff\xff\xff\xff\x0f", 8);  // a string of 2^60 bytes
    raw.send(frame(message));
    CHECK(raw.closed_by_peer(10s));
  }
  CHECK(still_serving());
}

TEST_CASE("real world: calls succeed with 20 % of messages lost or duplicated", "[net]") {
  ServerThread server(0, 20);
  int ok = 0;
  REQUIRE(run_client(
      server.address(),
      [&](Context&, dsys::rpc::Client& rpc) -> Task<void> {
        for (int i = 0; i < 30; ++i) {
          auto r = co_await rpc.call<echo::Echo>({std::to_string(i)}, 15s);
          if (r && r->text == std::to_string(i)) ++ok;
        }
      },
      20));
  CHECK(ok == 30);
}

TEST_CASE("real world: files keep what was synced, for the next runtime on the same directory",
          "[net]") {
  const auto dir =
      std::filesystem::temp_directory_path() / fmt::format("dsys-storage-test-{}", ::getpid());
  std::filesystem::remove_all(dir);
  {
    net::Runtime runtime({.name = "disk", .storage_dir = dir.string(), .log_to_stderr = false});
    auto& disk = runtime.context().storage();
    disk.write("accepted", "n=3 v=hello");
    disk.write("promised", "n=4");
    disk.remove("promised");
    disk.sync();
    CHECK_THROWS_AS(disk.write("no/slashes", "x"), dsys::UsageError);
  }
  net::Runtime again({.name = "disk", .storage_dir = dir.string(), .log_to_stderr = false});
  auto& disk = again.context().storage();
  CHECK(disk.read("accepted") == "n=3 v=hello");
  CHECK_FALSE(disk.read("promised"));
  CHECK(disk.keys() == std::vector<std::string>{"accepted"});
  std::filesystem::remove_all(dir);
}
