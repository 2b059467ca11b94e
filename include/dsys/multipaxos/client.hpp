// dsys/multipaxos/client.hpp: a client of lab 10's replicated log (given code, not a lab's): it
// appends commands, one at a time, and reads a node's log back. The tests' clients, the
// paxos_client program and the benchmark's load generator are this class.
//
//   multipaxos::LogClient log(ctx, nodes, 7);              // client 7 of the group `nodes`
//   multipaxos::Slot slot = co_await log.append("x=1");    // command 7:1, delivered at `slot`
//   auto commands = co_await log.read(2, 5s);              // node 2's log
//
// append() numbers its commands 1, 2, 3, ... and sends each until a node answers delivered: to
// the node it tried last, to the node a not_leader reply names, or, after busy, an error or
// kCallTimeout, to the next node of the group; kBackoff between tries. A node tells a command it
// applied already (a retry) by its number, so a command is in the log once whatever the retries.
//
// Threading contract: one node's Context; one append() at a time (a client's commands are
// numbered in order: the node keeps, per client, the highest number it applied).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsys/core/context.hpp"
#include "dsys/multipaxos/protocol.hpp"
#include "dsys/rpc/endpoint.hpp"

namespace dsys::multipaxos {

class LogClient {
 public:
  static constexpr core::Duration kCallTimeout = std::chrono::seconds(1);
  static constexpr core::Duration kBackoff = std::chrono::milliseconds(20);
  // Told each command just before it is first sent (the tests keep what may be delivered).
  using OnSend = std::function<void(const Command&)>;

  // Client `id` (from 1) of the group `nodes` (each node's id and address). `first`: the node
  // tried first (0: the one after id, round the group).
  LogClient(core::Context& ctx, std::map<NodeId, core::Address> nodes, std::uint64_t id,
            NodeId first = 0, OnSend on_send = nullptr);

  // Appends the next command, with `payload`, and returns its slot once a node answers
  // delivered; tries for ever (nullopt only when `deadline` passes first).
  core::Task<std::optional<Slot>> append(std::string payload,
                                         std::optional<core::Time> deadline = std::nullopt);
  // The commands of node `at`'s log, all of them (read in pieces of kMaxRead); nullopt when a
  // piece does not come within `timeout`.
  core::Task<std::optional<std::vector<Command>>> read(NodeId at, core::Duration timeout);

  std::uint64_t id() const { return id_; }
  std::uint64_t appended() const { return next_ - 1; }  // commands delivered so far
  NodeId target() const { return target_; }             // the node it will try next
  std::uint64_t tries() const { return tries_; }        // Append calls made, retries included

 private:
  rpc::Client& to(NodeId node);
  core::Context& ctx_;
  std::map<NodeId, core::Address> nodes_;
  std::uint64_t id_;
  NodeId target_;
  OnSend on_send_;
  std::uint64_t next_ = 1;
  std::uint64_t tries_ = 0;
  std::map<NodeId, std::unique_ptr<rpc::Client>> clients_;
};

}  // namespace dsys::multipaxos
