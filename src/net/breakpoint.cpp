#include "dsys/net/breakpoint.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

namespace dsys::net {

namespace {

struct Armed {
  std::string name;  // empty: none
  std::uint64_t nth = 1;
  std::uint64_t hits = 0;
};

Armed& armed() {
  static Armed a = [] {
    Armed out;
    const char* text = std::getenv("DSYS_BREAKPOINT");
    if (text == nullptr) return out;
    out.name = text;
    if (const auto at = out.name.rfind('@'); at != std::string::npos) {
      char* end = nullptr;
      const unsigned long long nth = std::strtoull(out.name.c_str() + at + 1, &end, 10);
      if (end != out.name.c_str() + at + 1 && *end == '\0' && nth > 0) {
        out.nth = nth;
        out.name.resize(at);
      }
    }
    return out;
  }();
  return a;
}

}  // namespace

void reach_breakpoint(std::string_view name) {
  Armed& a = armed();
  if (a.name.empty() || name != a.name || ++a.hits != a.nth) return;
  const std::string line = fmt::format("dsys: stopping at breakpoint {} (DSYS_BREAKPOINT)\n", name);
  // One write(2), unbuffered, then out at once.
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, line.data(), line.size());
  ::_exit(kBreakpointExitStatus);
}

}  // namespace dsys::net
