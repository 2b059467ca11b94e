// A real-world node for the DSYS_BREAKPOINT test: `breakpoint_program DIR` writes and syncs
// k=1, passes breakpoint "loop", prints "passed loop 1", and so on up to 3.
#include <cstdio>
#include <string>

#include "dsys/net/runtime.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  dsys::net::Runtime runtime(
      {.name = "breakpoint", .storage_dir = argv[1], .log_to_stderr = false});
  auto& ctx = runtime.context();
  for (int i = 1; i <= 3; ++i) {
    ctx.storage().write("k", std::to_string(i));
    ctx.storage().sync();
    ctx.breakpoint("loop");
    std::printf("passed loop %d\n", i);
    std::fflush(stdout);
  }
  return 0;
}
