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
#include "dsys/net/host.hpp"
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

// ---- nodes on other addresses (every 127.x.y.z is this machine's loopback)

namespace {

// A probe service: tells its caller the address its hello named, after calling it back there.
struct WhoCalled {
  static constexpr dsys::rpc::ServiceId kService = 101;  // probe (rpc/procedure.hpp)
  static constexpr dsys::rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "probe.who_called";
  using Request = dsys::rpc::Empty;
  using Reply = std::string;
};

class Reflector {
 public:
  explicit Reflector(Context& ctx) : service_(ctx, WhoCalled::kService, "probe") {
    service_.serve<WhoCalled>(
        [this](const dsys::rpc::Empty&, const dsys::rpc::CallInfo& info) -> Task<std::string> {
          dsys::rpc::Client back(service_.endpoint(), info.from);
          auto r = co_await back.call<echo::Echo>({"called back"}, 5s);
          co_return fmt::format("{} {}", info.from.to_string(), r ? r->text : describe(r));
        });
  }

 private:
  dsys::rpc::Service service_;
};

}  // namespace

TEST_CASE("real world: host:port parsing says what is wrong", "[net]") {
  using net::PortZero;
  const auto ok = [](std::string_view text, PortZero zero = PortZero::refused) {
    auto r = net::parse_host_port(text, zero);
    return r ? r->to_string() : "error: " + r.error();
  };
  CHECK(ok("5000") == "127.0.0.1:5000");
  CHECK(ok("10.77.0.2:5000") == "10.77.0.2:5000");
  CHECK(ok("localhost:7") == "127.0.0.1:7");
  CHECK(ok("0.0.0.0:0", PortZero::any_free_port) == "0.0.0.0:0");
  CHECK(ok("0") == "error: '0' is not a port number (1-65535) or HOST:PORT");
  CHECK(ok("99999") == "error: '99999' is not a port number (1-65535) or HOST:PORT");
  CHECK(ok("eighty", PortZero::any_free_port) ==
        "error: 'eighty' is not a port number (1-65535, or 0 for any free port) or HOST:PORT");
  CHECK(ok("10.0.0.256:80") ==
        "error: '10.0.0.256:80': '10.0.0.256' is not an IPv4 address (A.B.C.D, each 0-255) or a "
        "host name");
  CHECK(ok("1.2.3:80").starts_with("error: '1.2.3:80': '1.2.3' is not an IPv4 address"));
  CHECK(ok(":80") == "error: ':80' names no host before the ':'");
  CHECK(ok("a b:80").starts_with("error: 'a b:80': 'a b' is not an IPv4 address"));
  CHECK(ok("no-such-host.invalid:80")
            .starts_with("error: 'no-such-host.invalid:80': no IPv4 address for host "
                         "'no-such-host.invalid' ("));
  CHECK(ok("10.1.1.1:") == "error: '10.1.1.1:' is not a port number (1-65535) or HOST:PORT");
  // Where a called-back client listens: on loopback for a loopback server.
  CHECK(net::local_ip_toward(Address::ipv4(0x7f000002, 80)) == 0x7f000001);
}

TEST_CASE("real world: a node listens on any address, and its hello names what it announces",
          "[net]") {
  // The reflector listens on 127.0.0.2 only.
  net::Runtime reflector({.name = "reflector",
                          .listen_port = 0,
                          .listen_host = "127.0.0.2",
                          .seed = 1,
                          .log_to_stderr = false},
                         dsys::core::make_node<Reflector>());
  const Address at = reflector.address();
  REQUIRE(at.ip() == 0x7f000002);
  CHECK(reflector.listening_address() == at);
  std::thread thread([&] { reflector.run(); });

  // An echo node on every interface, announced as 127.0.0.3 with its own port: the reflector
  // sees that address and reaches it there.
  auto ask = [&](net::Options options) {
    options.name = "caller";
    options.log_to_stderr = false;
    net::Runtime caller(options, dsys::core::make_node<echo::Server>());
    std::string seen;
    caller.context().spawn([&]() -> Task<void> {
      dsys::rpc::Client rpc(dsys::rpc::Endpoint::of(caller.context()), at);
      auto r = co_await rpc.call<WhoCalled>({}, 10s);
      seen = r ? *r : describe(r);
    });
    CHECK(caller.run_until([&] { return !seen.empty(); }, 20s));
    return std::pair(seen, caller.address());
  };
  {
    net::Options o;
    o.listen_port = 0;
    o.listen_host = "0.0.0.0";
    o.announce = Address::ipv4(0x7f000003, 0);
    auto [seen, known_as] = ask(o);
    CHECK(known_as.ip() == 0x7f000003);
    CHECK(seen == fmt::format("{} called back", known_as.to_string()));
  }
  {
    // Listening on every interface and announcing nothing: it is where its connection comes from.
    net::Options o;
    o.listen_port = 0;
    o.listen_host = "0.0.0.0";
    auto [seen, known_as] = ask(o);
    CHECK(known_as.ip() == 0);
    CHECK(seen == fmt::format("127.0.0.1:{} called back", known_as.port()));
  }
  {
    // On 127.0.0.4, announcing nothing: its listening address.
    net::Options o;
    o.listen_port = 0;
    o.listen_host = "127.0.0.4";
    auto [seen, known_as] = ask(o);
    CHECK(known_as.ip() == 0x7f000004);
    CHECK(seen == fmt::format("{} called back", known_as.to_string()));
  }
  reflector.stop();
  thread.join();

  // What cannot be: a clear error, not a node that names itself wrongly.
  CHECK_THROWS_WITH(net::Runtime({.name = "x", .listen_port = 0, .announce = Address::ipv4(0, 5)}),
                    Catch::Contains("cannot announce '0.0.0.0:5'"));
  CHECK_THROWS_WITH(net::Runtime({.name = "x", .announce = Address::ipv4(0x0a000001, 5)}),
                    Catch::Contains("needs a node that listens"));
  CHECK_THROWS_WITH(net::Runtime({.name = "x", .listen_port = 0, .listen_host = "10.0.0.999"}),
                    Catch::Contains("bad listen address '10.0.0.999'"));
  // ... and the temporary directories those would have had are gone.
  const std::string mine = fmt::format("dsys-x-{}-", ::getpid());
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::temp_directory_path())) {
    CHECK_FALSE(entry.path().filename().string().starts_with(mine));
  }
}
