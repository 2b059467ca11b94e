// The extent store of labs 2-4: see dsys/extent/client.hpp.
#include "dsys/extent/client.hpp"

namespace dsys::extent {

namespace {
Error from_status(Status s) {
  return s == Status::not_found ? Error::not_found : Error::too_big;
}
}  // namespace

Client::Client(rpc::Endpoint& endpoint, core::Address server, core::Duration timeout)
    : ctx_(endpoint.context()), server_(endpoint, server), timeout_(timeout) {}

template <class T>
Result<T> Client::failed(rpc::Error e, std::string_view what, ExtentId id) {
  ctx_.log("extent {} of {:#x}: {} ({})", what, id, to_string(e), server_.server().to_string());
  // A new incarnation of the server knows nothing of this client: start afresh with it.
  if (e == rpc::Error::server_restarted) server_.rebind();
  return Error::unavailable;
}

core::Task<Result<std::string>> Client::get(ExtentId id) {
  auto r = co_await server_.call<Get>(IdRequest(id), timeout_);
  if (!r) co_return failed<std::string>(r.error(), "get", id);
  if (r->status != Status::ok) co_return from_status(r->status);
  co_return std::move(r->data);
}

core::Task<Result<Attributes>> Client::getattr(ExtentId id) {
  auto r = co_await server_.call<GetAttr>(IdRequest(id), timeout_);
  if (!r) co_return failed<Attributes>(r.error(), "getattr", id);
  if (r->status != Status::ok) co_return from_status(r->status);
  co_return r->attributes;
}

core::Task<Result<void>> Client::put(ExtentId id, std::string data) {
  return put_request(PutRequest(id, std::move(data)));
}

core::Task<Result<void>> Client::put(ExtentId id, std::string data, const Attributes& times) {
  return put_request(PutRequest(id, std::move(data), times));
}

core::Task<Result<void>> Client::put_request(PutRequest request) {
  if (request.data.size() > kMaxExtentSize) co_return Error::too_big;  // the server would say so
  const ExtentId id = request.id;
  auto r = co_await server_.call<Put>(request, timeout_);
  if (!r) co_return failed<void>(r.error(), "put", id);
  if (*r != Status::ok) co_return from_status(*r);
  co_return Result<void>();
}

core::Task<Result<void>> Client::remove(ExtentId id) {
  auto r = co_await server_.call<Remove>(IdRequest(id), timeout_);
  if (!r) co_return failed<void>(r.error(), "remove", id);
  if (*r != Status::ok) co_return from_status(*r);
  co_return Result<void>();
}

}  // namespace dsys::extent
