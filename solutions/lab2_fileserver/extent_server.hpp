// lab 2, part 1: the extent server.                            (You edit this file and its .cpp.)
//
// The extent server is the file system's storage: a map from extent ids to byte strings, with
// each extent's attributes (size, atime, mtime, ctime). It knows nothing of files or
// directories; the yfs clients (part 2) keep both in extents. Read dsys/extent/protocol.hpp for
// the procedures and what each must do to the attributes.
//
// Every request runs at most once: the service uses your lab 1 ReplyWindow as its duplicate
// filter, so a late copy of an old put cannot overwrite a newer one. (Given: the constructor.)
// It runs on one node: no mutexes. It keeps its extents in memory: a restarted extent server
// starts empty, as the classic one did.
#pragma once

#include <map>
#include <string>

#include "dsys/core/context.hpp"
#include "dsys/extent/protocol.hpp"
#include "dsys/rpc/endpoint.hpp"
#include "reply_window.hpp"

namespace dsys::lab2 {

class ExtentServer {
 public:
  // Serves the extent procedures on the node's endpoint, as the service extent::kService, and
  // creates the root directory: extent fs::kRootInum (1), empty (an empty extent is an empty
  // directory: see dsys/fs/directory.hpp).
  explicit ExtentServer(core::Context& ctx);

  // Stores `data` as extent `id`; its size becomes data's. Times: when `times` is given, all
  // three (atime, mtime, ctime) become those it gives (lab 6's cache keeps times itself);
  // otherwise mtime and ctime become now (ctx_.wall_time_ns()), and so does atime for a new
  // extent (an existing one keeps its atime). More than extent::kMaxExtentSize bytes:
  // extent::Status::too_big, and nothing changes.
  // Tested by: "lab 2: the extent server keeps bytes and attributes", every yfs test.
  extent::Status put(extent::ExtentId id, std::string data,
                     const std::optional<extent::Attributes>& times);

  // Extent `id`'s bytes; its atime becomes now. extent::Status::not_found when there is no such
  // extent. Tested by: "lab 2: the extent server keeps bytes and attributes", every yfs test.
  extent::GetReply get(extent::ExtentId id);

  // Extent `id`'s attributes (changing nothing). extent::Status::not_found when there is none.
  // Tested by: "lab 2: the extent server keeps bytes and attributes", "getattr ...".
  extent::AttributesReply getattr(extent::ExtentId id);

  // Forgets extent `id`. extent::Status::not_found when there was none.
  // Tested by: "lab 2: the extent server keeps bytes and attributes".
  extent::Status remove(extent::ExtentId id);

  // For the tests' invariants, which look at the server's state after every event: extent
  // `id`'s bytes (nullopt when there is none), changing nothing (not even atime).
  // Tested by: every yfs test (its "directories are well formed" check).
  std::optional<std::string> peek(extent::ExtentId id) const;
  // How many extents exist. Tested by: "lab 2: the extent server keeps bytes and attributes".
  std::size_t extents() const;

  rpc::Endpoint& endpoint() { return service_.endpoint(); }

 private:
  core::Context& ctx_;
  lab1::ReplyWindow reply_window_{[&ctx = ctx_] { return ctx.now(); }};
  rpc::Service service_;  // after reply_window_, its duplicate filter
  // SOLUTION BEGIN
  struct Extent {
    std::string data;
    extent::Attributes attributes;  // attributes.size == data.size()
  };
  std::map<extent::ExtentId, Extent> extents_;
  // SOLUTION STUB
  // // Your state: every extent's bytes and attributes (a std::map from extent::ExtentId, say).
  // SOLUTION END
};

}  // namespace dsys::lab2
