// dsys/extent/client.hpp: the extent store of labs 2-4, an RPC client of one extent server.
//
// Each operation is one call (retransmitted by the RPC layer until its reply or its timeout).
// A call that gets no reply in time, or reaches a restarted server, fails with
// Error::unavailable; after a restart the client talks to the new incarnation from its next call.
#pragma once

#include <chrono>
#include <optional>

#include "dsys/extent/store.hpp"
#include "dsys/rpc/endpoint.hpp"

namespace dsys::extent {

class Client final : public Store {
 public:
  // `timeout` bounds each call: the longest a file-system operation waits for a dead server.
  Client(rpc::Endpoint& endpoint, core::Address server,
         core::Duration timeout = std::chrono::seconds(10));

  core::Task<Result<std::string>> get(ExtentId id) override;
  core::Task<Result<Attributes>> getattr(ExtentId id) override;
  core::Task<Result<void>> put(ExtentId id, std::string data) override;
  core::Task<Result<void>> remove(ExtentId id) override;
  // As put, and the extent's times become those of `times` (its size is data's): for a cache
  // that keeps times itself (lab 6).
  core::Task<Result<void>> put(ExtentId id, std::string data, const Attributes& times);

  rpc::Client& rpc() { return server_; }
  core::Duration timeout() const { return timeout_; }

 private:
  core::Task<Result<void>> put_request(PutRequest request);
  template <class T>
  Result<T> failed(rpc::Error e, std::string_view what, ExtentId id);

  core::Context& ctx_;
  rpc::Client server_;
  core::Duration timeout_;
};

}  // namespace dsys::extent
