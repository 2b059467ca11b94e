// The yfs_client program's main: see apps/main/yfs_client_main.hpp.
#include "main/yfs_client_main.hpp"

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dsys/fs/fuse.hpp"
#include "dsys/net/host.hpp"
#include "main/node_address.hpp"

namespace dsys::apps {

int run_yfs_client(int argc, char** argv, const MakeNode& make, const FileSystemOf& fs_of,
                   const FinishOf& finish) {
  auto usage = [](std::string_view why) {
    std::cerr << "yfs_client: " << why
              << "\nusage: yfs_client [--listen ADDR] [--announce ADDR] MOUNTPOINT EXTENT_PORT "
                 "LOCK_PORT\n"
                 "  mounts yfs at MOUNTPOINT (an empty directory), served by the extent server at\n"
                 "  127.0.0.1:EXTENT_PORT and the lock server at 127.0.0.1:LOCK_PORT (used from\n"
                 "  lab 4 on; either may be HOST:PORT); unmounts on SIGINT or SIGTERM\n"
              << kNodeAddressUsage;
    return 2;
  };
  std::vector<std::string> args(argv + 1, argv + argc);
  NodeAddress own;
  if (auto why = take_node_address(args, own); !why.empty()) return usage(why);
  if (args.size() != 3) return usage("expected a mount point and two ports");
  const std::string mountpoint = args[0];
  const auto extent = net::parse_host_port(args[1], net::PortZero::refused);
  if (!extent) return usage(fmt::format("EXTENT_PORT {}", extent.error()));
  const auto lock = net::parse_host_port(args[2], net::PortZero::refused);
  if (!lock) return usage(fmt::format("LOCK_PORT {}", lock.error()));
  if (auto why = fs::check_mountpoint(mountpoint); !why.empty()) {
    std::cerr << "yfs_client: " << why << "\n";
    return 1;
  }
  try {
    auto options = net::Options::from_environment();
    options.name = "yfs_client";
    listen_as_client(options, own, lock->address());  // callbacks: lab 5's revoke and retry
    options.stop_on_signals = true;
    net::Runtime runtime(options, make(fs::Servers{extent->address(), lock->address()}));
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
