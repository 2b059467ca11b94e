// yfs_demo: being written (./dsys demo).
#include <cstdio>
int main() {
  std::puts("yfs_demo: not written yet");
  return 1;
}
