// yfs_client MOUNTPOINT EXTENT_PORT LOCK_PORT: lab 3's file system (your RwClient) on FUSE.
// See dsys/fs/yfs_client_main.hpp for what it does.
#include "main/yfs_client_main.hpp"
#include "rw_client.hpp"

int main(int argc, char** argv) {
  return dsys::apps::yfs_client_main<dsys::fs::ClientNode<dsys::lab3::RwClient>>(argc, argv);
}
