// A node hosts several services on its one endpoint: service ids keep their procedure ids
// apart, each service has its own policy (duplicate filter, restart check), registration
// mistakes are clear errors, and dispatch() runs a procedure on marshalled bytes.
#include <catch2/catch.hpp>

#include "dsys/core/error.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "dsys/sim/world.hpp"

using namespace std::chrono_literals;
using dsys::core::Address;
using dsys::core::Context;
using dsys::core::Task;
namespace rpc = dsys::rpc;

namespace {

// Two protocols whose procedures have the same (dense) ids.
template <rpc::ServiceId S>
struct Get {
  static constexpr rpc::ServiceId kService = S;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "get";
  using Request = std::uint32_t;
  using Reply = std::string;
};
constexpr rpc::ServiceId kAlpha = 130, kBeta = 131;

// Answers every request as one the client has acknowledged already.
class ForgetAll final : public rpc::DuplicateFilter {
 public:
  rpc::Admission admit(rpc::Nonce, rpc::Xid, rpc::Xid, dsys::core::Bytes&) override {
    return rpc::Admission::forgotten;
  }
  void record(rpc::Nonce, rpc::Xid, const dsys::core::Bytes&) override {}
  std::size_t remembered() const override { return 0; }
};

// A node with two services, alpha and beta, each answering "<name> <n>" and counting its runs.
struct TwoServices {
  TwoServices(Context& ctx, rpc::ServicePolicy alpha_policy, rpc::ServicePolicy beta_policy)
      : alpha(ctx, kAlpha, "alpha", alpha_policy), beta(ctx, kBeta, "beta", beta_policy) {
    alpha.serve<Get<kAlpha>>(
        [this](const std::uint32_t& n, const rpc::CallInfo&) -> Task<std::string> {
          ++alpha_runs;
          co_return fmt::format("alpha {}", n);
        });
    beta.serve<Get<kBeta>>(
        [this](const std::uint32_t& n, const rpc::CallInfo&) -> Task<std::string> {
          ++beta_runs;
          co_return fmt::format("beta {}", n);
        });
  }
  int alpha_runs = 0, beta_runs = 0;
  rpc::Service alpha, beta;
};

std::string text_of(const rpc::CallResult<std::string>& r) {
  return r ? *r : std::string(to_string(r.error()));
}

}  // namespace

TEST_CASE("two services whose procedures have the same ids share a node, each answering its own",
          "[services]") {
  dsys::sim::World world({.seed = dsys::sim::seed_from_env(3)});
  const auto server = world.add_node(
      "server", dsys::core::make_node<TwoServices>(rpc::ServicePolicy{}, rpc::ServicePolicy{}));
  const auto client = world.add_node("client");
  std::vector<std::string> replies;
  world.context(client).spawn([&]() -> Task<void> {
    rpc::Client to(rpc::Endpoint::of(world.context(client)), world.address(server));
    replies.push_back(text_of(co_await to.call<Get<kAlpha>>(1, 5s)));
    replies.push_back(text_of(co_await to.call<Get<kBeta>>(2, 5s)));
    replies.push_back(text_of(co_await to.call<Get<kAlpha>>(3, 5s)));
  });
  world.run_until_idle(1min);
  CHECK(replies == std::vector<std::string>{"alpha 1", "beta 2", "alpha 3"});
  CHECK(world.service<TwoServices>(server).alpha_runs == 2);
  CHECK(world.service<TwoServices>(server).beta_runs == 1);
}

TEST_CASE("registering a service id or a procedure twice on a node is an error naming both",
          "[services]") {
  dsys::sim::World world({.seed = dsys::sim::seed_from_env(3)});
  const auto node = world.add_node("node");
  Context& ctx = world.context(node);
  rpc::Service alpha(ctx, kAlpha, "alpha");
  CHECK_THROWS_WITH(rpc::Service(ctx, kAlpha, "impostor"),
                    Catch::Contains("'alpha'") && Catch::Contains("'impostor'"));
  auto handler = [](const std::uint32_t&, const rpc::CallInfo&) -> Task<std::string> {
    co_return std::string();
  };
  alpha.serve<Get<kAlpha>>(handler);
  CHECK_THROWS_AS(alpha.serve<Get<kAlpha>>(handler), dsys::UsageError);
  CHECK_THROWS_WITH(alpha.serve<Get<kAlpha>>(handler), Catch::Contains("served twice"));
  // A procedure of another protocol is refused by name.
  CHECK_THROWS_WITH(alpha.serve<Get<kBeta>>(handler), Catch::Contains("service 131"));
}

TEST_CASE("each service has its own duplicate filter", "[services]") {
  dsys::sim::World world({.seed = dsys::sim::seed_from_env(3)});
  static ForgetAll forget_all;
  const auto server = world.add_node(
      "server", dsys::core::make_node<TwoServices>(rpc::ServicePolicy{.filter = &forget_all},
                                                   rpc::ServicePolicy{}));
  const auto client = world.add_node("client");
  std::vector<std::string> replies;
  world.context(client).spawn([&]() -> Task<void> {
    rpc::Client to(rpc::Endpoint::of(world.context(client)), world.address(server));
    replies.push_back(text_of(co_await to.call<Get<kAlpha>>(1, 5s)));
    replies.push_back(text_of(co_await to.call<Get<kBeta>>(2, 5s)));
  });
  world.run_until_idle(1min);
  CHECK(replies ==
        std::vector<std::string>{std::string(to_string(rpc::Error::forgotten)), "beta 2"});
  CHECK(world.service<TwoServices>(server).alpha_runs == 0);
}

TEST_CASE("each service decides whether requests to an earlier incarnation run", "[services]") {
  dsys::sim::World world({.seed = dsys::sim::seed_from_env(3)});
  // alpha refuses requests meant for an earlier incarnation (the default); beta runs them.
  const auto server = world.add_node(
      "server", dsys::core::make_node<TwoServices>(
                    rpc::ServicePolicy{}, rpc::ServicePolicy{.refuse_other_incarnations = false}));
  const auto client = world.add_node("client");
  std::vector<std::string> replies;
  bool bound = false, restarted = false, done = false;
  world.context(client).spawn([&]() -> Task<void> {
    rpc::Endpoint& endpoint = rpc::Endpoint::of(world.context(client));
    rpc::Client to_alpha(endpoint, world.address(server));
    rpc::Client to_beta(endpoint, world.address(server));
    // Both clients learn the first incarnation.
    replies.push_back(text_of(co_await to_alpha.call<Get<kAlpha>>(1, 5s)));
    replies.push_back(text_of(co_await to_beta.call<Get<kBeta>>(1, 5s)));
    bound = true;
    while (!restarted) co_await world.context(client).sleep_for(10ms);
    replies.push_back(text_of(co_await to_alpha.call<Get<kAlpha>>(2, 5s)));
    replies.push_back(text_of(co_await to_beta.call<Get<kBeta>>(2, 5s)));
    done = true;
  });
  REQUIRE(world.run_until([&] { return bound; }, 1min));
  world.crash(server);
  world.restart(server);
  restarted = true;
  REQUIRE(world.run_until([&] { return done; }, 1min));
  const std::string refused(to_string(rpc::Error::server_restarted));
  // Both calls fail for the clients (they detect the restart), but only beta ran its request.
  CHECK(replies == std::vector<std::string>{"alpha 1", "beta 1", refused, refused});
  CHECK(world.service<TwoServices>(server).alpha_runs == 0);
  CHECK(world.service<TwoServices>(server).beta_runs == 1);
}

TEST_CASE("dispatch runs a procedure on marshalled bytes and returns the reply's bytes",
          "[services]") {
  dsys::sim::World world({.seed = dsys::sim::seed_from_env(3)});
  const auto node = world.add_node(
      "node", dsys::core::make_node<TwoServices>(rpc::ServicePolicy{}, rpc::ServicePolicy{}));
  std::vector<std::string> results;
  world.context(node).spawn([&]() -> Task<void> {
    rpc::Endpoint& endpoint = rpc::Endpoint::of(world.context(node));
    const rpc::CallInfo call{.from = world.address(node)};
    auto ok = co_await endpoint.dispatch(kBeta, 1, rpc::encode(std::uint32_t{5}), call);
    std::string text;
    results.push_back(ok && rpc::decode(*ok, text) ? text : "no reply");
    auto unknown = co_await endpoint.dispatch(kBeta, 2, rpc::encode(std::uint32_t{5}), call);
    results.push_back(unknown ? "ran" : std::string(to_string(unknown.error())));
    auto no_service = co_await endpoint.dispatch(99, 1, rpc::encode(std::uint32_t{5}), call);
    results.push_back(no_service ? "ran" : std::string(to_string(no_service.error())));
    auto bad = co_await endpoint.dispatch(kAlpha, 1, "xy", call);
    results.push_back(bad ? "ran" : std::string(to_string(bad.error())));
  });
  world.run_until_idle(1min);
  const std::string unknown(to_string(rpc::Error::unknown_procedure));
  CHECK(results == std::vector<std::string>{"beta 5", unknown, unknown,
                                            std::string(to_string(rpc::Error::decode_failure))});
}

TEST_CASE("a dispatch-only service refuses requests from the network and runs dispatched ones",
          "[services]") {
  dsys::sim::World world({.seed = dsys::sim::seed_from_env(3)});
  const auto server = world.add_node(
      "server", dsys::core::make_node<TwoServices>(rpc::ServicePolicy{.dispatch_only = true},
                                                   rpc::ServicePolicy{}));
  const auto client = world.add_node("client");
  std::vector<std::string> results;
  world.context(client).spawn([&]() -> Task<void> {
    rpc::Client to(rpc::Endpoint::of(world.context(client)), world.address(server));
    results.push_back(text_of(co_await to.call<Get<kAlpha>>(1, 5s)));
    results.push_back(text_of(co_await to.call<Get<kBeta>>(2, 5s)));
  });
  world.run_until_idle(1min);
  world.context(server).spawn([&]() -> Task<void> {
    const rpc::CallInfo call{.from = world.address(client)};
    auto r = co_await rpc::Endpoint::of(world.context(server))
                 .dispatch(kAlpha, 1, rpc::encode(std::uint32_t{3}), call);
    std::string text;
    results.push_back(r && rpc::decode(*r, text) ? text : "no reply");
  });
  world.run_until_idle(1min);
  CHECK(results == std::vector<std::string>{std::string(to_string(rpc::Error::unknown_procedure)),
                                            "beta 2", "alpha 3"});
  CHECK(world.service<TwoServices>(server).alpha_runs == 1);
}

TEST_CASE("a caller may destroy its Client as soon as its reply has woken it", "[services]") {
  // Replies wake their callers by a posted event, never inside the delivery of the reply: a
  // caller that destroys its Client at once leaves nothing running on the freed object (ASan
  // checks).
  dsys::sim::World world({.seed = dsys::sim::seed_from_env(3)});
  const auto server = world.add_node(
      "server", dsys::core::make_node<TwoServices>(rpc::ServicePolicy{}, rpc::ServicePolicy{}));
  const auto client = world.add_node("client");
  int answered = 0;
  world.context(client).spawn([&]() -> Task<void> {
    for (int i = 0; i < 20; ++i) {
      auto to = std::make_unique<rpc::Client>(rpc::Endpoint::of(world.context(client)),
                                              world.address(server));
      auto r = co_await to->call<Get<kAlpha>>(static_cast<std::uint32_t>(i), 5s);
      to.reset();
      if (r) ++answered;
    }
  });
  world.run_until_idle(1min);
  CHECK(answered == 20);
}
