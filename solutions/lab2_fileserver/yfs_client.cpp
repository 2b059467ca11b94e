// lab 2, part 2: the yfs client. See yfs_client.hpp for the contract of each function.
#include "yfs_client.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab2 {

core::Task<Result<Attributes>> YfsClient::getattr(Inum inum) {
  // SOLUTION BEGIN
  auto a = co_await store_.getattr(inum);
  if (!a) co_return fs::from_store(a.error());
  co_return Attributes{
      .inum = inum, .size = a->size, .atime = a->atime, .mtime = a->mtime, .ctime = a->ctime};
  // SOLUTION STUB
  // // TODO(lab2 part 2): the extent's attributes, as fs::Attributes.
  // dsys::unimplemented("YfsClient::getattr");
  // co_return Error::io;
  // SOLUTION END
}

// SOLUTION BEGIN
core::Task<Result<fs::Directory>> YfsClient::read_directory(Inum dir) {
  if (!fs::is_directory(dir)) co_return Error::not_directory;
  auto bytes = co_await store_.get(dir);
  if (!bytes) co_return fs::from_store(bytes.error());
  auto decoded = fs::Directory::decode(*bytes);
  if (!decoded) {
    ctx_.log("directory {:#x} does not decode ({} bytes)", dir, bytes->size());
    co_return Error::io;
  }
  co_return std::move(*decoded);
}
// SOLUTION END

core::Task<Result<Inum>> YfsClient::lookup(Inum parent, std::string name) {
  // SOLUTION BEGIN
  auto dir = co_await read_directory(parent);
  if (!dir) co_return dir.error();
  if (auto inum = dir->find(name)) co_return *inum;
  co_return Error::not_found;
  // SOLUTION STUB
  // // TODO(lab2 part 2): read directory `parent` and find `name` in it.
  // dsys::unimplemented("YfsClient::lookup");
  // co_return Error::io;
  // SOLUTION END
}

core::Task<Result<Inum>> YfsClient::create(Inum parent, std::string name) {
  // SOLUTION BEGIN
  if (auto valid = fs::check_new_name(name); !valid) co_return valid.error();
  auto dir = co_await read_directory(parent);
  if (!dir) co_return dir.error();
  if (dir->find(name)) co_return Error::exists;
  // 63 random bits: no two inums drawn anywhere ever meet (see the contract).
  const Inum inum = ctx_.rng().next() | fs::kFileBit;
  // The file's extent first: the directory never names an inode that does not exist.
  if (auto put = co_await store_.put(inum, ""); !put) co_return fs::from_store(put.error());
  dir->add(name, inum);
  if (auto put = co_await store_.put(parent, dir->encode()); !put) {
    co_return fs::from_store(put.error());
  }
  co_return inum;
  // SOLUTION STUB
  // // TODO(lab2 part 2): check the name, read the directory, draw a random inum, put the new
  // // file's extent, then the directory with the new entry.
  // dsys::unimplemented("YfsClient::create");
  // co_return Error::io;
  // SOLUTION END
}

core::Task<Result<std::vector<DirEntry>>> YfsClient::readdir(Inum dir) {
  // SOLUTION BEGIN
  auto d = co_await read_directory(dir);
  if (!d) co_return d.error();
  co_return d->entries();
  // SOLUTION STUB
  // // TODO(lab2 part 2): read directory `dir` and return its entries.
  // dsys::unimplemented("YfsClient::readdir");
  // co_return Error::io;
  // SOLUTION END
}

}  // namespace dsys::lab2
