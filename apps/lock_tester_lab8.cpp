// lock_tester PORT: checks lab 8's replicated lock service, whose replica (any: the master's will
// do) is on 127.0.0.1:PORT: lab 5's tester (one caching lock client shared by 10 local users),
// whose lock client reaches the replicas through your RSM client (lab8_node.hpp's LockProxy).
// Run it while replicas are killed and restarted. Prints "passed all tests successfully" and
// exits 0, or names the violation and exits 1.
#include "caching_lock_tester.hpp"
#include "dsys/net/tester_main.hpp"
#include "lab8_node.hpp"

namespace {

struct Proxied {
  Proxied(dsys::core::Context& ctx, dsys::core::Address replica) : proxy(ctx, {replica}) {}
  dsys::lab8::LockProxy proxy;
};

// The proxy first, then lab 5's tester, whose caching client calls the proxy on its own node.
struct ReplicatedLockTester : Proxied, dsys::apps::CachingLockTester {
  ReplicatedLockTester(dsys::core::Context& ctx, dsys::core::Address replica)
      : Proxied(ctx, replica), dsys::apps::CachingLockTester(ctx, ctx.address()) {}
};

}  // namespace

int main(int argc, char** argv) {
  // The primary calls this tester back (Revoke, Retry): its node listens.
  return dsys::net::tester_main<ReplicatedLockTester>(
      argc, argv, "lock_tester", "the replicated lock service (any replica's port)",
      /*listen=*/true);
}
