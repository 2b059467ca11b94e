// paxos_node --id I --peers ID=ADDR,... [--dir DIR] [--alpha N] [--batch N]: one node of lab 10's
// replicated log, as a real process: your PaxosNode (acceptor, proposer, learner, and lab 9's
// leader detection) on its address of the list.
//
//   --id I          this node's id (and rank), one of the list's
//   --peers LIST    every node of the group, this one included: ID=ADDR, separated by commas
//                   (ADDR: HOST:PORT, or PORT on 127.0.0.1). Every node must be given the same
//                   list. This node listens at its own ADDR, unless --listen says otherwise.
//   --dir DIR       its disk (the acceptor's state and the delivered log): kept across restarts,
//                   made if missing; default: a fresh temporary directory, removed at exit (a
//                   restarted node then starts empty, as a new acceptor: give --dir to restart)
//   --alpha N       at most N slots proposed beyond what it delivered (1 to 1000; default 8)
//   --batch N       at most N commands in one slot (1 to 64; default 16)
//   --fsync on|off  off: its disk is never fsynced (./dsys bench multipaxos's "fsync off": what
//                   it wrote survives a SIGKILL of the node, not a crash of the machine); default
//                   on
//
// Prints "paxos_node: listening on ADDR" once it listens, then "leader: N" at each change of the
// leader it trusts. Clients use paxos_client. Runs until SIGINT or SIGTERM (exit status 0). Bad
// arguments: a usage message and status 2.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dsys/net/host.hpp"
#include "dsys/net/runtime.hpp"
#include "main/group_args.hpp"
#include "main/node_address.hpp"
#include "paxos_node.hpp"

namespace {

int usage(std::string_view why) {
  std::cerr << fmt::format(
      "paxos_node: {}\nusage: paxos_node --id I --peers ID=ADDR,ID=ADDR,... [--dir DIR] "
      "[--alpha N] [--batch N] [--fsync on|off] [--listen ADDR] [--announce ADDR]\n"
      "  one node of a Multi-Paxos replicated log (lab 10)\n"
      "  --id I: this node's id (a number from 1), one of the list's\n"
      "  --peers: every node of the group, this one included, the same list for every node;\n"
      "  this node listens at its own ADDR unless --listen says otherwise\n"
      "  --dir DIR: its disk, kept across restarts (default: a temporary one)\n"
      "  --alpha N: slots on their way at once (1 to 1000, default {}); --batch N: commands a "
      "slot (1 to {}, default {})\n"
      "  --fsync off: never fsync its disk (benchmarks; a machine crash may lose what it "
      "wrote)\n{}",
      why, dsys::lab10::Proposer::kAlpha, dsys::multipaxos::kMaxBatch,
      dsys::lab10::Proposer::kBatch, dsys::apps::kNodeAddressUsage);
  return 2;
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  dsys::apps::NodeAddress own;
  if (auto why = dsys::apps::take_node_address(args, own); !why.empty()) return usage(why);
  dsys::apps::GroupArgs group;
  if (auto why =
          dsys::apps::take_group_args(args, group, {"--dir", "--alpha", "--batch", "--fsync"});
      !why.empty())
    return usage(why);
  dsys::lab10::PaxosNode::Options node_options;
  if (group.options.contains("--alpha")) {
    auto alpha = dsys::apps::parse_number(group.options.at("--alpha"), 1, 1000);
    if (!alpha)
      return usage(fmt::format("--alpha '{}' is not 1 to 1000", group.options.at("--alpha")));
    node_options.alpha = *alpha;
  }
  if (group.options.contains("--batch")) {
    auto batch =
        dsys::apps::parse_number(group.options.at("--batch"), 1, dsys::multipaxos::kMaxBatch);
    if (!batch) {
      return usage(fmt::format("--batch '{}' is not 1 to {}", group.options.at("--batch"),
                               dsys::multipaxos::kMaxBatch));
    }
    node_options.batch = *batch;
  }
  bool fsync = true;
  if (group.options.contains("--fsync")) {
    const std::string& value = group.options.at("--fsync");
    if (value != "on" && value != "off")
      return usage(fmt::format("--fsync '{}' is neither on nor off", value));
    fsync = value == "on";
  }
  const dsys::net::HostPort mine = group.peers.at(group.self);
  try {
    auto options = dsys::net::Options::from_environment();
    options.name = "paxos_node";
    dsys::apps::apply(options, own.listen.value_or(mine), own.announce.value_or(mine));
    options.stop_on_signals = true;
    if (group.options.contains("--dir")) options.storage_dir = group.options.at("--dir");
    options.fsync = fsync;
    dsys::lab9::Peers addresses;
    for (const auto& [id, address] : group.peers) addresses.emplace(id, address.address());
    dsys::net::Runtime runtime(options, dsys::core::make_node<dsys::lab10::PaxosNode>(
                                            group.self, addresses, node_options));
    fmt::print("{}\n", dsys::apps::listening_line("paxos_node", runtime));
    std::fflush(stdout);
    auto& node = runtime.service<dsys::lab10::PaxosNode>();
    // The leader it trusts, printed at each change (checked between events).
    dsys::leader::Leader printed = node.leader();
    fmt::print("leader: {}\n", dsys::leader::to_string(printed));
    std::fflush(stdout);
    for (;;) {
      const bool changed =
          runtime.run_until([&] { return node.leader() != printed; }, std::chrono::hours(24 * 365));
      if (!runtime.failure().empty()) {
        std::cerr << fmt::format("paxos_node: stopped: {}\n", runtime.failure());
        return 1;
      }
      if (!changed) break;  // a signal
      printed = node.leader();
      fmt::print("leader: {}\n", dsys::leader::to_string(printed));
      std::fflush(stdout);
    }
    std::cerr << "paxos_node: stopped\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("paxos_node: {}\n", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "paxos_node: " << e.what() << "\n";
    return 1;
  }
}
