// lock_workload [--seconds S] [--users N] [--locks K] [--history FILE] PORT|HOST:PORT: lab 8's
// replicated lock service under a recorded workload, through lab 5's caching lock client and your
// RSM client (lab8_node.hpp's LockRelay), for ./dsys nemesis. See apps/main/lock_workload.hpp.
#include "lab8_node.hpp"
#include "main/lock_workload.hpp"

namespace {

struct Relayed {
  Relayed(dsys::core::Context& ctx, dsys::core::Address replica) : relay(ctx, {replica}) {}
  dsys::lab8::LockRelay relay;
};

// The relay first, then the workload, whose caching client's calls it carries.
struct ReplicatedLockWorkload : Relayed, dsys::apps::LockWorkload {
  ReplicatedLockWorkload(dsys::core::Context& ctx, dsys::core::Address replica,
                         dsys::apps::WorkloadOptions options)
      : Relayed(ctx, replica), dsys::apps::LockWorkload(ctx, replica, std::move(options), &relay) {}
};

}  // namespace

int main(int argc, char** argv) {
  return dsys::apps::lock_workload_main<ReplicatedLockWorkload>(argc, argv);
}
