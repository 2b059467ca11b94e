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
  // TODO(lab2 part 1): create the root directory, extent fs::kRootInum, empty.
}

extent::Status ExtentServer::put(extent::ExtentId id, std::string data,
                                 const std::optional<extent::Attributes>& times) {
  // TODO(lab2 part 1): store the bytes and set the attributes as the contract says.
  dsys::unimplemented("ExtentServer::put");
  return extent::Status::ok;
}

extent::GetReply ExtentServer::get(extent::ExtentId id) {
  // TODO(lab2 part 1): return the bytes ({extent::Status::ok, bytes}) and set atime.
  dsys::unimplemented("ExtentServer::get");
  return {extent::Status::not_found};
}

extent::AttributesReply ExtentServer::getattr(extent::ExtentId id) {
  // TODO(lab2 part 1): return the attributes, or extent::Status::not_found.
  dsys::unimplemented("ExtentServer::getattr");
  return {extent::Status::not_found};
}

extent::Status ExtentServer::remove(extent::ExtentId id) {
  // TODO(lab2 part 1): forget the extent, or say extent::Status::not_found.
  dsys::unimplemented("ExtentServer::remove");
  return extent::Status::not_found;
}

std::optional<std::string> ExtentServer::peek(extent::ExtentId id) const {
  // TODO(lab2 part 1): the bytes of extent `id`, if it exists (and touch nothing).
  dsys::unimplemented("ExtentServer::peek");
  return std::nullopt;
}

std::size_t ExtentServer::extents() const {
  // TODO(lab2 part 1): how many extents there are.
  dsys::unimplemented("ExtentServer::extents");
  return 0;
}

}  // namespace dsys::lab2
