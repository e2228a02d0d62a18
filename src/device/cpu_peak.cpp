// The host CPU's nominal FP32 peak (ser/device.hpp), for reading benchmark GFLOP/s against it.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "ser/device.hpp"

namespace ser {

namespace {

double cpu_mhz() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  double mhz = 0;
  while (std::getline(in, line))
    if (line.rfind("cpu MHz", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) mhz = std::max(mhz, std::stod(line.substr(colon + 1)));
    }
  return mhz;
}

}  // namespace

CpuPeak cpu_fma_peak() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const double mhz = cpu_mhz();
  int lanes = 4, units = 2, per_lane = 1;  // SSE: one multiply unit + one add unit, 4 lanes
  const char* isa = "SSE (separate multiply and add)";
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("fma")) {
    per_lane = 2;  // one FMA = 2 FLOPs
    lanes = 8;
    isa = "AVX2 + FMA";
    if (__builtin_cpu_supports("avx512f")) {
      lanes = __builtin_cpu_is("amd") ? 8 : 16;
      isa = __builtin_cpu_is("amd") ? "AVX-512 on 256-bit units (AMD)" : "AVX-512";
    }
  }
#endif
  // Without FMA the two units are a multiplier and an adder: 2 FLOPs per lane per cycle in all.
  const double per_cycle = per_lane == 2 ? double(units) * lanes * 2 : double(lanes) * 2;
  CpuPeak p;
  p.flops_per_second = cores * mhz * 1e6 * per_cycle;
  char buf[200];
  std::snprintf(buf, sizeof buf, "%d cores x %.0f MHz x %.0f FLOP/cycle (%s, 2 units) = %.1f GFLOP/s", cores, mhz,
                per_cycle, isa, p.flops_per_second / 1e9);
  p.how = buf;
  return p;
}

}  // namespace ser
