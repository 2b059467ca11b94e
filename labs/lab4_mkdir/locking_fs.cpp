// lab 4, part 2: the locking layer. See locking_fs.hpp for which locks each operation takes.
#include "locking_fs.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab4 {

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
  // TODO(lab4 part 2): hold the parent's lock around inner_.create.
  dsys::unimplemented("LockingFs::create");
  co_return fs::Error::io;
}

core::Task<fs::Result<fs::Inum>> LockingFs::mkdir(fs::Inum parent, std::string name) {
  // TODO(lab4 part 2): hold the parent's lock around inner_.mkdir.
  dsys::unimplemented("LockingFs::mkdir");
  co_return fs::Error::io;
}

core::Task<fs::Result<void>> LockingFs::unlink(fs::Inum parent, std::string name) {
  // TODO(lab4 part 2): hold the parent's lock around inner_.unlink.
  dsys::unimplemented("LockingFs::unlink");
  co_return fs::Error::io;
}

core::Task<fs::Result<fs::Attributes>> LockingFs::setattr(fs::Inum inum, std::uint64_t size) {
  // TODO(lab4 part 2): hold the file's lock around inner_.setattr.
  dsys::unimplemented("LockingFs::setattr");
  co_return fs::Error::io;
}

core::Task<fs::Result<std::size_t>> LockingFs::write(fs::Inum inum, std::uint64_t offset,
                                                     std::string data) {
  // TODO(lab4 part 2): hold the file's lock around inner_.write.
  dsys::unimplemented("LockingFs::write");
  co_return fs::Error::io;
}

}  // namespace dsys::lab4
