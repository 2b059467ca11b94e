// dsys/testing/echo_service.hpp: a tiny service for the library's own tests, the demo and the
// benchmarks: echo a string, make a blob of a given size, wait, count.
#pragma once

#include <cstdint>
#include <string>

#include "dsys/core/context.hpp"
#include "dsys/rpc/endpoint.hpp"

namespace dsys::testing::echo {

// Message types with members that own memory declare constructors: g++ 12 destroys an aggregate
// temporary twice when it is created inside a co_await expression (docs/architecture.md).
struct Text {
  Text() = default;
  Text(std::string t) : text(std::move(t)) {}  // NOLINT: implicit, so that {"hi"} works
  std::string text;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& text;
  }
};

inline constexpr rpc::ServiceId kService = 100;  // see rpc/procedure.hpp

// Procedures (dense ids, never reused). A request outside a procedure's `valid` bounds is
// refused like one that does not decode (Error::decode_failure).
struct Echo {
  static constexpr rpc::ServiceId kService = echo::kService;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "echo.echo";
  using Request = Text;
  using Reply = Text;
};
struct MakeBlob {  // a reply of `size` bytes, at most 8 MiB
  static constexpr rpc::ServiceId kService = echo::kService;
  static constexpr rpc::ProcedureId kId = 2;
  static constexpr std::string_view kName = "echo.make_blob";
  using Request = std::uint32_t;
  using Reply = std::string;
  static constexpr std::uint32_t kMaxSize = 8u << 20;
  static bool valid(const Request& size) { return size <= kMaxSize; }
};
struct Wait {  // replies after the given number of milliseconds, 0 to 60000
  static constexpr rpc::ServiceId kService = echo::kService;
  static constexpr rpc::ProcedureId kId = 3;
  static constexpr std::string_view kName = "echo.wait";
  using Request = std::int64_t;
  using Reply = rpc::Empty;
  static bool valid(const Request& ms) { return ms >= 0 && ms <= 60000; }
};
struct Increment {  // adds one to a counter and returns its new value
  static constexpr rpc::ServiceId kService = echo::kService;
  static constexpr rpc::ProcedureId kId = 4;
  static constexpr std::string_view kName = "echo.increment";
  using Request = rpc::Empty;
  using Reply = std::uint64_t;
};
struct Null {  // does nothing: measures the RPC layer itself
  static constexpr rpc::ServiceId kService = echo::kService;
  static constexpr rpc::ProcedureId kId = 5;
  static constexpr std::string_view kName = "echo.null";
  using Request = rpc::Empty;
  using Reply = rpc::Empty;
};

struct Unserved {  // declared but never served: calling it gives Error::unknown_procedure
  static constexpr rpc::ServiceId kService = echo::kService;
  static constexpr rpc::ProcedureId kId = 6;
  static constexpr std::string_view kName = "echo.unserved";
  using Request = rpc::Empty;
  using Reply = rpc::Empty;
};

// The server. `counter` counts Increment executions (with NoFilter, retransmissions count too).
class Server {
 public:
  explicit Server(core::Context& ctx) : ctx_(ctx), service_(ctx, kService, "echo") {
    service_.serve<Echo>(
        [](const Text& t, const rpc::CallInfo&) -> core::Task<Text> { co_return t; });
    service_.serve<MakeBlob>(
        [](const std::uint32_t& size, const rpc::CallInfo&) -> core::Task<std::string> {
          std::string blob(size, '\0');
          for (std::uint32_t i = 0; i < size; ++i) blob[i] = static_cast<char>('a' + i % 26);
          co_return blob;
        });
    service_.serve<Wait>(
        [this](const std::int64_t& ms, const rpc::CallInfo&) -> core::Task<rpc::Empty> {
          co_await ctx_.sleep_for(std::chrono::milliseconds(ms));
          co_return rpc::Empty{};
        });
    service_.serve<Increment>(
        [this](const rpc::Empty&, const rpc::CallInfo&) -> core::Task<std::uint64_t> {
          co_return ++counter;
        });
    service_.serve<Null>([](const rpc::Empty&, const rpc::CallInfo&) -> core::Task<rpc::Empty> {
      co_return rpc::Empty{};
    });
  }

  rpc::Endpoint& endpoint() { return service_.endpoint(); }
  std::uint64_t counter = 0;

 private:
  core::Context& ctx_;
  rpc::Service service_;
};

}  // namespace dsys::testing::echo
