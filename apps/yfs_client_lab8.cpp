// yfs_client MOUNTPOINT EXTENT_PORT LOCK_PORT: lab 5's file system on FUSE, locking through lab
// 5's caching lock client and your RSM client: LOCK_PORT is any replica of the replicated lock
// service (the master's will do). See dsys/fs/yfs_client_main.hpp.
#include "lab8_node.hpp"
#include "main/yfs_client_main.hpp"

int main(int argc, char** argv) {
  return dsys::apps::yfs_client_main<dsys::lab8::ClientNode>(argc, argv);
}
