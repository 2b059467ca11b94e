// lab 6, part 2: locks around every operation, and the release callback. See coherent_fs.hpp.
#include "coherent_fs.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab6 {

CoherentFs::CoherentFs(fs::FileSystem& files, lab5::CachingLockClient& locks, ExtentCache& cache)
    : files_(files), locks_(locks), cache_(cache) {
  // TODO(lab6 part 2): set locks_' release callback: flush the lock's extent from cache_.
  // (Without it nothing you write ever reaches the extent server.)
}

core::Task<fs::Result<fs::Attributes>> CoherentFs::getattr(fs::Inum inum) {
  // TODO(lab6 part 2): a new inode's attributes from cache_.new_extent, at once; else hold
  // the inode's lock around files_.getattr.
  dsys::unimplemented("CoherentFs::getattr");
  co_return fs::Error::io;
}

core::Task<fs::Result<fs::Inum>> CoherentFs::lookup(fs::Inum parent, std::string name) {
  // TODO(lab6 part 2): hold the directory's lock around files_.lookup.
  dsys::unimplemented("CoherentFs::lookup");
  co_return fs::Error::io;
}

core::Task<fs::Result<std::vector<fs::DirEntry>>> CoherentFs::readdir(fs::Inum dir) {
  // TODO(lab6 part 2): hold the directory's lock around files_.readdir.
  dsys::unimplemented("CoherentFs::readdir");
  co_return fs::Error::io;
}

core::Task<fs::Result<std::string>> CoherentFs::read(fs::Inum inum, std::uint64_t offset,
                                                     std::size_t size) {
  // TODO(lab6 part 2): hold the file's lock around files_.read.
  dsys::unimplemented("CoherentFs::read");
  co_return fs::Error::io;
}

core::Task<fs::Result<fs::Inum>> CoherentFs::create(fs::Inum parent, std::string name) {
  // TODO(lab6 part 2): hold the parent's lock around files_.create.
  dsys::unimplemented("CoherentFs::create");
  co_return fs::Error::io;
}

core::Task<fs::Result<fs::Inum>> CoherentFs::mkdir(fs::Inum parent, std::string name) {
  // TODO(lab6 part 2): hold the parent's lock around files_.mkdir.
  dsys::unimplemented("CoherentFs::mkdir");
  co_return fs::Error::io;
}

core::Task<fs::Result<fs::Attributes>> CoherentFs::setattr(fs::Inum inum, std::uint64_t size) {
  // TODO(lab6 part 2): hold the file's lock around files_.setattr.
  dsys::unimplemented("CoherentFs::setattr");
  co_return fs::Error::io;
}

core::Task<fs::Result<std::size_t>> CoherentFs::write(fs::Inum inum, std::uint64_t offset,
                                                      std::string data) {
  // TODO(lab6 part 2): hold the file's lock around files_.write.
  dsys::unimplemented("CoherentFs::write");
  co_return fs::Error::io;
}

core::Task<fs::Result<void>> CoherentFs::unlink(fs::Inum parent, std::string name) {
  // TODO(lab6 part 2): hold the parent's lock; look the file up; unless it is new here, hold
  // its lock too around files_.unlink.
  dsys::unimplemented("CoherentFs::unlink");
  co_return fs::Error::io;
}

}  // namespace dsys::lab6
