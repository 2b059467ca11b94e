// lock_tester PORT: checks lab 8's replicated lock service, whose replica (any: the master's will
// do) is on 127.0.0.1:PORT: lab 5's tester (one caching lock client shared by 10 local users),
// whose lock client reaches the replicas through your RSM client (lab8_node.hpp's LockRelay).
// Run it while replicas are killed and restarted. Prints "passed all tests successfully" and
// exits 0, or names the violation and exits 1.
#include "lab8_node.hpp"
#include "main/caching_lock_tester.hpp"
#include "main/tester_main.hpp"

namespace {

struct Relayed {
  Relayed(dsys::core::Context& ctx, dsys::core::Address replica) : relay(ctx, {replica}) {}
  dsys::lab8::LockRelay relay;
};

// The relay first, then lab 5's tester, whose caching client's calls it carries.
struct ReplicatedLockTester : Relayed, dsys::apps::CachingLockTester {
  ReplicatedLockTester(dsys::core::Context& ctx, dsys::core::Address replica)
      : Relayed(ctx, replica), dsys::apps::CachingLockTester(ctx, replica, &relay) {}
};

}  // namespace

int main(int argc, char** argv) {
  // The primary calls this tester back (Revoke, Retry): its node listens.
  return dsys::apps::tester_main<ReplicatedLockTester>(
      argc, argv, "lock_tester", "the replicated lock service (any replica's port)",
      /*listen=*/true);
}
