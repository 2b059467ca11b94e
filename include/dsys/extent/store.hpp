// dsys/extent/store.hpp: how the file system reaches extents, whoever keeps them.
//
// The yfs client of labs 2-4 talks to the extent server through extent::Client (client.hpp);
// lab 6 puts a caching Store in its place. Both implement this interface, so the file-system code
// never knows which one it has.
//
// Threading contract: a Store belongs to one node and runs on its executor. Across each co_await
// another coroutine of the node (another file-system operation) may run, and other nodes may
// change the extents.
#pragma once

#include <string>
#include <string_view>

#include "dsys/core/result.hpp"
#include "dsys/core/task.hpp"
#include "dsys/extent/protocol.hpp"

namespace dsys::extent {

// Why a Store operation failed.
enum class Error : std::uint8_t {
  not_found = 1,  // no extent of that id
  too_big,        // put of more than kMaxExtentSize bytes
  unavailable,    // the extent server did not answer in time (down, partitioned, restarted)
};

constexpr std::string_view to_string(Error e) {
  switch (e) {
    case Error::not_found:
      return "not found";
    case Error::too_big:
      return "too big";
    case Error::unavailable:
      return "unavailable";
  }
  return "unknown error";
}

template <class T>
using Result = dsys::Result<T, Error>;

class Store {
 public:
  virtual ~Store() = default;
  // The extent's bytes (and its atime becomes now).
  virtual core::Task<Result<std::string>> get(ExtentId id) = 0;
  // The extent's size and times.
  virtual core::Task<Result<Attributes>> getattr(ExtentId id) = 0;
  // Stores `data` as the extent's bytes, creating it if need be (mtime and ctime become now).
  virtual core::Task<Result<void>> put(ExtentId id, std::string data) = 0;
  // Forgets the extent.
  virtual core::Task<Result<void>> remove(ExtentId id) = 0;
};

}  // namespace dsys::extent
