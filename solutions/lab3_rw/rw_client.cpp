// lab 3: reading and writing files. See rw_client.hpp for the contract of each function.
#include "rw_client.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab3 {

// SOLUTION BEGIN
core::Task<Result<std::string>> RwClient::read_file(Inum inum) {
  if (!fs::is_file(inum)) co_return Error::is_directory;
  auto bytes = co_await store_.get(inum);
  if (!bytes) co_return fs::from_store(bytes.error());
  co_return std::move(*bytes);
}
// SOLUTION END

core::Task<Result<Attributes>> RwClient::setattr(Inum inum, std::uint64_t size) {
  // SOLUTION BEGIN
  if (!fs::is_file(inum)) co_return Error::is_directory;
  if (size > fs::kMaxFileSize) co_return Error::file_too_big;
  auto bytes = co_await read_file(inum);
  if (!bytes) co_return bytes.error();
  bytes->resize(size, '\0');
  if (auto put = co_await store_.put(inum, std::move(*bytes)); !put) {
    co_return fs::from_store(put.error());
  }
  co_return co_await getattr(inum);
  // SOLUTION STUB
  // // TODO(lab3): read the file, truncate or extend it with zeros, write it back, and return
  // // its attributes (getattr).
  // dsys::unimplemented("RwClient::setattr");
  // co_return Error::io;
  // SOLUTION END
}

core::Task<Result<std::string>> RwClient::read(Inum inum, std::uint64_t offset, std::size_t size) {
  // SOLUTION BEGIN
  auto bytes = co_await read_file(inum);
  if (!bytes) co_return bytes.error();
  if (offset >= bytes->size()) co_return std::string();
  co_return bytes->substr(static_cast<std::size_t>(offset), size);
  // SOLUTION STUB
  // // TODO(lab3): read the file and return the bytes asked for (fewer at its end).
  // dsys::unimplemented("RwClient::read");
  // co_return Error::io;
  // SOLUTION END
}

core::Task<Result<std::size_t>> RwClient::write(Inum inum, std::uint64_t offset, std::string data) {
  // SOLUTION BEGIN
  if (!fs::is_file(inum)) co_return Error::is_directory;
  if (offset != fs::kAtEnd &&
      (offset > fs::kMaxFileSize || data.size() > fs::kMaxFileSize - offset)) {
    co_return Error::file_too_big;
  }
  auto bytes = co_await read_file(inum);
  if (!bytes) co_return bytes.error();
  if (offset == fs::kAtEnd) {
    offset = bytes->size();
    if (data.size() > fs::kMaxFileSize - offset) co_return Error::file_too_big;
  }
  if (data.empty()) co_return 0;
  const auto at = static_cast<std::size_t>(offset);
  if (bytes->size() < at + data.size()) bytes->resize(at + data.size(), '\0');
  bytes->replace(at, data.size(), data);
  if (auto put = co_await store_.put(inum, std::move(*bytes)); !put) {
    co_return fs::from_store(put.error());
  }
  co_return data.size();
  // SOLUTION STUB
  // // TODO(lab3): check the size limit, read the file, put `data` in at `offset` (kAtEnd: at
  // // its end), zero-filling any gap, and write the file back.
  // dsys::unimplemented("RwClient::write");
  // co_return Error::io;
  // SOLUTION END
}

}  // namespace dsys::lab3
