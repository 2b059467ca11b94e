// lab 6, part 1: the caching extent store. See extent_cache.hpp for what is cached and when it is
// written back.
#include "extent_cache.hpp"

#include <algorithm>
#include <vector>

#include "dsys/core/error.hpp"

namespace dsys::lab6 {

core::Task<extent::Result<std::string>> ExtentCache::get(extent::ExtentId id) {
  // TODO(lab6 part 1): from the cache if it has the bytes (move atime); else fetch them and
  // the attributes from server_ and keep them. Removed here: not_found.
  dsys::unimplemented("ExtentCache::get");
  co_return extent::Error::unavailable;
}

core::Task<extent::Result<extent::Attributes>> ExtentCache::getattr(extent::ExtentId id) {
  // TODO(lab6 part 1): from the cache; else fetch the attributes from server_ and keep them.
  dsys::unimplemented("ExtentCache::getattr");
  co_return extent::Error::unavailable;
}

core::Task<extent::Result<void>> ExtentCache::put(extent::ExtentId id, std::string data) {
  // TODO(lab6 part 1): into the cache, dirty, with its size and new times (new when the
  // cache knew nothing of it). No RPC.
  dsys::unimplemented("ExtentCache::put");
  co_return extent::Error::unavailable;
}

core::Task<extent::Result<void>> ExtentCache::remove(extent::ExtentId id) {
  // TODO(lab6 part 1): forget a new extent (unless a flush is writing it); mark any other
  // removed (and dirty). No RPC.
  dsys::unimplemented("ExtentCache::remove");
  co_return extent::Error::unavailable;
}

core::Task<void> ExtentCache::flush(extent::ExtentId id) {
  // TODO(lab6 part 1): write back everything dirty (in the order of the header), from a
  // snapshot taken before the first co_await, then drop `id` and the clean extents whose lock
  // this node does not have. One flush at a time.
  dsys::unimplemented("ExtentCache::flush");
  co_return;
}

core::Task<void> ExtentCache::flush_all() {
  // TODO(lab6 part 1): as flush, for when the client is about to go.
  dsys::unimplemented("ExtentCache::flush_all");
  co_return;
}

std::optional<extent::Attributes> ExtentCache::new_extent(extent::ExtentId id) const {
  // TODO(lab6 part 1): the attributes of a new extent, else none.
  dsys::unimplemented("ExtentCache::new_extent");
  return std::nullopt;
}

bool ExtentCache::cached(extent::ExtentId id) const {
  // TODO(lab6 part 1): whether the cache has an entry for `id`.
  dsys::unimplemented("ExtentCache::cached");
  return false;
}

std::size_t ExtentCache::dirty_count() const {
  // TODO(lab6 part 1): how many entries are dirty.
  dsys::unimplemented("ExtentCache::dirty_count");
  return 0;
}

}  // namespace dsys::lab6
