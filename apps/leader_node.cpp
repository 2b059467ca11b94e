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

// "7" -> 7; 0 (no node) for anything that is not a number from 1 to 2^32 - 1.
NodeId parse_id(const std::string& text) {
  if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  const auto value = std::stoull(text);
  return value > 0xffffffffULL ? 0 : static_cast<NodeId>(value);
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  dsys::apps::NodeAddress own;
  if (auto why = dsys::apps::take_node_address(args, own); !why.empty()) return usage(why);
  std::string id_text, peers_text;
  bool have_id = false, have_peers = false;
  for (std::size_t i = 0; i < args.size();) {
    // "--option value" or "--option=value".
    const std::string word = args[i];
    std::string option = word, value;
    if (const auto eq = word.find('='); word.starts_with("--") && eq != std::string::npos) {
      option = word.substr(0, eq);
      value = word.substr(eq + 1);
      i += 1;
    } else if (word != "--id" && word != "--peers") {
      return usage(fmt::format("unknown argument '{}'", word));
    } else if (i + 1 < args.size()) {
      value = args[i + 1];
      i += 2;
    } else {
      return usage(fmt::format("{} needs a value", word));
    }
    if (option == "--id" && !have_id) {
      id_text = value;
      have_id = true;
    } else if (option == "--peers" && !have_peers) {
      peers_text = value;
      have_peers = true;
    } else if (option == "--id" || option == "--peers") {
      return usage(fmt::format("{} is given twice", option));
    } else {
      return usage(fmt::format("unknown argument '{}'", word));
    }
  }
  if (!have_id) return usage("--id is missing");
  if (!have_peers) return usage("--peers is missing");
  const NodeId self = parse_id(id_text);
  if (self == 0) return usage(fmt::format("--id '{}' is not a node id (1, 2, 3, ...)", id_text));

  std::map<NodeId, dsys::net::HostPort> peers;
  std::size_t start = 0;
  while (start <= peers_text.size()) {
    const auto comma = peers_text.find(',', start);
    const std::string entry =
        peers_text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? peers_text.size() + 1 : comma + 1;
    const auto eq = entry.find('=');
    if (eq == std::string::npos) {
      return usage(fmt::format("--peers: '{}' is not ID=ADDR", entry));
    }
    const NodeId id = parse_id(entry.substr(0, eq));
    if (id == 0) return usage(fmt::format("--peers: '{}' has no node id (1, 2, 3, ...)", entry));
    auto address = dsys::net::parse_host_port(entry.substr(eq + 1), dsys::net::PortZero::refused);
    if (!address) return usage(fmt::format("--peers: {}: {}", entry, address.error()));
    if (address->ip == 0) {
      return usage(fmt::format("--peers: {}: 0.0.0.0 names no node (give its own address)", entry));
    }
    if (!peers.emplace(id, *address).second) {
      return usage(fmt::format("--peers: node {} is listed twice", id));
    }
  }
  if (!peers.contains(self)) {
    return usage(fmt::format("--id {} is not in --peers (a node is one of its group)", self));
  }
  for (const auto& [id, address] : peers) {
    for (const auto& [other, other_address] : peers) {
      if (id < other && address == other_address) {
        return usage(fmt::format("--peers: nodes {} and {} have one address, {}", id, other,
                                 address.to_string()));
      }
    }
  }
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
