// bench_memfs MOUNTPOINT: the smallest FUSE file system worth comparing yfs with, for
// ./dsys bench fs. Files and directories live in one std::map of inodes in this process, so the
// difference between its figures and yfs's is yfs's own work (RPCs to the extent server,
// encoding directories), not the cost of going through the kernel's FUSE layer and libfuse.
//
// Built on the same libfuse3 as yfs_client and served the way yfs serves (dsys/fs/fuse.hpp): the
// low-level API, requests read on one thread (here a single-threaded fuse_session_loop, one
// request at a time; the bench sends one at a time anyway), and no caching in the kernel: every
// entry and attribute is replied with entry_timeout and attr_timeout 0 and every file is opened
// with direct_io, as yfs does, so that each stat, lookup, read and write reaches this process.
//
// Operations: lookup, getattr, setattr (only the size takes effect; other attributes are
// accepted and left as they are), create, mknod (regular files), mkdir, unlink, open, read,
// write, opendir, readdir. Anything else gets libfuse's default reply (ENOSYS for most).
// Inodes are never reused and unlink drops a file at once (the bench never reads a file after
// unlinking it). SIGINT, SIGTERM and SIGHUP unmount and exit with status 0.
#define FUSE_USE_VERSION 35
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <new>
#include <string>

namespace {

// Files may not grow past this (EFBIG), so that a stray write far out cannot exhaust memory.
constexpr std::size_t kMaxFileSize = 256u << 20;

struct Inode {
  mode_t mode = 0;  // S_IFDIR or S_IFREG, with permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  fuse_ino_t parent = FUSE_ROOT_ID;           // a directory's, for ".."
  std::string data;                           // a file's contents
  std::map<std::string, fuse_ino_t> entries;  // a directory's, by name
  timespec atime{}, mtime{}, ctime{};
  bool directory() const { return S_ISDIR(mode); }
};

// The whole file system. Only the session loop's one thread touches it.
struct MemFs {
  std::map<fuse_ino_t, Inode> inodes;
  fuse_ino_t next_ino = FUSE_ROOT_ID + 1;
};

MemFs& fs_of(fuse_req_t req) {
  return *static_cast<MemFs*>(fuse_req_userdata(req));
}

timespec now() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return t;
}

struct stat attributes_of(fuse_ino_t ino, const Inode& inode) {
  struct stat st {};
  st.st_ino = ino;
  st.st_mode = inode.mode;
  st.st_nlink = inode.directory() ? 2 : 1;
  st.st_uid = inode.uid;
  st.st_gid = inode.gid;
  st.st_size = static_cast<off_t>(inode.directory() ? 4096 : inode.data.size());
  st.st_blksize = 4096;
  st.st_blocks = (st.st_size + 511) / 512;
  st.st_atim = inode.atime;
  st.st_mtim = inode.mtime;
  st.st_ctim = inode.ctime;
  return st;
}

// Entries and attributes are never cached by the kernel (timeouts 0), as in yfs.
fuse_entry_param entry_of(fuse_ino_t ino, const Inode& inode) {
  fuse_entry_param e{};
  e.ino = ino;
  e.generation = 1;
  e.attr = attributes_of(ino, inode);
  e.attr_timeout = 0;
  e.entry_timeout = 0;
  return e;
}

Inode* find(fuse_req_t req, fuse_ino_t ino) {
  auto& inodes = fs_of(req).inodes;
  auto it = inodes.find(ino);
  return it == inodes.end() ? nullptr : &it->second;
}

// Makes `name` in directory `parent`: 0 with the new inode's number in `ino`, or an errno.
int make(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_ino_t& ino) {
  Inode* dir = find(req, parent);
  if (dir == nullptr) return ENOENT;
  if (!dir->directory()) return ENOTDIR;
  if (std::strlen(name) > 255) return ENAMETOOLONG;
  if (dir->entries.count(name) != 0) return EEXIST;
  MemFs& fs = fs_of(req);
  ino = fs.next_ino++;
  const fuse_ctx* ctx = fuse_req_ctx(req);
  Inode inode;
  inode.mode = mode;
  inode.uid = ctx->uid;
  inode.gid = ctx->gid;
  inode.parent = parent;
  inode.atime = inode.mtime = inode.ctime = now();
  fs.inodes.emplace(ino, std::move(inode));  // `dir` stays valid: map nodes do not move
  dir->entries.emplace(name, ino);
  dir->mtime = dir->ctime = now();
  return 0;
}

// Replies to a request that made an inode: its entry, or the error.
void reply_made(fuse_req_t req, int error, fuse_ino_t ino) {
  if (error != 0) return (void)fuse_reply_err(req, error);
  const fuse_entry_param e = entry_of(ino, *find(req, ino));
  fuse_reply_entry(req, &e);
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Inode* dir = find(req, parent);
  if (dir == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (!dir->directory()) return (void)fuse_reply_err(req, ENOTDIR);
  auto it = dir->entries.find(name);
  if (it == dir->entries.end()) return (void)fuse_reply_err(req, ENOENT);
  const fuse_entry_param e = entry_of(it->second, *find(req, it->second));
  fuse_reply_entry(req, &e);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  Inode* inode = find(req, ino);
  if (inode == nullptr) return (void)fuse_reply_err(req, ENOENT);
  const struct stat st = attributes_of(ino, *inode);
  fuse_reply_attr(req, &st, 0);
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
  Inode* inode = find(req, ino);
  if (inode == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if ((to_set & FUSE_SET_ATTR_SIZE) != 0) {
    if (inode->directory()) return (void)fuse_reply_err(req, EISDIR);
    if (attr->st_size < 0) return (void)fuse_reply_err(req, EINVAL);
    if (static_cast<std::size_t>(attr->st_size) > kMaxFileSize)
      return (void)fuse_reply_err(req, EFBIG);
    try {
      inode->data.resize(static_cast<std::size_t>(attr->st_size));
    } catch (const std::bad_alloc&) {
      return (void)fuse_reply_err(req, ENOMEM);
    }
    inode->mtime = inode->ctime = now();
  }
  const struct stat st = attributes_of(ino, *inode);
  fuse_reply_attr(req, &st, 0);
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
               fuse_file_info* fi) {
  fuse_ino_t ino = 0;
  const int error = make(req, parent, name, S_IFREG | (mode & 07777), ino);
  if (error != 0) return (void)fuse_reply_err(req, error);
  fi->direct_io = 1;  // no page cache: every read and write comes here, as in yfs
  const fuse_entry_param e = entry_of(ino, *find(req, ino));
  fuse_reply_create(req, &e, fi);
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t) {
  if (!S_ISREG(mode)) return (void)fuse_reply_err(req, EPERM);
  fuse_ino_t ino = 0;
  const int error = make(req, parent, name, mode, ino);
  reply_made(req, error, ino);
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  fuse_ino_t ino = 0;
  const int error = make(req, parent, name, S_IFDIR | (mode & 07777), ino);
  reply_made(req, error, ino);
}

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Inode* dir = find(req, parent);
  if (dir == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (!dir->directory()) return (void)fuse_reply_err(req, ENOTDIR);
  auto it = dir->entries.find(name);
  if (it == dir->entries.end()) return (void)fuse_reply_err(req, ENOENT);
  if (find(req, it->second)->directory()) return (void)fuse_reply_err(req, EISDIR);
  fs_of(req).inodes.erase(it->second);
  dir->entries.erase(it);
  dir->mtime = dir->ctime = now();
  fuse_reply_err(req, 0);
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Inode* inode = find(req, ino);
  if (inode == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (inode->directory()) return (void)fuse_reply_err(req, EISDIR);
  if ((fi->flags & O_TRUNC) != 0 && (fi->flags & O_ACCMODE) != O_RDONLY) {
    inode->data.clear();
    inode->mtime = inode->ctime = now();
  }
  fi->direct_io = 1;  // no page cache: every read and write comes here, as in yfs
  fuse_reply_open(req, fi);
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  Inode* inode = find(req, ino);
  if (inode == nullptr) return (void)fuse_reply_err(req, ENOENT);
  const std::string& data = inode->data;
  const std::size_t from = std::min(static_cast<std::size_t>(off), data.size());
  fuse_reply_buf(req, data.data() + from, std::min(size, data.size() - from));
}

void op_write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
              fuse_file_info*) {
  Inode* inode = find(req, ino);
  if (inode == nullptr) return (void)fuse_reply_err(req, ENOENT);
  const auto at = static_cast<std::size_t>(off);
  if (at > kMaxFileSize || size > kMaxFileSize - at) return (void)fuse_reply_err(req, EFBIG);
  try {
    if (inode->data.size() < at + size) inode->data.resize(at + size);
  } catch (const std::bad_alloc&) {
    return (void)fuse_reply_err(req, ENOMEM);
  }
  std::memcpy(inode->data.data() + at, buf, size);
  inode->mtime = inode->ctime = now();
  fuse_reply_write(req, size);
}

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Inode* inode = find(req, ino);
  if (inode == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (!inode->directory()) return (void)fuse_reply_err(req, ENOTDIR);
  fuse_reply_open(req, fi);
}

// Entry i of the listing (".", "..", then the names in order) carries offset i + 1, the offset
// a later call resumes from; a listing of a directory changed between calls may skip or repeat.
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  Inode* dir = find(req, ino);
  if (dir == nullptr) return (void)fuse_reply_err(req, ENOENT);
  std::string buffer(size, '\0');
  std::size_t used = 0;
  off_t index = 0;
  // Adds one entry if it is at or past `off`; false once the buffer is full.
  auto add = [&](const char* name, fuse_ino_t entry_ino, mode_t mode) {
    if (index++ < off) return true;
    struct stat st {};
    st.st_ino = entry_ino;
    st.st_mode = mode;
    const std::size_t need =
        fuse_add_direntry(req, buffer.data() + used, size - used, name, &st, index);
    if (need > size - used) return false;
    used += need;
    return true;
  };
  if (add(".", ino, S_IFDIR) && add("..", dir->parent, S_IFDIR)) {
    for (const auto& [name, entry_ino] : dir->entries)
      if (!add(name.c_str(), entry_ino, find(req, entry_ino)->mode)) break;
  }
  fuse_reply_buf(req, buffer.data(), used);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr,
                 "usage: bench_memfs MOUNTPOINT\n  serves an in-memory FUSE file system there "
                 "until SIGINT or SIGTERM (for ./dsys bench fs)\n");
    return 2;
  }
  const char* mountpoint = argv[1];
  MemFs fs;
  Inode root;
  root.mode = S_IFDIR | 0755;
  root.uid = getuid();
  root.gid = getgid();
  root.atime = root.mtime = root.ctime = now();
  fs.inodes.emplace(FUSE_ROOT_ID, std::move(root));

  fuse_lowlevel_ops ops{};
  ops.lookup = op_lookup;
  ops.getattr = op_getattr;
  ops.setattr = op_setattr;
  ops.mknod = op_mknod;
  ops.mkdir = op_mkdir;
  ops.unlink = op_unlink;
  ops.open = op_open;
  ops.read = op_read;
  ops.write = op_write;
  ops.opendir = op_opendir;
  ops.readdir = op_readdir;
  ops.create = op_create;

  char program[] = "bench_memfs";
  char* fuse_argv[] = {program, nullptr};
  fuse_args args = FUSE_ARGS_INIT(1, fuse_argv);
  fuse_session* se = fuse_session_new(&args, &ops, sizeof ops, &fs);
  fuse_opt_free_args(&args);  // (the session keeps what it needs of them)
  if (se == nullptr) {
    std::fprintf(stderr, "bench_memfs: cannot start a FUSE session\n");
    return 1;
  }
  int status = 1;
  if (fuse_set_signal_handlers(se) != 0) {
    std::fprintf(stderr, "bench_memfs: cannot install signal handlers\n");
  } else {
    if (fuse_session_mount(se, mountpoint) != 0) {
      std::fprintf(stderr, "bench_memfs: cannot mount on %s\n", mountpoint);
    } else {
      std::printf("bench_memfs: mounted on %s\n", mountpoint);
      std::fflush(stdout);
      status = fuse_session_loop(se) < 0 ? 1 : 0;  // else ended by a signal or an unmount
      fuse_session_unmount(se);
    }
    fuse_remove_signal_handlers(se);
  }
  fuse_session_destroy(se);
  return status;
}
