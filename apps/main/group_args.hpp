// apps/main/group_args.hpp: the command line of a node of a group whose members are numbered (lab
// 9's leader_node, lab 10's paxos_node and its client):
//
//   --id I          this node's id, a number from 1, one of the list's
//   --peers LIST    every node of the group, this one included: ID=ADDR, separated by commas
//                   (ADDR: HOST:PORT, or PORT on 127.0.0.1); each id and each address once
//
//   apps::GroupArgs group;
//   if (auto why = apps::take_group_args(args, group, {"--dir"}); !why.empty()) return usage(why);
//
// Each option is written "--option value" or "--option=value", at most once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dsys/leader/protocol.hpp"
#include "dsys/net/host.hpp"

namespace dsys::apps {

struct GroupArgs {
  leader::NodeId self = 0;  // 0 when --id is not wanted
  std::map<leader::NodeId, net::HostPort> peers;
  std::map<std::string, std::string> options;  // the other options asked for that were given
};

// Takes every argument of `args`: --id (when `want_id`), --peers, and the options named in
// `more` (each with a value). Returns why they are wrong (an unknown argument, a missing or
// repeated option, a bad id or list, --id not in --peers), or "" when they are fine.
std::string take_group_args(std::vector<std::string>& args, GroupArgs& out,
                            const std::vector<std::string>& more = {}, bool want_id = true);

// "7" -> 7; 0 (no node) for anything that is not a number from 1 to 2^32 - 1.
leader::NodeId parse_node_id(const std::string& text);

// "12" -> 12 within [low, high]; nullopt for anything else.
std::optional<std::uint64_t> parse_number(const std::string& text, std::uint64_t low,
                                          std::uint64_t high);

}  // namespace dsys::apps
