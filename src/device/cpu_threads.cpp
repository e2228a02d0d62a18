// src/device/cpu_threads.cpp — the process-wide CPU thread limit (ser/device.hpp).
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "ser/device.hpp"
#include "ser/error.hpp"

namespace ser {

namespace {
std::atomic<int> limit{0};  // 0: all cores
}  // namespace

void set_cpu_threads(int threads) {
  if (threads < 0) throw Error("--threads: expected 0 (all cores) or a positive count, found " + std::to_string(threads));
  limit = threads;
  openblas_set_num_threads(cpu_threads());  // the engine's GEMMs
}

int cpu_threads() {
  const int n = limit.load();
  return n > 0 ? n : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace ser
