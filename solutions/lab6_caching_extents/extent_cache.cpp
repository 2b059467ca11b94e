// lab 6, part 1: the caching extent store. See extent_cache.hpp for what is cached and when it is
// written back.
#include "extent_cache.hpp"

#include <algorithm>
#include <vector>

#include "dsys/core/error.hpp"

namespace dsys::lab6 {

// SOLUTION BEGIN
core::Task<extent::Result<void>> ExtentCache::fetch(extent::ExtentId id, bool with_data) {
  std::optional<std::string> data;
  if (with_data) {
    auto got = co_await server_.get(id);
    if (!got) co_return got.error();
    data = std::move(*got);
  }
  auto attributes = co_await server_.getattr(id);
  if (!attributes) co_return attributes.error();
  // Another coroutine of this node may have filled it in meanwhile (or changed it): keep that.
  auto [it, inserted] = entries_.try_emplace(id);
  Entry& e = it->second;
  if (inserted) {
    e.attributes = *attributes;
    changed(e);
  }
  if (!e.data && data && !e.removed) {
    e.data = std::move(data);
    e.attributes.size = e.data->size();
  }
  co_return extent::Result<void>();
}
// SOLUTION END

core::Task<extent::Result<std::string>> ExtentCache::get(extent::ExtentId id) {
  // SOLUTION BEGIN
  auto it = entries_.find(id);
  if (it == entries_.end() || (!it->second.data && !it->second.removed)) {
    auto fetched = co_await fetch(id, true);
    if (!fetched) co_return fetched.error();
    it = entries_.find(id);
    if (it == entries_.end()) co_return extent::Error::not_found;  // removed meanwhile
  }
  Entry& e = it->second;
  if (e.removed || !e.data) co_return extent::Error::not_found;
  e.attributes.atime = std::max(ctx_.wall_time_ns(), e.attributes.atime);
  co_return *e.data;
  // SOLUTION STUB
  // // TODO(lab6 part 1): from the cache if it has the bytes (move atime); else fetch them and
  // // the attributes from server_ and keep them. Removed here: not_found.
  // dsys::unimplemented("ExtentCache::get");
  // co_return extent::Error::unavailable;
  // SOLUTION END
}

core::Task<extent::Result<extent::Attributes>> ExtentCache::getattr(extent::ExtentId id) {
  // SOLUTION BEGIN
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    auto fetched = co_await fetch(id, false);
    if (!fetched) co_return fetched.error();
    it = entries_.find(id);
    if (it == entries_.end()) co_return extent::Error::not_found;
  }
  if (it->second.removed) co_return extent::Error::not_found;
  co_return it->second.attributes;
  // SOLUTION STUB
  // // TODO(lab6 part 1): from the cache; else fetch the attributes from server_ and keep them.
  // dsys::unimplemented("ExtentCache::getattr");
  // co_return extent::Error::unavailable;
  // SOLUTION END
}

core::Task<extent::Result<void>> ExtentCache::put(extent::ExtentId id, std::string data) {
  // SOLUTION BEGIN
  if (data.size() > extent::kMaxExtentSize) co_return extent::Error::too_big;
  auto [it, inserted] = entries_.try_emplace(id);
  Entry& e = it->second;
  const std::int64_t now = ctx_.wall_time_ns();
  const std::int64_t changed_at = std::max({now, e.attributes.mtime + 1, e.attributes.ctime + 1});
  if (inserted) {
    e.fresh = true;
    e.attributes.atime = changed_at;
  }
  e.removed = false;
  e.attributes.size = data.size();
  e.attributes.mtime = changed_at;
  e.attributes.ctime = changed_at;
  e.data = std::move(data);
  e.dirty = true;
  changed(e);
  co_return extent::Result<void>();
  // SOLUTION STUB
  // // TODO(lab6 part 1): into the cache, dirty, with its size and new times (new when the
  // // cache knew nothing of it). No RPC.
  // dsys::unimplemented("ExtentCache::put");
  // co_return extent::Error::unavailable;
  // SOLUTION END
}

core::Task<extent::Result<void>> ExtentCache::remove(extent::ExtentId id) {
  // SOLUTION BEGIN
  auto it = entries_.find(id);
  if (it != entries_.end() && it->second.removed) co_return extent::Error::not_found;
  if (it != entries_.end() && it->second.fresh && !it->second.writing) {
    entries_.erase(it);  // the server never had it, and no flush is writing it
    co_return extent::Result<void>();
  }
  // (A new extent that the running flush is writing: its put lands all the same, so the server
  // will have it; the next flush removes it.)
  Entry& e = entries_[id];
  e.data.reset();
  e.fresh = false;
  e.removed = true;
  e.dirty = true;
  changed(e);
  co_return extent::Result<void>();
  // SOLUTION STUB
  // // TODO(lab6 part 1): forget a new extent (unless a flush is writing it); mark any other
  // // removed (and dirty). No RPC.
  // dsys::unimplemented("ExtentCache::remove");
  // co_return extent::Error::unavailable;
  // SOLUTION END
}

// SOLUTION BEGIN
std::vector<ExtentCache::Write> ExtentCache::snapshot() {
  enum Step { fresh_ones, changed_ones, removals };
  std::vector<Write> writes;
  for (Step step : {fresh_ones, changed_ones, removals}) {
    for (auto& [id, e] : entries_) {
      if (!e.dirty) continue;
      const Step of = e.fresh ? fresh_ones : e.removed ? removals : changed_ones;
      if (of != step) continue;
      Write write{.id = id, .version = e.version, .removal = e.removed};
      if (!e.removed) {
        write.data = e.data.value_or(std::string());  // (a dirty entry not removed has its bytes)
        write.attributes = e.attributes;
      }
      writes.push_back(std::move(write));
      e.writing = true;
    }
  }
  return writes;
}

core::Task<bool> ExtentCache::write_back(const Write& write) {
  for (int attempt = 1; attempt <= kWriteBackAttempts; ++attempt) {
    extent::Result<void> done;
    if (write.removal) {
      done = co_await server_.remove(write.id);
      if (!done && done.error() == extent::Error::not_found) done = extent::Result<void>();
    } else {
      done = co_await server_.put(write.id, write.data, write.attributes);
    }
    if (!done) {
      ctx_.log("extent {:#x}: write-back failed ({}), attempt {} of {}", write.id,
               to_string(done.error()), attempt, kWriteBackAttempts);
      continue;
    }
    // Only a lost write-back of this flush erases an entry of its snapshot.
    auto it = entries_.find(write.id);
    if (it == entries_.end()) co_return true;
    Entry& e = it->second;
    e.writing = false;
    e.fresh = false;  // the server has it: from now on its lock rules
    if (e.version != write.version) co_return true;  // changed since: the next flush's
    if (write.removal) {
      entries_.erase(it);
    } else {
      e.dirty = false;
    }
    co_return true;
  }
  ctx_.log("extent {:#x}: lost: the extent server did not take it back {} times", write.id,
           kWriteBackAttempts);
  co_return false;
}

core::Task<void> ExtentCache::write_back_all(std::vector<Write> writes) {
  bool lost = false;
  for (const Write& write : writes) {
    // After a failure nothing later is written: it may depend on what was lost.
    bool written = false;
    if (!lost) written = co_await write_back(write);
    if (written) continue;
    if (lost) ctx_.log("extent {:#x}: lost: an earlier write-back was lost", write.id);
    lost = true;
    entries_.erase(write.id);
  }
}

void ExtentCache::drop_unheld() {
  std::erase_if(entries_, [&](const auto& item) {
    const Entry& e = item.second;
    return !e.dirty && !e.fresh && !holds_(item.first);
  });
}
// SOLUTION END

core::Task<void> ExtentCache::flush(extent::ExtentId id) {
  // SOLUTION BEGIN
  (void)id;  // dropped by drop_unheld: its lock is on its way back
  co_await flush_all();
  // SOLUTION STUB
  // // TODO(lab6 part 1): write back everything dirty (in the order of the header), from a
  // // snapshot taken before the first co_await, then drop `id` and the clean extents whose lock
  // // this node does not have. One flush at a time.
  // dsys::unimplemented("ExtentCache::flush");
  // co_return;
  // SOLUTION END
}

core::Task<void> ExtentCache::flush_all() {
  // SOLUTION BEGIN
  while (flushing_) co_await flush_done_.wait();
  flushing_ = true;
  // The snapshot, before the first co_await of this flush's own: what changes from now on is
  // the next flush's to write.
  co_await write_back_all(snapshot());
  drop_unheld();
  flushing_ = false;
  flush_done_.notify_all();
  // SOLUTION STUB
  // // TODO(lab6 part 1): as flush, for when the client is about to go.
  // dsys::unimplemented("ExtentCache::flush_all");
  // co_return;
  // SOLUTION END
}

std::optional<extent::Attributes> ExtentCache::new_extent(extent::ExtentId id) const {
  // SOLUTION BEGIN
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.fresh) return std::nullopt;
  return it->second.attributes;
  // SOLUTION STUB
  // // TODO(lab6 part 1): the attributes of a new extent, else none.
  // dsys::unimplemented("ExtentCache::new_extent");
  // return std::nullopt;
  // SOLUTION END
}

bool ExtentCache::cached(extent::ExtentId id) const {
  // SOLUTION BEGIN
  return entries_.contains(id);
  // SOLUTION STUB
  // // TODO(lab6 part 1): whether the cache has an entry for `id`.
  // dsys::unimplemented("ExtentCache::cached");
  // return false;
  // SOLUTION END
}

std::size_t ExtentCache::dirty_count() const {
  // SOLUTION BEGIN
  return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(),
                                                [](const auto& e) { return e.second.dirty; }));
  // SOLUTION STUB
  // // TODO(lab6 part 1): how many entries are dirty.
  // dsys::unimplemented("ExtentCache::dirty_count");
  // return 0;
  // SOLUTION END
}

}  // namespace dsys::lab6
