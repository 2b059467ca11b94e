// apps/main/group_args.cpp: see group_args.hpp.
#include "main/group_args.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace dsys::apps {

leader::NodeId parse_node_id(const std::string& text) {
  auto value = parse_number(text, 1, 0xffffffffULL);
  return value ? static_cast<leader::NodeId>(*value) : 0;
}

std::optional<std::uint64_t> parse_number(const std::string& text, std::uint64_t low,
                                          std::uint64_t high) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const auto value = std::stoull(text);
  if (value < low || value > high) return std::nullopt;
  return value;
}

namespace {

std::string parse_peers(const std::string& text, std::map<leader::NodeId, net::HostPort>& peers) {
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string entry =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    const auto eq = entry.find('=');
    if (eq == std::string::npos) return fmt::format("--peers: '{}' is not ID=ADDR", entry);
    const leader::NodeId id = parse_node_id(entry.substr(0, eq));
    if (id == 0) return fmt::format("--peers: '{}' has no node id (1, 2, 3, ...)", entry);
    auto address = net::parse_host_port(entry.substr(eq + 1), net::PortZero::refused);
    if (!address) return fmt::format("--peers: {}: {}", entry, address.error());
    if (address->ip == 0)
      return fmt::format("--peers: {}: 0.0.0.0 names no node (give its own address)", entry);
    if (!peers.emplace(id, *address).second)
      return fmt::format("--peers: node {} is listed twice", id);
  }
  for (const auto& [id, address] : peers) {
    for (const auto& [other, other_address] : peers) {
      if (id < other && address == other_address) {
        return fmt::format("--peers: nodes {} and {} have one address, {}", id, other,
                           address.to_string());
      }
    }
  }
  return "";
}

}  // namespace

std::string take_group_args(std::vector<std::string>& args, GroupArgs& out,
                            const std::vector<std::string>& more, bool want_id) {
  std::vector<std::string> known = more;
  known.emplace_back("--peers");
  if (want_id) known.emplace_back("--id");
  std::map<std::string, std::string> given;
  for (std::size_t i = 0; i < args.size();) {
    const std::string word = args[i];
    std::string option = word, value;
    if (const auto eq = word.find('='); word.starts_with("--") && eq != std::string::npos) {
      option = word.substr(0, eq);
      value = word.substr(eq + 1);
      i += 1;
    } else if (std::find(known.begin(), known.end(), word) == known.end()) {
      return fmt::format("unknown argument '{}'", word);
    } else if (i + 1 < args.size()) {
      value = args[i + 1];
      i += 2;
    } else {
      return fmt::format("{} needs a value", word);
    }
    if (std::find(known.begin(), known.end(), option) == known.end())
      return fmt::format("unknown argument '{}'", word);
    if (!given.emplace(option, value).second) return fmt::format("{} is given twice", option);
  }
  args.clear();
  if (want_id && !given.contains("--id")) return "--id is missing";
  if (!given.contains("--peers")) return "--peers is missing";
  if (want_id) {
    out.self = parse_node_id(given.at("--id"));
    if (out.self == 0)
      return fmt::format("--id '{}' is not a node id (1, 2, 3, ...)", given.at("--id"));
  }
  if (auto why = parse_peers(given.at("--peers"), out.peers); !why.empty()) return why;
  if (want_id && !out.peers.contains(out.self))
    return fmt::format("--id {} is not in --peers (a node is one of its group)", out.self);
  for (const auto& name : more)
    if (given.contains(name)) out.options[name] = given.at(name);
  return "";
}

}  // namespace dsys::apps
