// lab 3: reading and writing files. See rw_client.hpp for the contract of each function.
#include "rw_client.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab3 {

core::Task<Result<Attributes>> RwClient::setattr(Inum inum, std::uint64_t size) {
  // TODO(lab3): read the file, truncate or extend it with zeros, write it back, and return
  // its attributes (getattr).
  dsys::unimplemented("RwClient::setattr");
  co_return Error::io;
}

core::Task<Result<std::string>> RwClient::read(Inum inum, std::uint64_t offset, std::size_t size) {
  // TODO(lab3): read the file and return the bytes asked for (fewer at its end).
  dsys::unimplemented("RwClient::read");
  co_return Error::io;
}

core::Task<Result<std::size_t>> RwClient::write(Inum inum, std::uint64_t offset, std::string data) {
  // TODO(lab3): check the size limit, read the file, put `data` in at `offset` (kAtEnd: at
  // its end), zero-filling any gap, and write the file back.
  dsys::unimplemented("RwClient::write");
  co_return Error::io;
}

}  // namespace dsys::lab3
