// lab 4, part 1: mkdir and unlink. See dir_client.hpp for the contract of each function.
#include "dir_client.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab4 {

core::Task<Result<Inum>> DirClient::mkdir(Inum parent, std::string name) {
  // TODO(lab4 part 1): as create(), with a directory's inum and an empty directory's extent.
  dsys::unimplemented("DirClient::mkdir");
  co_return Error::io;
}

core::Task<Result<void>> DirClient::unlink(Inum parent, std::string name) {
  // TODO(lab4 part 1): find the entry, put the directory back without it, then remove the
  // file's extent.
  dsys::unimplemented("DirClient::unlink");
  co_return Error::io;
}

}  // namespace dsys::lab4
