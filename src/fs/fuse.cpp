// The FUSE adapter: see dsys/fs/fuse.hpp.
//
// libfuse's low-level API calls one function per kernel request (from fuse_session_process_buf,
// on the node's thread); each spawns a coroutine on the node, which calls the FileSystem and then
// answers with one fuse_reply_*. A Reply guard answers EIO if its coroutine is destroyed first
// (the node stopping), so that the kernel never waits for an answer that will not come.
#define FUSE_USE_VERSION 34
#include "dsys/fs/fuse.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace dsys::fs {

namespace {

// How long the kernel may keep an entry or attributes: never (see fuse.hpp).
constexpr double kNoCaching = 0.0;

// Bit 0 of a file handle: the file was opened with O_APPEND.
constexpr std::uint64_t kAppendHandle = 1;

timespec to_timespec(std::int64_t ns) {
  timespec t{};
  t.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  t.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  if (t.tv_nsec < 0) {
    t.tv_nsec += 1'000'000'000;
    t.tv_sec -= 1;
  }
  return t;
}

struct stat to_stat(const Attributes& a) {
  struct stat st {};
  st.st_ino = a.inum;
  st.st_mode = a.directory() ? (S_IFDIR | 0755) : (S_IFREG | 0644);
  st.st_nlink = a.directory() ? 2 : 1;
  static const uid_t uid = getuid();  // (once: two system calls per reply otherwise)
  static const gid_t gid = getgid();
  st.st_uid = uid;
  st.st_gid = gid;
  st.st_size = static_cast<off_t>(a.size);
  st.st_blksize = 4096;
  st.st_blocks = static_cast<blkcnt_t>((a.size + 511) / 512);
  st.st_atim = to_timespec(a.atime);
  st.st_mtim = to_timespec(a.mtime);
  st.st_ctim = to_timespec(a.ctime);
  return st;
}

fuse_entry_param to_entry(const Attributes& a) {
  fuse_entry_param e{};
  e.ino = a.inum;
  e.generation = 1;
  e.attr = to_stat(a);
  e.attr_timeout = kNoCaching;
  e.entry_timeout = kNoCaching;
  return e;
}

// One kernel request, answered exactly once: by one of the reply functions, or with EIO when the
// coroutine holding it is destroyed before it answered.
class Reply {
 public:
  explicit Reply(fuse_req_t req) : req_(req) {}
  Reply(Reply&& other) noexcept : req_(std::exchange(other.req_, nullptr)) {}
  Reply& operator=(Reply&&) = delete;
  ~Reply() {
    if (req_) fuse_reply_err(req_, EIO);
  }
  void error(Error e) { fuse_reply_err(take(), to_errno(e)); }
  void error_number(int err) { fuse_reply_err(take(), err); }
  void entry(const Attributes& a) {
    const auto e = to_entry(a);
    fuse_reply_entry(take(), &e);
  }
  void attributes(const Attributes& a) {
    const auto st = to_stat(a);
    fuse_reply_attr(take(), &st, kNoCaching);
  }

  fuse_req_t take() { return std::exchange(req_, nullptr); }

 private:
  fuse_req_t req_;
};

// The entries of a directory as opendir saw them: readdir calls page through this snapshot.
struct Listing {
  std::vector<DirEntry> entries;  // ".", "..", then the directory's
};

}  // namespace

class FuseMount::Impl {
 public:
  Impl(net::Runtime& runtime, FileSystem& fs, std::string mountpoint)
      : runtime_(runtime), ctx_(runtime.context()), fs_(fs), mountpoint_(std::move(mountpoint)) {
    if (auto why = check_mountpoint(mountpoint_); !why.empty()) throw MountError(why);
    const char* argv[] = {"yfs_client"};
    fuse_args args = FUSE_ARGS_INIT(1, const_cast<char**>(argv));
    const auto ops = operations();
    session_ = fuse_session_new(&args, &ops, sizeof ops, this);
    fuse_opt_free_args(&args);
    if (!session_) throw MountError("could not start a FUSE session (see the message above)");
    if (fuse_session_mount(session_, mountpoint_.c_str()) != 0) {
      fuse_session_destroy(session_);
      session_ = nullptr;
      throw MountError(fmt::format(
          "could not mount on {} (is /dev/fuse there, and fusermount3 installed?)", mountpoint_));
    }
    mounted_ = true;
    const int fd = fuse_session_fd(session_);
    // Never block the node in read(): an empty device reads EAGAIN, and the watch calls again.
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    watch_ = runtime_.watch_readable(fd, [this] { return on_readable(); });
  }

  ~Impl() {
    watch_.reset();
    if (session_) {
      if (mounted_) fuse_session_unmount(session_);
      fuse_session_destroy(session_);
    }
    std::free(buffer_.mem);
  }

  const std::string& mountpoint() const { return mountpoint_; }
  bool ended() const { return ended_; }

 private:
  static Impl& of(fuse_req_t req) { return *static_cast<Impl*>(fuse_req_userdata(req)); }

  // Takes what the kernel has sent, a bounded number of requests per turn so that replies and
  // timers get their turn too (the watch calls again while more is waiting). True when the
  // device had nothing more (or the session ended).
  bool on_readable() {
    for (int i = 0; i < 64 && !ended_; ++i) {
      const int n = fuse_session_receive_buf(session_, &buffer_);
      if (n == -EAGAIN) return true;
      if (n == -EINTR) return false;
      if (n <= 0 || fuse_session_exited(session_)) {
        end(n < 0 ? fmt::format("reading /dev/fuse: {}", std::strerror(-n))
                  : std::string("unmounted"));
        return true;
      }
      fuse_session_process_buf(session_, &buffer_);
    }
    return ended_;
  }

  void end(const std::string& why) {
    ended_ = true;
    mounted_ = false;  // the kernel has let go already
    ctx_.log("fuse: session ended ({}): stopping", why);
    watch_.reset();
    runtime_.stop();
  }

  // Runs `body(reply)` as a coroutine of the node, at once: an operation that needs no RPC (most
  // of them, once lab 6 caches) answers the kernel before the next request is read.
  template <class F>
  void start(fuse_req_t req, F body) {
    ctx_.spawn_now([reply = Reply(req), body = std::move(body)]() mutable -> core::Task<void> {
      co_await body(reply);
    });
  }

  // --- the operations

  static void init(void*, fuse_conn_info* conn) {
    // Data goes through read and write requests, never spliced pipes; no write-back cache. And
    // open(O_TRUNC) truncates with a setattr of size 0 first (the FileSystem's setattr), rather
    // than asking open itself to truncate.
    conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
                    FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_ATOMIC_O_TRUNC);
  }

  static void lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    Impl& self = of(req);
    self.start(req, [&self, parent, name = std::string(name)](Reply& reply) -> core::Task<void> {
      auto inum = co_await self.fs_.lookup(parent, name);
      if (!inum) co_return reply.error(inum.error());
      co_await self.answer_entry(reply, *inum);
    });
  }

  static void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    Impl& self = of(req);
    self.start(req, [&self, ino](Reply& reply) -> core::Task<void> {
      auto a = co_await self.fs_.getattr(ino);
      if (!a) co_return reply.error(a.error());
      reply.attributes(*a);
    });
  }

  static void setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
                      fuse_file_info*) {
    Impl& self = of(req);
    const bool resize = (to_set & FUSE_SET_ATTR_SIZE) != 0;
    const auto size = static_cast<std::uint64_t>(attr->st_size);
    if (resize && attr->st_size < 0) {
      fuse_reply_err(req, EINVAL);
      return;
    }
    self.start(req, [&self, ino, resize, size](Reply& reply) -> core::Task<void> {
      // Only the size is kept; mode, owner and times are accepted and change nothing.
      auto a = resize ? co_await self.fs_.setattr(ino, size) : co_await self.fs_.getattr(ino);
      if (!a) co_return reply.error(a.error());
      reply.attributes(*a);
    });
  }

  static void create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                     fuse_file_info* fi) {
    if (!S_ISREG(mode)) {
      fuse_reply_err(req, ENOSYS);
      return;
    }
    Impl& self = of(req);
    fuse_file_info opened = *fi;
    opened.direct_io = 1;
    opened.keep_cache = 0;
    opened.fh = (fi->flags & O_APPEND) ? kAppendHandle : 0;
    const bool exclusive = (fi->flags & O_EXCL) != 0;
    const bool truncate = (fi->flags & O_TRUNC) != 0;
    self.start(req,
               [&self, parent, name = std::string(name), opened, exclusive,
                truncate](Reply& reply) -> core::Task<void> {
                 auto inum = co_await self.fs_.create(parent, name);
                 const bool taken = !inum && inum.error() == Error::exists && !exclusive;
                 if (!inum && !taken) co_return reply.error(inum.error());
                 auto a = taken ? co_await self.attributes_of_existing(parent, name, truncate)
                                : co_await self.attributes_of_new(*inum);
                 if (!a) co_return reply.error(a.error());
                 const auto e = to_entry(*a);
                 fuse_reply_create(reply.take(), &e, &opened);
               });
  }

  static void mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t) {
    if (!S_ISREG(mode)) {
      fuse_reply_err(req, ENOSYS);
      return;
    }  // no devices, fifos or sockets
    Impl& self = of(req);
    self.start(req, [&self, parent, name = std::string(name)](Reply& reply) -> core::Task<void> {
      auto inum = co_await self.fs_.create(parent, name);
      if (!inum) co_return reply.error(inum.error());
      co_await self.answer_new_entry(reply, *inum);
    });
  }

  static void mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t) {
    Impl& self = of(req);
    self.start(req, [&self, parent, name = std::string(name)](Reply& reply) -> core::Task<void> {
      auto inum = co_await self.fs_.mkdir(parent, name);
      if (!inum) co_return reply.error(inum.error());
      co_await self.answer_new_entry(reply, *inum);
    });
  }

  static void unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
    Impl& self = of(req);
    self.start(req, [&self, parent, name = std::string(name)](Reply& reply) -> core::Task<void> {
      auto done = co_await self.fs_.unlink(parent, name);
      reply.error_number(done ? 0 : to_errno(done.error()));
    });
  }

  static void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    Impl& self = of(req);
    fuse_file_info opened = *fi;
    opened.direct_io = 1;
    opened.keep_cache = 0;
    opened.fh = (fi->flags & O_APPEND) ? kAppendHandle : 0;
    self.start(req, [&self, ino, opened](Reply& reply) -> core::Task<void> {
      auto a = co_await self.fs_.getattr(ino);  // it may have gone since the kernel looked
      if (!a) co_return reply.error(a.error());
      if (a->directory()) co_return reply.error(Error::is_directory);
      fuse_reply_open(reply.take(), &opened);
    });
  }

  static void read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info*) {
    if (offset < 0) {
      fuse_reply_err(req, EINVAL);
      return;
    }
    Impl& self = of(req);
    self.start(req, [&self, ino, size, offset](Reply& reply) -> core::Task<void> {
      auto data = co_await self.fs_.read(ino, static_cast<std::uint64_t>(offset), size);
      if (!data) co_return reply.error(data.error());
      // A FileSystem that returns more than asked would overflow the kernel's buffer.
      const std::size_t n = std::min(data->size(), size);
      fuse_reply_buf(reply.take(), data->data(), n);
    });
  }

  static void write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t offset,
                    fuse_file_info* fi) {
    if (offset < 0) {
      fuse_reply_err(req, EINVAL);
      return;
    }
    Impl& self = of(req);
    const std::uint64_t at = (fi->fh & kAppendHandle) ? kAtEnd : static_cast<std::uint64_t>(offset);
    // The bytes live in the receive buffer, which the next request reuses: copy them now.
    self.start(
        req,
        [&self, ino, at, data = std::string(buf, size)](Reply& reply) mutable -> core::Task<void> {
          auto n = co_await self.fs_.write(ino, at, std::move(data));
          if (!n) co_return reply.error(n.error());
          fuse_reply_write(reply.take(), *n);
        });
  }

  static void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    Impl& self = of(req);
    fuse_file_info opened = *fi;
    self.start(req, [&self, ino, opened](Reply& reply) mutable -> core::Task<void> {
      auto entries = co_await self.fs_.readdir(ino);
      if (!entries) co_return reply.error(entries.error());
      auto listing = std::make_unique<Listing>();
      listing->entries.push_back({".", ino});
      listing->entries.push_back({"..", ino});  // the kernel knows the real parent
      for (auto& e : *entries) listing->entries.push_back(std::move(e));
      opened.fh = reinterpret_cast<std::uint64_t>(listing.get());
      // releasedir frees it (the kernel holds it as `fh` until then)
      if (fuse_reply_open(reply.take(), &opened) == 0)
        listing.release();  // NOLINT(bugprone-unused-return-value)
    });
  }

  // Pages through opendir's snapshot: `offset` is the index of the next entry.
  static void readdir(fuse_req_t req, fuse_ino_t, size_t size, off_t offset, fuse_file_info* fi) {
    // libfuse keeps our pointer as the integer `fh`
    const auto* listing =
        reinterpret_cast<const Listing*>(fi->fh);  // NOLINT(performance-no-int-to-ptr)
    if (!listing || offset < 0) {
      fuse_reply_err(req, EINVAL);
      return;
    }
    std::vector<char> buffer(size);
    std::size_t used = 0;
    for (auto i = static_cast<std::size_t>(offset); i < listing->entries.size(); ++i) {
      const DirEntry& e = listing->entries[i];
      struct stat st {};
      st.st_ino = e.inum;
      st.st_mode = is_directory(e.inum) ? S_IFDIR : S_IFREG;
      const std::size_t need = fuse_add_direntry(req, buffer.data() + used, size - used,
                                                 e.name.c_str(), &st, static_cast<off_t>(i + 1));
      if (need > size - used) break;  // full: the kernel asks again from here
      used += need;
    }
    fuse_reply_buf(req, buffer.data(), used);
  }

  static void releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    delete reinterpret_cast<Listing*>(fi->fh);  // NOLINT(performance-no-int-to-ptr): as in readdir
    fuse_reply_err(req, 0);
  }

  static void rename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*,
                     unsigned int) {
    fuse_reply_err(req, ENOSYS);  // not part of the labs (see fuse.hpp)
  }

  static void rmdir(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, ENOSYS); }

  // A successful entry-making operation answers with the entry's attributes.
  core::Task<void> answer_entry(Reply& reply, Inum inum) {
    auto a = co_await fs_.getattr(inum);
    if (!a) co_return reply.error(a.error());
    reply.entry(*a);
  }

  // The attributes of an inode this request has just made. Another client may remove it before
  // they are read (its lock was released when the operation returned): the making still
  // happened, first, so answer with what it made (empty, now) rather than a false ENOENT.
  core::Task<Result<Attributes>> attributes_of_new(Inum inum) {
    auto a = co_await fs_.getattr(inum);
    if (a || a.error() != Error::not_found) co_return a;
    const std::int64_t now = ctx_.wall_time_ns();
    co_return Attributes{.inum = inum, .size = 0, .atime = now, .mtime = now, .ctime = now};
  }

  // The attributes of the file `name` in `parent` that a create without O_EXCL found taken: the
  // kernel looked the name up and found nothing, but another client made it before this create
  // reached the file system. POSIX opens the existing file then (truncated with O_TRUNC), so this
  // does; a directory by that name is EISDIR. The FileSystem's create keeps its contract (exists).
  core::Task<Result<Attributes>> attributes_of_existing(Inum parent, std::string name,
                                                        bool truncate) {
    auto inum = co_await fs_.lookup(parent, std::move(name));
    if (!inum) co_return inum.error();  // gone again already: as if never there
    if (is_directory(*inum)) co_return Error::is_directory;
    co_return truncate ? co_await fs_.setattr(*inum, 0) : co_await fs_.getattr(*inum);
  }

  core::Task<void> answer_new_entry(Reply& reply, Inum inum) {
    auto a = co_await attributes_of_new(inum);
    if (!a) co_return reply.error(a.error());
    reply.entry(*a);
  }

  static fuse_lowlevel_ops operations() {
    fuse_lowlevel_ops ops{};
    ops.init = init;
    ops.lookup = lookup;
    ops.getattr = getattr;
    ops.setattr = setattr;
    ops.create = create;
    ops.mknod = mknod;
    ops.mkdir = mkdir;
    ops.unlink = unlink;
    ops.rmdir = rmdir;
    ops.rename = rename;
    ops.open = open;
    ops.read = read;
    ops.write = write;
    ops.opendir = opendir;
    ops.readdir = readdir;
    ops.releasedir = releasedir;
    return ops;
  }

  net::Runtime& runtime_;
  core::Context& ctx_;
  FileSystem& fs_;
  std::string mountpoint_;
  fuse_session* session_ = nullptr;
  bool mounted_ = false;
  bool ended_ = false;
  fuse_buf buffer_{};  // reused by every receive; libfuse allocates its memory
  std::unique_ptr<net::FdWatch> watch_;
};

std::string check_mountpoint(const std::string& mountpoint) {
  struct stat st {};
  if (::stat(mountpoint.c_str(), &st) != 0) {
    return fmt::format("mount point {}: {}", mountpoint, std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return fmt::format("mount point {} is not a directory", mountpoint);
  struct stat parent {};
  if (::stat((mountpoint + "/..").c_str(), &parent) == 0 && parent.st_dev != st.st_dev) {
    return fmt::format(
        "mount point {} is busy: something is mounted there already "
        "(fusermount3 -u {} unmounts it)",
        mountpoint, mountpoint);
  }
  DIR* dir = ::opendir(mountpoint.c_str());
  if (!dir) return fmt::format("mount point {}: {}", mountpoint, std::strerror(errno));
  bool empty = true;
  while (const dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  ::closedir(dir);
  if (!empty) return fmt::format("mount point {} is not empty", mountpoint);
  return "";
}

FuseMount::FuseMount(net::Runtime& runtime, FileSystem& fs, std::string mountpoint)
    : impl_(std::make_unique<Impl>(runtime, fs, std::move(mountpoint))) {}
FuseMount::~FuseMount() = default;
const std::string& FuseMount::mountpoint() const {
  return impl_->mountpoint();
}
bool FuseMount::ended() const {
  return impl_->ended();
}

}  // namespace dsys::fs
