// yfs_client MOUNTPOINT EXTENT_PORT LOCK_PORT: lab 5's file system (your lab 4 DirClient and
// LockingFs, locking through your caching lock client) on FUSE. See dsys/fs/yfs_client_main.hpp.
#include "lab5_node.hpp"
#include "main/yfs_client_main.hpp"

int main(int argc, char** argv) {
  return dsys::apps::yfs_client_main<dsys::lab5::Node>(argc, argv);
}
