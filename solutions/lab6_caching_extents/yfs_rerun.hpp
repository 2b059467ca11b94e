// lab 6: the node that the tests of labs 2, 3 and 4 run over when lab 6 compiles them again
// (labs.json: lab 6's "rerun", and "rerun_node" names this header, which those tests include as
// DSYS_RERUN_NODE): yours, with its cache, over lab 5's caching lock server. (Given.)
#pragma once

#include "caching_lock_server.hpp"
#include "lab6_node.hpp"

namespace dsys::lab6 {

struct Rerun {
  using Node = lab6::Node;
  using LockServer = lab5::CachingLockServer;
};

}  // namespace dsys::lab6

// The names the rerun tests use, whichever lab runs them.
namespace dsys::rerun {

using Node = lab6::Rerun::Node;
using LockServer = lab6::Rerun::LockServer;

}  // namespace dsys::rerun
