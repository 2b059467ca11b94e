// lock_tester PORT: checks a lab 5 caching lock server on 127.0.0.1:PORT through one caching lock
// client (yours) shared by 10 local users, as the classic lab 5 tester did with threads. Run two
// at once against one server to make the server take locks back and forth between them (Revoke,
// Retry). Prints "passed all tests successfully" and exits 0, or names the violation and exits 1.
#include "main/caching_lock_tester.hpp"
#include "main/tester_main.hpp"

int main(int argc, char** argv) {
  // The server calls this tester back (Revoke, Retry): its node listens.
  return dsys::apps::tester_main<dsys::apps::CachingLockTester>(argc, argv, "lock_tester",
                                                                "the caching lock server",
                                                                /*listen=*/true);
}
