// lab 6, part 2: locks around every operation, and the release callback. See coherent_fs.hpp.
#include "coherent_fs.hpp"

#include "dsys/core/error.hpp"

namespace dsys::lab6 {

CoherentFs::CoherentFs(fs::FileSystem& files, lab5::CachingLockClient& locks, ExtentCache& cache)
    : files_(files), locks_(locks), cache_(cache) {
  // SOLUTION BEGIN
  locks_.set_release_callback([this](lock::LockId lock) { return cache_.flush(lock); });
  // SOLUTION STUB
  // // TODO(lab6 part 2): set locks_' release callback: flush the lock's extent from cache_.
  // // (Without it nothing you write ever reaches the extent server.)
  // SOLUTION END
}

// SOLUTION BEGIN
template <class T, class F>
core::Task<fs::Result<T>> CoherentFs::holding(lock::LockId lock, F op) {
  const auto acquired = co_await locks_.acquire(lock);  // (not inside the `if`: see lab 4)
  if (!acquired) co_return fs::Error::io;
  fs::Result<T> result = co_await op();
  (void)co_await locks_.release(lock);
  co_return result;
}
// SOLUTION END

core::Task<fs::Result<fs::Attributes>> CoherentFs::getattr(fs::Inum inum) {
  // SOLUTION BEGIN
  if (auto a = cache_.new_extent(inum)) {
    co_return fs::Attributes{
        .inum = inum, .size = a->size, .atime = a->atime, .mtime = a->mtime, .ctime = a->ctime};
  }
  co_return co_await holding<fs::Attributes>(inum, [&]() { return files_.getattr(inum); });
  // SOLUTION STUB
  // // TODO(lab6 part 2): a new inode's attributes from cache_.new_extent, at once; else hold
  // // the inode's lock around files_.getattr.
  // dsys::unimplemented("CoherentFs::getattr");
  // co_return fs::Error::io;
  // SOLUTION END
}

core::Task<fs::Result<fs::Inum>> CoherentFs::lookup(fs::Inum parent, std::string name) {
  // SOLUTION BEGIN
  co_return co_await holding<fs::Inum>(parent,
                                       [&]() { return files_.lookup(parent, std::move(name)); });
  // SOLUTION STUB
  // // TODO(lab6 part 2): hold the directory's lock around files_.lookup.
  // dsys::unimplemented("CoherentFs::lookup");
  // co_return fs::Error::io;
  // SOLUTION END
}

core::Task<fs::Result<std::vector<fs::DirEntry>>> CoherentFs::readdir(fs::Inum dir) {
  // SOLUTION BEGIN
  co_return co_await holding<std::vector<fs::DirEntry>>(dir, [&]() { return files_.readdir(dir); });
  // SOLUTION STUB
  // // TODO(lab6 part 2): hold the directory's lock around files_.readdir.
  // dsys::unimplemented("CoherentFs::readdir");
  // co_return fs::Error::io;
  // SOLUTION END
}

core::Task<fs::Result<std::string>> CoherentFs::read(fs::Inum inum, std::uint64_t offset,
                                                     std::size_t size) {
  // SOLUTION BEGIN
  co_return co_await holding<std::string>(inum, [&]() { return files_.read(inum, offset, size); });
  // SOLUTION STUB
  // // TODO(lab6 part 2): hold the file's lock around files_.read.
  // dsys::unimplemented("CoherentFs::read");
  // co_return fs::Error::io;
  // SOLUTION END
}

core::Task<fs::Result<fs::Inum>> CoherentFs::create(fs::Inum parent, std::string name) {
  // SOLUTION BEGIN
  co_return co_await holding<fs::Inum>(parent,
                                       [&]() { return files_.create(parent, std::move(name)); });
  // SOLUTION STUB
  // // TODO(lab6 part 2): hold the parent's lock around files_.create.
  // dsys::unimplemented("CoherentFs::create");
  // co_return fs::Error::io;
  // SOLUTION END
}

core::Task<fs::Result<fs::Inum>> CoherentFs::mkdir(fs::Inum parent, std::string name) {
  // SOLUTION BEGIN
  co_return co_await holding<fs::Inum>(parent,
                                       [&]() { return files_.mkdir(parent, std::move(name)); });
  // SOLUTION STUB
  // // TODO(lab6 part 2): hold the parent's lock around files_.mkdir.
  // dsys::unimplemented("CoherentFs::mkdir");
  // co_return fs::Error::io;
  // SOLUTION END
}

core::Task<fs::Result<fs::Attributes>> CoherentFs::setattr(fs::Inum inum, std::uint64_t size) {
  // SOLUTION BEGIN
  co_return co_await holding<fs::Attributes>(inum, [&]() { return files_.setattr(inum, size); });
  // SOLUTION STUB
  // // TODO(lab6 part 2): hold the file's lock around files_.setattr.
  // dsys::unimplemented("CoherentFs::setattr");
  // co_return fs::Error::io;
  // SOLUTION END
}

core::Task<fs::Result<std::size_t>> CoherentFs::write(fs::Inum inum, std::uint64_t offset,
                                                      std::string data) {
  // SOLUTION BEGIN
  co_return co_await holding<std::size_t>(
      inum, [&]() { return files_.write(inum, offset, std::move(data)); });
  // SOLUTION STUB
  // // TODO(lab6 part 2): hold the file's lock around files_.write.
  // dsys::unimplemented("CoherentFs::write");
  // co_return fs::Error::io;
  // SOLUTION END
}

core::Task<fs::Result<void>> CoherentFs::unlink(fs::Inum parent, std::string name) {
  // SOLUTION BEGIN
  co_return co_await holding<void>(parent, [&]() -> core::Task<fs::Result<void>> {
    auto inum = co_await files_.lookup(parent, name);
    if (!inum) co_return inum.error();
    if (fs::is_directory(*inum) || cache_.new_extent(*inum)) {
      co_return co_await files_.unlink(parent, std::move(name));  // (no file, or only ours)
    }
    co_return co_await holding<void>(*inum,
                                     [&]() { return files_.unlink(parent, std::move(name)); });
  });
  // SOLUTION STUB
  // // TODO(lab6 part 2): hold the parent's lock; look the file up; unless it is new here, hold
  // // its lock too around files_.unlink.
  // dsys::unimplemented("CoherentFs::unlink");
  // co_return fs::Error::io;
  // SOLUTION END
}

}  // namespace dsys::lab6
