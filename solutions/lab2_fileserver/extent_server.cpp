// lab 2, part 1: the extent server. See extent_server.hpp for the contract of each function.
#include "extent_server.hpp"

#include "dsys/core/error.hpp"
#include "dsys/fs/types.hpp"

namespace dsys::lab2 {

ExtentServer::ExtentServer(core::Context& ctx)
    : ctx_(ctx), service_(ctx, extent::kService, "extent", {.filter = &reply_window_}) {
  service_.serve<extent::Put>(
      [this](const extent::PutRequest& r, const rpc::CallInfo&) -> core::Task<extent::Status> {
        co_return put(r.id, r.data, r.attributes);
      });
  service_.serve<extent::Get>(
      [this](const extent::IdRequest& r, const rpc::CallInfo&) -> core::Task<extent::GetReply> {
        co_return get(r.id);
      });
  service_.serve<extent::GetAttr>(
      [this](const extent::IdRequest& r,
             const rpc::CallInfo&) -> core::Task<extent::AttributesReply> {
        co_return getattr(r.id);
      });
  service_.serve<extent::Remove>(
      [this](const extent::IdRequest& r, const rpc::CallInfo&) -> core::Task<extent::Status> {
        co_return remove(r.id);
      });
  // SOLUTION BEGIN
  put(fs::kRootInum, "", std::nullopt);
  // SOLUTION STUB
  // // TODO(lab2 part 1): create the root directory, extent fs::kRootInum, empty.
  // SOLUTION END
}

extent::Status ExtentServer::put(extent::ExtentId id, std::string data,
                                 const std::optional<extent::Attributes>& times) {
  // SOLUTION BEGIN
  if (data.size() > extent::kMaxExtentSize) return extent::Status::too_big;
  const std::int64_t now = ctx_.wall_time_ns();
  auto [it, created] = extents_.try_emplace(id);
  Extent& e = it->second;
  e.data = std::move(data);
  e.attributes.size = e.data.size();
  e.attributes.mtime = times ? times->mtime : now;
  e.attributes.ctime = times ? times->ctime : now;
  if (times) {
    e.attributes.atime = times->atime;
  } else if (created) {
    e.attributes.atime = now;
  }
  return extent::Status::ok;
  // SOLUTION STUB
  // // TODO(lab2 part 1): store the bytes and set the attributes as the contract says.
  // dsys::unimplemented("ExtentServer::put");
  // return extent::Status::ok;
  // SOLUTION END
}

extent::GetReply ExtentServer::get(extent::ExtentId id) {
  // SOLUTION BEGIN
  auto it = extents_.find(id);
  if (it == extents_.end()) return {extent::Status::not_found};
  it->second.attributes.atime = ctx_.wall_time_ns();
  return {extent::Status::ok, it->second.data};
  // SOLUTION STUB
  // // TODO(lab2 part 1): return the bytes ({extent::Status::ok, bytes}) and set atime.
  // dsys::unimplemented("ExtentServer::get");
  // return {extent::Status::not_found};
  // SOLUTION END
}

extent::AttributesReply ExtentServer::getattr(extent::ExtentId id) {
  // SOLUTION BEGIN
  auto it = extents_.find(id);
  if (it == extents_.end()) return {extent::Status::not_found};
  return {extent::Status::ok, it->second.attributes};
  // SOLUTION STUB
  // // TODO(lab2 part 1): return the attributes, or extent::Status::not_found.
  // dsys::unimplemented("ExtentServer::getattr");
  // return {extent::Status::not_found};
  // SOLUTION END
}

extent::Status ExtentServer::remove(extent::ExtentId id) {
  // SOLUTION BEGIN
  return extents_.erase(id) ? extent::Status::ok : extent::Status::not_found;
  // SOLUTION STUB
  // // TODO(lab2 part 1): forget the extent, or say extent::Status::not_found.
  // dsys::unimplemented("ExtentServer::remove");
  // return extent::Status::not_found;
  // SOLUTION END
}

std::optional<std::string> ExtentServer::peek(extent::ExtentId id) const {
  // SOLUTION BEGIN
  auto it = extents_.find(id);
  if (it == extents_.end()) return std::nullopt;
  return it->second.data;
  // SOLUTION STUB
  // // TODO(lab2 part 1): the bytes of extent `id`, if it exists (and touch nothing).
  // dsys::unimplemented("ExtentServer::peek");
  // return std::nullopt;
  // SOLUTION END
}

std::size_t ExtentServer::extents() const {
  // SOLUTION BEGIN
  return extents_.size();
  // SOLUTION STUB
  // // TODO(lab2 part 1): how many extents there are.
  // dsys::unimplemented("ExtentServer::extents");
  // return 0;
  // SOLUTION END
}

}  // namespace dsys::lab2
