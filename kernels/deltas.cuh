// kernels/deltas.cuh — launcher of the time deltas (ser/nn/deltas.hpp): x (N, 1, T, F) ->
// y (N, 1 + order, T, F) with Δ and ΔΔ along time. Float, device pointers, asynchronous on
// `stream`, every launch checked; an empty shape launches nothing.
//
// CPU twin: src/nn/ops/deltas_cpu.cpp. Tests: tests/test_nn_deltas_cuda.cpp.
// Host-only declarations, so C++ files may include it.
#pragma once
#include <cuda_runtime.h>

namespace ser::cuda {

// order 1 or 2 (checked by the caller); lengths (N) on the device, nullptr = every utterance T long.
void launch_time_deltas(int n, int t, int f, int order, const int* lengths, const float* x, float* y,
                        cudaStream_t stream);

}  // namespace ser::cuda
