// src/simt/shim/cuda_profiler_api.h — profiler window calls; nothing to profile in the emulator.
#pragma once
#include <cuda_runtime.h>

inline cudaError_t cudaProfilerStart() { return cudaSuccess; }
inline cudaError_t cudaProfilerStop() { return cudaSuccess; }
