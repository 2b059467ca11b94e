// dsys/fs/fuse.hpp: a FileSystem mounted through FUSE (libfuse 3, the low-level API).
//
// The kernel's requests are read from /dev/fuse on the node's own executor (Runtime's fd watch),
// and each runs as a coroutine of the node that calls the FileSystem and answers the kernel when
// it is done; many requests may be in flight at once. Errors reach the caller as errno values
// (fs::to_errno). An operation whose server does not answer fails with EIO after the extent
// client's timeout: a request is never left unanswered.
//
// Nothing is cached in the kernel: entries and attributes are valid for 0 s and files are opened
// with direct I/O, so every stat, lookup, read and write reaches the FileSystem, and a change
// through one mount is seen at once through another. A file opened with O_APPEND writes at the
// file's true end (FileSystem::write with kAtEnd), not where this kernel last saw it. An open
// with O_CREAT but without O_EXCL of a name another mount made after this kernel looked it up
// (the FileSystem's create answers `exists`) opens that file, truncated with O_TRUNC, as POSIX
// says. Not supported (ENOSYS): rename, rmdir (yfs has none), links, symlinks, extended
// attributes.
// Permissions and owners are not kept: files are 0644 and directories 0755, owned by whoever
// runs the yfs client; chmod, chown and setting times are accepted and change nothing.
//
// Threading contract: construct, use and destroy a FuseMount on the thread that runs the Runtime.
// Stop the node's tasks (context().shutdown()) before destroying it.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "dsys/fs/file_system.hpp"
#include "dsys/net/runtime.hpp"

namespace dsys::fs {

// The mount point is unusable: missing, not a directory, not empty, or mounted already; or the
// kernel refused the mount. what() says which, in words.
class MountError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class FuseMount {
 public:
  // Mounts `fs` at `mountpoint` and starts serving on `runtime`'s node. Throws MountError.
  // When the file system is unmounted from outside (fusermount3 -u, umount), the runtime is
  // stopped.
  FuseMount(net::Runtime& runtime, FileSystem& fs, std::string mountpoint);
  ~FuseMount();  // unmounts (if still mounted)
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  const std::string& mountpoint() const;
  // The kernel ended the session (the file system was unmounted from outside).
  bool ended() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Why `mountpoint` cannot be mounted on ("... does not exist", "... is not empty"), or "".
std::string check_mountpoint(const std::string& mountpoint);

}  // namespace dsys::fs
