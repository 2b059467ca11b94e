// paxos_client --peers ID=ADDR,... append --client C [--count N] [--timeout S]
// paxos_client --peers ID=ADDR,... read [--node ID] [--timeout S]
// A client of lab 10's replicated log (multipaxos::LogClient), as a real process.
//
//   append   appends N commands (default 1) as client C (a number from 1), numbered 1..N, with
//            payloads "c<C>.<n>", one at a time, each until a node says it is delivered; prints
//            "appended C:n at slot K" for each. A client id names its commands: use each once
//            per group (a second run of client C would be taken for retries of the first's).
//   read     prints node ID's log (default: the lowest id), one "C:n PAYLOAD" line a command,
//            then "commands: M".
//   --timeout S   give up after S seconds (default 60): status 1, saying what was done.
//
// Bad arguments: a usage message and status 2.
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dsys/multipaxos/client.hpp"
#include "dsys/net/runtime.hpp"
#include "main/group_args.hpp"

namespace {

int usage(std::string_view why) {
  std::cerr << fmt::format(
      "paxos_client: {}\nusage: paxos_client --peers ID=ADDR,... append --client C [--count N] "
      "[--timeout S]\n       paxos_client --peers ID=ADDR,... read [--node ID] [--timeout S]\n"
      "  a client of a Multi-Paxos replicated log (lab 10): append commands, or read a node's "
      "log\n",
      why);
  return 2;
}

struct Work {
  Work(dsys::core::Context& ctx, std::map<dsys::multipaxos::NodeId, dsys::core::Address> nodes,
       std::uint64_t id)
      : client(ctx, std::move(nodes), id) {}
  dsys::multipaxos::LogClient client;
  bool done = false;
};

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string verb;
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (*it == "append" || *it == "read") {
      verb = *it;
      args.erase(it);
      break;
    }
  }
  if (verb.empty()) return usage("say append or read");
  dsys::apps::GroupArgs group;
  std::vector<std::string> more = {"--timeout"};
  if (verb == "append") {
    more.insert(more.end(), {"--client", "--count"});
  } else {
    more.emplace_back("--node");
  }
  if (auto why = dsys::apps::take_group_args(args, group, more, false); !why.empty())
    return usage(why);
  auto number = [&](const std::string& option, std::uint64_t low, std::uint64_t high,
                    std::uint64_t fallback) -> std::optional<std::uint64_t> {
    if (!group.options.contains(option)) return fallback;
    return dsys::apps::parse_number(group.options.at(option), low, high);
  };
  const auto timeout = number("--timeout", 1, 86400, 60);
  if (!timeout) return usage("--timeout is 1 to 86400 seconds");
  std::map<dsys::multipaxos::NodeId, dsys::core::Address> nodes;
  for (const auto& [id, address] : group.peers) nodes.emplace(id, address.address());
  std::uint64_t id = 1, count = 1;
  dsys::multipaxos::NodeId at = nodes.begin()->first;
  if (verb == "append") {
    if (!group.options.contains("--client")) return usage("append needs --client C");
    const auto client = number("--client", 1, 1ULL << 62, 0);
    if (!client) return usage("--client is a number from 1");
    const auto n = number("--count", 1, 1000000, 1);
    if (!n) return usage("--count is 1 to 1000000");
    id = *client;
    count = *n;
  } else if (group.options.contains("--node")) {
    at = dsys::apps::parse_node_id(group.options.at("--node"));
    if (!nodes.contains(at))
      return usage(fmt::format("--node {} is not in --peers", group.options.at("--node")));
  }
  try {
    auto options = dsys::net::Options::from_environment();
    options.name = "paxos_client";
    dsys::net::Runtime runtime(options, dsys::core::make_node<Work>(nodes, id));
    auto& work = runtime.service<Work>();
    auto& ctx = runtime.context();
    const auto limit = std::chrono::seconds(*timeout);
    std::string failure;
    if (verb == "append") {
      ctx.spawn([&]() -> dsys::core::Task<void> {
        const auto deadline = ctx.now() + limit;
        for (std::uint64_t n = 1; n <= count; ++n) {
          auto slot = co_await work.client.append(fmt::format("c{}.{}", id, n), deadline);
          if (!slot) break;
          fmt::print("appended {}:{} at slot {}\n", id, n, *slot);
          std::fflush(stdout);
        }
        work.done = true;
      });
    } else {
      ctx.spawn([&]() -> dsys::core::Task<void> {
        auto log = co_await work.client.read(at, limit);
        if (!log) {
          failure = fmt::format("node {} did not answer within {} s", at, *timeout);
        } else {
          for (const auto& c : *log) fmt::print("{}:{} {}\n", c.client, c.sequence, c.payload);
          fmt::print("commands: {}\n", log->size());
        }
        work.done = true;
      });
    }
    const bool finished =
        runtime.run_until([&] { return work.done; }, limit + std::chrono::seconds(1));
    runtime.context().shutdown();
    if (verb == "append" && work.client.appended() < count) {
      std::cerr << fmt::format("paxos_client: {} of {} commands appended within {} s\n",
                               work.client.appended(), count, *timeout);
      return 1;
    }
    if (!finished || !failure.empty()) {
      std::cerr << fmt::format("paxos_client: {}\n",
                               failure.empty() ? "did not finish in time" : failure);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("paxos_client: {}\n", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "paxos_client: " << e.what() << "\n";
    return 1;
  }
}
