// ser/host_device.hpp — the one spelling of "compiled for host and device" (SER_HD), and the rules
// the CPU twins and the CUDA kernels share through it, so that both read them from one place.
#pragma once

#ifdef __CUDACC__
#define SER_HD __host__ __device__ __forceinline__
#else
#define SER_HD inline
#endif

namespace ser::nn {

// Valid time steps of sequence i of a batch, the masking rule of every op that takes `lengths`:
// lengths[i] clamped to [0, t]; all t when lengths is nullptr.
SER_HD int valid_length(const int* lengths, int i, int t) {
  if (!lengths) return t;
  const int len = lengths[i];
  return len < 0 ? 0 : (len > t ? t : len);
}

}  // namespace ser::nn
