// kernels/deltas/launch.hpp — launcher of the time deltas (ser/nn/deltas.hpp), as the dispatch
// (dispatch.cpp) calls it: x (N, 1, T, F) -> y (N, 1 + order, T, F) with Δ and ΔΔ along time. Float,
// device pointers, lengths (N) on the device (nullptr = every utterance T long), asynchronous on
// ctx.stream, every launch checked; an empty shape launches nothing. The dispatch has checked the
// arguments (shape.hpp).
//
// CPU twin: cpu.cpp. Tests: tests/test_nn_deltas_cuda.cpp. Host-only declarations without CUDA
// types: in a build without CUDA, kernels/no_cuda_launchers.cpp defines them.
#pragma once
#include "ser/nn/exec.hpp"

namespace ser::cuda {

void launch_time_deltas(const nn::ExecContext& ctx, int n, int t, int f, int order, const int* lengths,
                        const float* x, float* y);

}  // namespace ser::cuda
