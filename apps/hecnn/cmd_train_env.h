// libgomp reads OMP_WAIT_POLICY once, when it is loaded (before main). With the default
// (active spinning), libtorch's OpenMP threads stall each other whenever the machine has other
// work: measured here, cryptonets 10 epochs with 2 threads took 297 s with the default policy and
// 27 s with OMP_WAIT_POLICY=passive (load average about 5 on 2 cores). The training commands
// therefore re-execute themselves once with OMP_WAIT_POLICY=passive unless the user set it.
#pragma once

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

namespace hecnn::app {

inline void ensure_passive_omp_wait() {
  if (std::getenv("OMP_WAIT_POLICY")) return;
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (all.empty()) return;
  std::vector<std::string> args;
  for (std::size_t p = 0; p < all.size();) {
    std::size_t z = all.find('\0', p);
    if (z == std::string::npos) z = all.size();
    args.push_back(all.substr(p, z - p));
    p = z + 1;
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::setenv("OMP_WAIT_POLICY", "passive", 1);
  ::execv("/proc/self/exe", argv.data());  // returns only on failure: carry on with the default policy
}

}  // namespace hecnn::app
