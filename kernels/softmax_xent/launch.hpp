// kernels/softmax_xent/launch.hpp — the softmax cross-entropy fused with its gradient on the GPU
// (ser/nn/loss.hpp), as the dispatch (dispatch.cpp) calls it. Float, device pointers (labels and
// class_weights too), on ctx.stream. Unlike the
// other launchers this one synchronises the stream: it returns the loss. A label outside [0, K) is
// flagged by the kernel and thrown here as ser::Error naming the first such row and its label (then
// dlogits and probs are not written). Shapes are validated by the caller.
//
// CPU twin: cpu.cpp. Tests: tests/test_nn_loss_cuda.cpp. Host-only declarations without CUDA types:
// in a build without CUDA, kernels/no_cuda_launchers.cpp defines them.
#pragma once
#include <cstdint>

#include "ser/nn/exec.hpp"

namespace ser::cuda {

// logits (N, K), labels (N), class_weights (K) or nullptr; dlogits (N, K) and probs (N, K) overwritten
// unless nullptr; label_smoothing in [0, 1), mix_labels (N, device) or nullptr and mix_lambda in
// [0, 1] as in ser/nn/loss.hpp (XentTargets). n = 0 returns 0 without touching the GPU.
double launch_softmax_xent(const nn::ExecContext& ctx, int n, int k, const float* logits, const std::int32_t* labels,
                           const float* class_weights, float* dlogits, float* probs, float label_smoothing,
                           const std::int32_t* mix_labels, float mix_lambda);

}  // namespace ser::cuda
