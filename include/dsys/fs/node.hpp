// dsys/fs/node.hpp: a yfs client node of labs 2 and 3: an extent client to the extent server, and
// the lab's file system on it. The labs' yfs_client programs and simulated tests build it:
//
//   world.add_node("yfs1", core::make_node<fs::ClientNode<lab3::RwClient>>(fs::Servers{extent}));
//   net::Runtime runtime(options, core::make_node<fs::ClientNode<lab2::YfsClient>>(servers));
#pragma once

#include "dsys/core/context.hpp"
#include "dsys/extent/client.hpp"
#include "dsys/fs/file_system.hpp"
#include "dsys/rpc/endpoint.hpp"

namespace dsys::fs {

// The servers a yfs client talks to.
struct Servers {
  core::Address extent;
  core::Address lock;  // from lab 4 on
};

// FS is a FileSystem built as FS(core::Context&, extent::Store&).
template <class FS>
class ClientNode {
 public:
  ClientNode(core::Context& ctx, Servers servers)
      : extents_(rpc::Endpoint::of(ctx), servers.extent), fs_(ctx, extents_) {}

  FS& fs() { return fs_; }
  extent::Client& extents() { return extents_; }

 private:
  extent::Client extents_;  // before fs_, which uses it
  FS fs_;
};

}  // namespace dsys::fs
