// dsys/core/error.hpp: the exceptions dsys throws. They signal bugs and unfinished work, never
// network faults (those are values: see rpc::Error).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace dsys {

// Thrown by a lab stub that the student has not written yet. The simulated world and the grader
// report it as "unimplemented: <what>".
class Unimplemented : public std::logic_error {
 public:
  explicit Unimplemented(std::string_view what)
      : std::logic_error("unimplemented: " + std::string(what)) {}
};

// Marks a stub: `dsys::unimplemented("LockServer::acquire");` fails loudly at run time.
[[noreturn]] inline void unimplemented(std::string_view what) {
  throw Unimplemented(what);
}

// A violated precondition or a malformed configuration given by the caller.
class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace dsys
