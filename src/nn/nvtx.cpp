// src/nn/nvtx.cpp — NVTX ranges and the profiler window.
#include "nn/nvtx.hpp"

#ifdef SER_WITH_CUDA
#include <cuda_profiler_api.h>
#include <nvtx3/nvToolsExt.h>
#endif

namespace ser::nn {

#ifdef SER_WITH_CUDA
NvtxRange::NvtxRange(const char* name) { nvtxRangePushA(name); }
NvtxRange::~NvtxRange() { nvtxRangePop(); }
void profiler_start() { cudaProfilerStart(); }
void profiler_stop() { cudaProfilerStop(); }
#else
NvtxRange::NvtxRange(const char*) {}
NvtxRange::~NvtxRange() = default;
void profiler_start() {}
void profiler_stop() {}
#endif

}  // namespace ser::nn
