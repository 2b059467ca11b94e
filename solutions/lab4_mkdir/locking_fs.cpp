// lab 4, part 2: the locking layer. See locking_fs.hpp for which locks each operation takes.
#include "locking_fs.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab4 {

// SOLUTION BEGIN
template <class T, class F>
core::Task<fs::Result<T>> LockingFs::holding(lock::LockId lock, F op) {
  const auto acquired = co_await locks_.acquire(lock);  // (not inside the `if`: see hints)
  if (!acquired) co_return fs::Error::io;
  fs::Result<T> result = co_await op();
  (void)co_await locks_.release(lock);  // a failed release is logged by the lock service
  co_return result;
}
// SOLUTION END

core::Task<fs::Result<fs::Attributes>> LockingFs::getattr(fs::Inum inum) {
  return inner_.getattr(inum);  // (Given.) one extent read: no lock
}

core::Task<fs::Result<fs::Inum>> LockingFs::lookup(fs::Inum parent, std::string name) {
  return inner_.lookup(parent, std::move(name));  // (Given.) one extent read: no lock
}

core::Task<fs::Result<std::vector<fs::DirEntry>>> LockingFs::readdir(fs::Inum dir) {
  return inner_.readdir(dir);  // (Given.) one extent read: no lock
}

core::Task<fs::Result<std::string>> LockingFs::read(fs::Inum inum, std::uint64_t offset,
                                                    std::size_t size) {
  return inner_.read(inum, offset, size);  // (Given.) one extent read: no lock
}

core::Task<fs::Result<fs::Inum>> LockingFs::create(fs::Inum parent, std::string name) {
  // SOLUTION BEGIN
  co_return co_await holding<fs::Inum>(parent,
                                       [&]() { return inner_.create(parent, std::move(name)); });
  // SOLUTION STUB
  // // TODO(lab4 part 2): hold the parent's lock around inner_.create.
  // dsys::unimplemented("LockingFs::create");
  // co_return fs::Error::io;
  // SOLUTION END
}

core::Task<fs::Result<fs::Inum>> LockingFs::mkdir(fs::Inum parent, std::string name) {
  // SOLUTION BEGIN
  co_return co_await holding<fs::Inum>(parent,
                                       [&]() { return inner_.mkdir(parent, std::move(name)); });
  // SOLUTION STUB
  // // TODO(lab4 part 2): hold the parent's lock around inner_.mkdir.
  // dsys::unimplemented("LockingFs::mkdir");
  // co_return fs::Error::io;
  // SOLUTION END
}

core::Task<fs::Result<void>> LockingFs::unlink(fs::Inum parent, std::string name) {
  // SOLUTION BEGIN
  co_return co_await holding<void>(parent,
                                   [&]() { return inner_.unlink(parent, std::move(name)); });
  // SOLUTION STUB
  // // TODO(lab4 part 2): hold the parent's lock around inner_.unlink.
  // dsys::unimplemented("LockingFs::unlink");
  // co_return fs::Error::io;
  // SOLUTION END
}

core::Task<fs::Result<fs::Attributes>> LockingFs::setattr(fs::Inum inum, std::uint64_t size) {
  // SOLUTION BEGIN
  co_return co_await holding<fs::Attributes>(inum, [&]() { return inner_.setattr(inum, size); });
  // SOLUTION STUB
  // // TODO(lab4 part 2): hold the file's lock around inner_.setattr.
  // dsys::unimplemented("LockingFs::setattr");
  // co_return fs::Error::io;
  // SOLUTION END
}

core::Task<fs::Result<std::size_t>> LockingFs::write(fs::Inum inum, std::uint64_t offset,
                                                     std::string data) {
  // SOLUTION BEGIN
  co_return co_await holding<std::size_t>(
      inum, [&]() { return inner_.write(inum, offset, std::move(data)); });
  // SOLUTION STUB
  // // TODO(lab4 part 2): hold the file's lock around inner_.write.
  // dsys::unimplemented("LockingFs::write");
  // co_return fs::Error::io;
  // SOLUTION END
}

}  // namespace dsys::lab4
