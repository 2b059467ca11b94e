// The yfs_client program's main: see apps/main/yfs_client_main.hpp.
#include "main/yfs_client_main.hpp"

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "dsys/fs/fuse.hpp"

namespace dsys::apps {

namespace {

std::optional<core::Address> port_argument(const std::string& text, std::string_view what) {
  auto address = core::Address::parse(text);
  if (!address) {
    std::cerr << fmt::format("yfs_client: {} '{}' is not a port number (1-65535)\n", what, text);
  }
  return address;
}

}  // namespace

int run_yfs_client(int argc, char** argv, const MakeNode& make, const FileSystemOf& fs_of,
                   const FinishOf& finish) {
  if (argc != 4) {
    std::cerr << "usage: yfs_client MOUNTPOINT EXTENT_PORT LOCK_PORT\n"
                 "  mounts yfs at MOUNTPOINT (an empty directory), served by the extent server at\n"
                 "  127.0.0.1:EXTENT_PORT and the lock server at 127.0.0.1:LOCK_PORT (used from\n"
                 "  lab 4 on); unmounts on SIGINT or SIGTERM\n";
    return 2;
  }
  const std::string mountpoint = argv[1];
  const auto extent = port_argument(argv[2], "EXTENT_PORT");
  const auto lock = port_argument(argv[3], "LOCK_PORT");
  if (!extent || !lock) return 2;
  if (auto why = fs::check_mountpoint(mountpoint); !why.empty()) {
    std::cerr << "yfs_client: " << why << "\n";
    return 1;
  }
  try {
    auto options = net::Options::from_environment();
    options.name = "yfs_client";
    options.listen_port = 0;  // callbacks reach it here (lab 5's revoke and retry)
    options.stop_on_signals = true;
    net::Runtime runtime(options, make(fs::Servers{*extent, *lock}));
    bool ok = true;
    {
      fs::FuseMount mount(runtime, fs_of(runtime), mountpoint);
      fmt::print("yfs_client: mounted {} (extent server {}, lock server {})\n", mountpoint,
                 extent->to_string(), lock->to_string());
      std::fflush(stdout);
      ok = runtime.run();
      if (ok && finish) {
        // The node's last work (lab 6: its write-backs), still mounted: what the kernel sends
        // meanwhile is served. A second signal stops it.
        runtime.resume();
        bool finished = false;
        runtime.context().spawn([&]() -> core::Task<void> {
          co_await finish(runtime);
          finished = true;
        });
        if (runtime.run_until([&] { return finished; }, kFinishLimit)) {
          fmt::print("yfs_client: finished\n");
          std::fflush(stdout);
        } else {
          std::cerr << "yfs_client: did not finish (stopped, or it took longer than "
                    << kFinishLimit / std::chrono::seconds(1) << " s): what it had not written "
                    << "back is lost\n";
        }
      }
      // Answer (with EIO) whatever the kernel still waits for, then unmount.
      runtime.context().shutdown();
    }
    std::cerr << fmt::format("yfs_client: unmounted {}\n", mountpoint);
    // Last, so that it is the line a test's report shows: why it stopped.
    if (!ok) std::cerr << "yfs_client: stopped: " << runtime.failure() << "\n";
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "yfs_client: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace dsys::apps
