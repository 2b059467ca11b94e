// lab 6, part 1: the caching extent store.                      (You edit this file and its .cpp.)
//
// An ExtentCache is an extent::Store (what lab 2's YfsClient and everything built on it reads
// and writes through) that keeps extents in the node's memory: a get, getattr or put of a cached
// extent costs no RPC, and changes go to the extent server only when they must (write-back).
// The lock of an inode is the cache's permission to keep that inode's extent (the handout has the
// argument): an extent is cached only while this node has its lock (`holds(id)`: locked or free
// in lab 5's caching lock client), or while it is new (created here, not yet on the server: no
// other node can know it). Before a lock goes back to the server, lab 5's release callback calls
// flush(id): the changes are written back and the copy dropped.
//
// Per extent, what the cache knows (the reference keeps one entry per extent):
//   - its bytes (or not yet: a getattr brings only the attributes) and its attributes;
//   - dirty: the server's copy is older than this one (bytes and attributes are written back
//     together, extent::Client::put(id, data, attributes));
//   - new: created here by a put of an id the cache knew nothing of; the server has never had it;
//   - removed: removed here; the server still has it until the write-back;
//   - a version, which every change bumps: a flush compares it with its snapshot's (below);
//   - whether the running flush is writing it (its snapshot has it, not yet written back).
//
// Attributes, kept here and written back with the bytes: size is exact (the bytes' length);
// a put moves mtime and ctime to the node's calendar time (ctx.wall_time_ns()), and always
// forward (at least one nanosecond past the old ones, even within one nanosecond of time); a get
// moves atime (in the cache only: an atime change alone is not a reason to write back).
//
// Write-back order (flush and flush_all), so that a crash of this node at any point leaves the
// server's directories well formed (no entry names an extent that was never written, or that
// was removed):
//   1. every new extent (the directories of step 2 may name them);
//   2. every other dirty extent;
//   3. every removal (the directories of step 2 no longer name them).
// A flush writes back everything dirty in the cache, not only `id`: that is what makes its order
// safe (the cache does not know which directory names which inode). Afterwards it drops every
// clean extent whose lock the node does not have (`id`, whose lock is on its way back, and the
// new extents it has just written: from now on others may take their locks). Flushes run one at
// a time (a second waits for the first).
//
// What a flush writes is a snapshot: once it is its turn, before its first co_await, it takes
// the ids of each of the three steps and, for each extent, its bytes, attributes and version as
// they are then, and writes exactly those (never an entry's current bytes: a directory changed
// during step 1 may name an extent created after the snapshot, which this flush does not write).
// An entry whose version moved since the snapshot stays dirty, for the next flush; an extent
// written back is no longer new. A new extent removed while the flush is writing it becomes a
// removal (removed, dirty, no longer new): the put still lands, and the next flush removes it.
//
// A write-back that fails (the server does not answer: extent::Error::unavailable after the
// extent client's 10 s) is tried again, kWriteBackAttempts times in all; then the change is lost
// and logged ("lost ..."): the lock must go back, and a copy kept without it could be stale.
//
// Threading contract: one node; get, getattr, put and remove of a cached extent finish without
// suspending. Across the co_awaits of a fetch or a flush, other coroutines of the node run and
// may change the cache: a flush writes its snapshot, and an entry changed since stays dirty.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dsys/core/context.hpp"
#include "dsys/extent/client.hpp"
#include "dsys/extent/store.hpp"

namespace dsys::lab6 {

class ExtentCache final : public extent::Store {
 public:
  // Whether this node has the lock named `id` (given by the node: lab 5's LockState is locked or
  // free).
  using Holds = std::function<bool(extent::ExtentId)>;
  static constexpr int kWriteBackAttempts = 3;

  // (Given.) `server` must outlive the cache.
  ExtentCache(core::Context& ctx, extent::Client& server, Holds holds)
      : ctx_(ctx), server_(server), holds_(std::move(holds)) {}

  // From the cache when it has the bytes (atime moves); else fetched (get and getattr RPCs) and
  // kept. Error::not_found for an extent removed here, or that the server does not have.
  // Tested by: "lab 6: reads and writes of cached extents cost no extent RPC", and every test.
  core::Task<extent::Result<std::string>> get(extent::ExtentId id) override;
  // From the cache when it has the extent; else fetched (a getattr RPC) and kept.
  // Tested by: as get, and "lab 6: sizes are exact and times move forward ...".
  core::Task<extent::Result<extent::Attributes>> getattr(extent::ExtentId id) override;
  // Into the cache only, dirty (extent::Error::too_big beyond extent::kMaxExtentSize, as the
  // server). A put of an id the cache knows nothing of makes a new extent: the file system does
  // that only for a fresh inum (lab 2's create, lab 4's mkdir).
  // Tested by: every test.
  core::Task<extent::Result<void>> put(extent::ExtentId id, std::string data) override;
  // Into the cache only: a new extent is simply forgotten (the server never hears of it), unless
  // a running flush is writing it; any other becomes a removal, written back by the next flush.
  // Later gets are not_found.
  // Tested by: "lab 6: each of two clients creates 100 files and deletes 99 ...", "lab 6: an
  // unlink in one client ...", "lab 6: a new file unlinked while a flush is writing it ...".
  core::Task<extent::Result<void>> remove(extent::ExtentId id) override;

  // Before lock `id` goes back to the server (the release callback): writes back everything
  // dirty, in the order above, then drops `id` and every other clean extent whose lock the node
  // does not have. Tested by: "lab 6: a write by one client is seen by the other ...", the
  // crash tests, "lab 6: a flush writes what the cache held when it began ...".
  core::Task<void> flush(extent::ExtentId id);
  // Writes back everything dirty, in the order above (and drops what flush drops): when the
  // yfs client is about to go (Node::finish). Tested by: "lab 6: each of two clients ...".
  core::Task<void> flush_all();

  // The attributes of `id` if it is new here (created here, never written back), else none:
  // lab 6's CoherentFs answers getattr of a new inode from this without taking its lock.
  // Tested by: "lab 6: a create costs no RPC at all ...".
  std::optional<extent::Attributes> new_extent(extent::ExtentId id) const;

  // For the tests: whether the cache has an entry for `id`, and how many are dirty.
  bool cached(extent::ExtentId id) const;
  std::size_t dirty_count() const;

 private:
  core::Context& ctx_;
  extent::Client& server_;
  Holds holds_;
  // Your state: per extent, its bytes (if known), its attributes, whether it is dirty, new or
  // removed, a version that every change bumps, and whether the running flush is writing it
  // (its snapshot has it, not yet written back); something to run one flush at a time (a flag
  // and a core::Notifier). And helpers of your own: a flush's snapshot (per write: the id, its
  // bytes, attributes and version, and whether it is a removal), and the write-back of one.
};

}  // namespace dsys::lab6
