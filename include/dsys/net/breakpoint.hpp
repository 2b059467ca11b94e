// dsys/net/breakpoint.hpp: crash points (core::Context::breakpoint) in a real process.
#pragma once

#include <string_view>

namespace dsys::net {

// The exit status of a process stopped at its breakpoint (a killed process would show 128 +
// its signal; this one is distinct so that a test can tell the two apart).
inline constexpr int kBreakpointExitStatus = 86;

// Node code reached the breakpoint `name`. When the environment says DSYS_BREAKPOINT=name (its
// first time) or DSYS_BREAKPOINT=name@N (its N-th time), prints one line to stderr,
// "dsys: stopping at breakpoint NAME (DSYS_BREAKPOINT)", and ends the process at once with
// _exit(kBreakpointExitStatus), as if it had been killed: no destructor runs, nothing else is
// flushed, and only what the node's storage had synced is sure to be on the disk. Otherwise it
// does nothing. Any thread (the count of hits is per process, without a lock: a node is
// single-threaded).
void reach_breakpoint(std::string_view name);

}  // namespace dsys::net
