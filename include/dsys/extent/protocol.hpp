// dsys/extent/protocol.hpp: the extent service's procedures (lab 2), shared by server and client.
//
// An extent is a byte string named by a 64-bit id (ExtentId); the file system keeps each file and
// each directory in one extent, named by its inode number. The server keeps, with every extent,
// its attributes: its size and three times (nanoseconds since the Unix epoch, the server's
// calendar clock, core::Context::wall_time_ns):
//   put    stores the bytes (a new extent, or replacing the old bytes); sets mtime and ctime to
//          now (and atime too, for a new extent), or, when the request carries attributes, to
//          the times they give (lab 6's write-back cache keeps times itself);
//   get    returns the bytes and sets atime to now;
//   getattr returns the attributes (and changes nothing);
//   remove forgets the extent.
// An extent that was never put (or was removed) is Status::not_found for get, getattr and
// remove. An extent is at most kMaxExtentSize bytes: a larger put is Status::too_big and
// changes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dsys/rpc/procedure.hpp"

namespace dsys::extent {

using ExtentId = std::uint64_t;

// The largest extent (and so the largest file): 8 MiB. Well inside one RPC frame.
inline constexpr std::size_t kMaxExtentSize = 8u << 20;

// The answer of the extent service itself (network failures are rpc::Error, not Status).
enum class Status : std::uint8_t {
  ok = 0,
  not_found = 1,  // no extent of that id
  too_big = 2,    // put: more than kMaxExtentSize bytes; nothing changed
};

constexpr std::string_view to_string(Status s) {
  switch (s) {
    case Status::ok:
      return "ok";
    case Status::not_found:
      return "not found";
    case Status::too_big:
      return "too big";
  }
  return "unknown status";
}

// What the server keeps beside an extent's bytes.
struct Attributes {
  std::uint64_t size = 0;  // bytes
  std::int64_t atime = 0;  // last get (ns since the Unix epoch)
  std::int64_t mtime = 0;  // last put
  std::int64_t ctime = 0;  // last put
  bool operator==(const Attributes&) const = default;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& size& atime& mtime& ctime;
  }
};

// The request types have constructors: see docs/architecture.md on g++ 12.
struct IdRequest {
  IdRequest() = default;
  explicit IdRequest(ExtentId i) : id(i) {}
  ExtentId id = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& id;
  }
};

struct PutRequest {
  PutRequest() = default;
  PutRequest(ExtentId i, std::string d, std::optional<Attributes> a = std::nullopt)
      : id(i), data(std::move(d)), attributes(a) {}
  ExtentId id = 0;
  std::string data;
  // When present, the extent's times become these (their size is ignored: it is data's).
  std::optional<Attributes> attributes;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& id& data& attributes;
  }
};

struct GetReply {
  GetReply() = default;
  GetReply(Status s, std::string d = {}) : status(s), data(std::move(d)) {}
  Status status = Status::ok;
  std::string data;  // the extent's bytes when status is ok
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& status& data;
  }
};

struct AttributesReply {
  AttributesReply() = default;
  AttributesReply(Status s, Attributes a = {}) : status(s), attributes(a) {}
  Status status = Status::ok;
  Attributes attributes;  // when status is ok
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& status& attributes;
  }
};

inline constexpr rpc::ServiceId kService = 3;  // see rpc/procedure.hpp

// Procedure ids of the extent service: dense, never reused.
struct Put {
  static constexpr rpc::ServiceId kService = extent::kService;
  static constexpr rpc::ProcedureId kId = 1;
  static constexpr std::string_view kName = "extent.put";
  using Request = PutRequest;
  using Reply = Status;
};
struct Get {
  static constexpr rpc::ServiceId kService = extent::kService;
  static constexpr rpc::ProcedureId kId = 2;
  static constexpr std::string_view kName = "extent.get";
  using Request = IdRequest;
  using Reply = GetReply;
};
struct GetAttr {
  static constexpr rpc::ServiceId kService = extent::kService;
  static constexpr rpc::ProcedureId kId = 3;
  static constexpr std::string_view kName = "extent.getattr";
  using Request = IdRequest;
  using Reply = AttributesReply;
};
struct Remove {
  static constexpr rpc::ServiceId kService = extent::kService;
  static constexpr rpc::ProcedureId kId = 4;
  static constexpr std::string_view kName = "extent.remove";
  using Request = IdRequest;
  using Reply = Status;
};

}  // namespace dsys::extent
