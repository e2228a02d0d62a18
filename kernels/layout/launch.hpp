// kernels/layout/launch.hpp — launchers of the layout ops (ser/nn/elementwise.hpp), as the dispatch
// (dispatch.cpp) calls them: feature map (N, C, T, F) <-> token sequence (N, T, C*F), and
// concatenation of two (N, D) matrices along features with its backward. Float, device pointers,
// asynchronous on ctx.stream, launches checked; empty shapes launch nothing. Source and destination
// must not overlap. The dispatch has checked the dimensions (shape.hpp).
//
// CPU twins: cpu.cpp. Tests: tests/test_nn_elementwise_cuda.cpp. Host-only declarations without
// CUDA types: in a build without CUDA, kernels/no_cuda_launchers.cpp defines them.
#pragma once
#include "ser/nn/exec.hpp"

namespace ser::cuda {

// tokens[n, t, c*F + f] = map[n, c, t, f] and back.
void launch_map_to_tokens(const nn::ExecContext& ctx, int n, int c, int t, int f, const float* map, float* tokens);
void launch_tokens_to_map(const nn::ExecContext& ctx, int n, int c, int t, int f, const float* tokens, float* map);

// y (N, Da + Db) = [a (N, Da), b (N, Db)]; backward: d_a, d_b from dy (either may be nullptr).
void launch_concat(const nn::ExecContext& ctx, int n, int da, int db, const float* a, const float* b, float* y);
void launch_concat_backward(const nn::ExecContext& ctx, int n, int da, int db, const float* dy, float* d_a,
                            float* d_b);

}  // namespace ser::cuda
