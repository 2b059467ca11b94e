// yfs_client MOUNTPOINT EXTENT_PORT LOCK_PORT: lab 6's file system (your CoherentFs around lab 4's
// LockingFs and DirClient, reading and writing through your ExtentCache, locking through your
// caching lock client) on FUSE. On SIGTERM, SIGINT or an unmount it writes its cache back and
// gives its locks back before it exits (Node::finish). See dsys/fs/yfs_client_main.hpp.
#include "lab6_node.hpp"
#include "main/yfs_client_main.hpp"

int main(int argc, char** argv) {
  return dsys::apps::yfs_client_main<dsys::lab6::Node>(argc, argv);
}
