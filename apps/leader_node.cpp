// leader_node --id I --peers ID=ADDR,ID=ADDR,...: one node of lab 9's leader detection, as a real
// process: your LeaderNode (failure detector and leader detector) on its address of the list.
//
//   --id I          this node's id (and rank), one of the list's
//   --peers LIST    every node of the group, this one included: ID=ADDR, separated by commas
//                   (ADDR: HOST:PORT, or PORT on 127.0.0.1). Every node must be given the same
//                   list. This node listens at its own ADDR, unless --listen says otherwise.
//
// Prints "leader_node: listening on ADDR" once it listens, then "leader: N" (or "leader: unknown"
// when it suspects every node, itself included) for the leader at start, the highest id, and at
// every change. Runs until SIGINT or SIGTERM (exit status 0). Bad arguments: a usage message and
// status 2.
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dsys/net/host.hpp"
#include "dsys/net/runtime.hpp"
#include "leader_node.hpp"
#include "main/group_args.hpp"
#include "main/node_address.hpp"

namespace {

using dsys::leader::NodeId;

int usage(std::string_view why) {
  std::cerr << fmt::format(
      "leader_node: {}\nusage: leader_node --id I --peers ID=ADDR,ID=ADDR,... [--listen ADDR] "
      "[--announce ADDR]\n"
      "  one node of a group that detects its leader (lab 9); prints \"leader: N\" at each "
      "change\n"
      "  --id I: this node's id (a number from 1), one of the list's\n"
      "  --peers: every node of the group, this one included, the same list for every node;\n"
      "  this node listens at its own ADDR unless --listen says otherwise\n{}",
      why, dsys::apps::kNodeAddressUsage);
  return 2;
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  dsys::apps::NodeAddress own;
  if (auto why = dsys::apps::take_node_address(args, own); !why.empty()) return usage(why);
  dsys::apps::GroupArgs group;
  if (auto why = dsys::apps::take_group_args(args, group); !why.empty()) return usage(why);
  const NodeId self = group.self;
  const auto& peers = group.peers;
  const dsys::net::HostPort mine = peers.at(self);
  try {
    auto options = dsys::net::Options::from_environment();
    options.name = "leader_node";
    // Where it listens: its own entry, or --listen; known by its entry (or --announce).
    dsys::apps::apply(options, own.listen.value_or(mine), own.announce.value_or(mine));
    options.stop_on_signals = true;
    dsys::lab9::Peers addresses;
    for (const auto& [id, address] : peers) addresses.emplace(id, address.address());
    auto print = [](dsys::leader::Leader leader) {
      fmt::print("leader: {}\n", dsys::leader::to_string(leader));
      std::fflush(stdout);
    };
    dsys::net::Runtime runtime(
        options, dsys::core::make_node<dsys::lab9::LeaderNode>(self, addresses, print));
    fmt::print("{}\n", dsys::apps::listening_line("leader_node", runtime));
    print(runtime.service<dsys::lab9::LeaderNode>().leader());
    if (!runtime.run()) {
      std::cerr << fmt::format("leader_node: stopped: {}\n", runtime.failure());
      return 1;
    }
    std::cerr << "leader_node: stopped\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("leader_node: {}\n", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "leader_node: " << e.what() << "\n";
    return 1;
  }
}
