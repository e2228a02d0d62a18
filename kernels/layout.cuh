// kernels/layout.cuh — launchers of the layout ops (ser/nn/elementwise.hpp): feature map
// (N, C, T, F) <-> token sequence (N, T, C*F), and concatenation of two (N, D) matrices along
// features with its backward. Float, device pointers, asynchronous on `stream`, launches checked;
// empty shapes launch nothing. Source and destination must not overlap.
//
// CPU twins: src/nn/ops/layout_cpu.cpp. Tests: tests/test_nn_elementwise_cuda.cpp.
// Host-only declarations, so C++ files may include it.
#pragma once
#include <cuda_runtime.h>

namespace ser::cuda {

// tokens[n, t, c*F + f] = map[n, c, t, f] and back.
void launch_map_to_tokens(int n, int c, int t, int f, const float* map, float* tokens, cudaStream_t stream);
void launch_tokens_to_map(int n, int c, int t, int f, const float* tokens, float* map, cudaStream_t stream);

// y (N, Da + Db) = [a (N, Da), b (N, Db)]; backward: d_a, d_b from dy (either may be nullptr).
void launch_concat(int n, int da, int db, const float* a, const float* b, float* y, cudaStream_t stream);
void launch_concat_backward(int n, int da, int db, const float* dy, float* d_a, float* d_b, cudaStream_t stream);

}  // namespace ser::cuda
