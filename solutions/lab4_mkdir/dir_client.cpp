// lab 4, part 1: mkdir and unlink. See dir_client.hpp for the contract of each function.
#include "dir_client.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab4 {

// SOLUTION BEGIN
core::Task<Result<fs::Directory>> DirClient::directory(Inum dir) {
  if (!fs::is_directory(dir)) co_return Error::not_directory;
  auto bytes = co_await store_.get(dir);
  if (!bytes) co_return fs::from_store(bytes.error());
  auto decoded = fs::Directory::decode(*bytes);
  if (!decoded) co_return Error::io;
  co_return std::move(*decoded);
}
// SOLUTION END

core::Task<Result<Inum>> DirClient::mkdir(Inum parent, std::string name) {
  // SOLUTION BEGIN
  if (auto valid = fs::check_new_name(name); !valid) co_return valid.error();
  auto dir = co_await directory(parent);
  if (!dir) co_return dir.error();
  if (dir->find(name)) co_return Error::exists;
  Inum inum = 0;
  while (inum <= fs::kRootInum) inum = ctx_.rng().next() & ~fs::kFileBit;
  if (auto put = co_await store_.put(inum, fs::Directory().encode()); !put) {
    co_return fs::from_store(put.error());
  }
  dir->add(name, inum);
  if (auto put = co_await store_.put(parent, dir->encode()); !put) {
    co_return fs::from_store(put.error());
  }
  co_return inum;
  // SOLUTION STUB
  // // TODO(lab4 part 1): as create(), with a directory's inum and an empty directory's extent.
  // dsys::unimplemented("DirClient::mkdir");
  // co_return Error::io;
  // SOLUTION END
}

core::Task<Result<void>> DirClient::unlink(Inum parent, std::string name) {
  // SOLUTION BEGIN
  auto dir = co_await directory(parent);
  if (!dir) co_return dir.error();
  const auto inum = dir->find(name);
  if (!inum) co_return Error::not_found;
  if (fs::is_directory(*inum)) co_return Error::is_directory;
  dir->remove(name);
  if (auto put = co_await store_.put(parent, dir->encode()); !put) {
    co_return fs::from_store(put.error());
  }
  // The entry is gone: now free the extent. Not found is fine (nothing to free).
  if (auto removed = co_await store_.remove(*inum);
      !removed && removed.error() != extent::Error::not_found) {
    co_return fs::from_store(removed.error());
  }
  co_return Result<void>();
  // SOLUTION STUB
  // // TODO(lab4 part 1): find the entry, put the directory back without it, then remove the
  // // file's extent.
  // dsys::unimplemented("DirClient::unlink");
  // co_return Error::io;
  // SOLUTION END
}

}  // namespace dsys::lab4
