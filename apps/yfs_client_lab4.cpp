// yfs_client MOUNTPOINT EXTENT_PORT LOCK_PORT: lab 4's file system (your DirClient inside your
// LockingFs, locking with your lab 1 lock client) on FUSE. See dsys/fs/yfs_client_main.hpp.
#include "lab4_node.hpp"
#include "main/yfs_client_main.hpp"

int main(int argc, char** argv) {
  return dsys::apps::yfs_client_main<dsys::lab4::Node>(argc, argv);
}
