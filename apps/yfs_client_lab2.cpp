// yfs_client MOUNTPOINT EXTENT_PORT LOCK_PORT: lab 2's file system (your YfsClient) on FUSE.
// See dsys/fs/yfs_client_main.hpp for what it does.
#include "main/yfs_client_main.hpp"
#include "yfs_client.hpp"

int main(int argc, char** argv) {
  return dsys::apps::yfs_client_main<dsys::fs::ClientNode<dsys::lab2::YfsClient>>(argc, argv);
}
