// lab 2, part 2: the yfs client. See yfs_client.hpp for the contract of each function.
#include "yfs_client.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab2 {

core::Task<Result<Attributes>> YfsClient::getattr(Inum inum) {
  // TODO(lab2 part 2): the extent's attributes, as fs::Attributes.
  dsys::unimplemented("YfsClient::getattr");
  co_return Error::io;
}

core::Task<Result<Inum>> YfsClient::lookup(Inum parent, std::string name) {
  // TODO(lab2 part 2): read directory `parent` and find `name` in it.
  dsys::unimplemented("YfsClient::lookup");
  co_return Error::io;
}

core::Task<Result<Inum>> YfsClient::create(Inum parent, std::string name) {
  // TODO(lab2 part 2): check the name, read the directory, draw a random inum, put the new
  // file's extent, then the directory with the new entry.
  dsys::unimplemented("YfsClient::create");
  co_return Error::io;
}

core::Task<Result<std::vector<DirEntry>>> YfsClient::readdir(Inum dir) {
  // TODO(lab2 part 2): read directory `dir` and return its entries.
  dsys::unimplemented("YfsClient::readdir");
  co_return Error::io;
}

}  // namespace dsys::lab2
