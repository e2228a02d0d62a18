// src/nn/nvtx.hpp — NVTX ranges for Nsight Systems (phases of a training step, each layer's forward
// and backward) and the CUDA profiler's capture window for `ser profile`. No-ops in a CPU build.
#pragma once
#include <string>

namespace ser::nn {

// Pushes an NVTX range on construction and pops it on destruction (NVTX v3, header-only: without a
// profiler attached each call is a cheap no-op).
class NvtxRange {
 public:
  explicit NvtxRange(const char* name);
  explicit NvtxRange(const std::string& name) : NvtxRange(name.c_str()) {}
  ~NvtxRange();
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

// cudaProfilerStart / cudaProfilerStop (nsys --capture-range=cudaProfilerApi, ncu --profile-from-start off).
void profiler_start();
void profiler_stop();

}  // namespace ser::nn
