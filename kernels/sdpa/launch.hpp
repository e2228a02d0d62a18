// kernels/sdpa/launch.hpp — launchers of the fused scaled dot-product attention (ser/nn/attention.hpp):
// flash-style forward (online softmax, writes O and lse) and a deterministic backward that
// recomputes P from lse (one kernel for dK, dV per key tile, one for dQ per query tile, no atomics).
// Float, device pointers, asynchronous on ctx.stream, every launch checked. head_dim <= 128.
//
// CPU twin: ser::nn::sdpa_forward_cpu / sdpa_backward_cpu (cpu.cpp).
// Tests: tests/test_nn_attention_cuda.cpp. Host-only declarations without CUDA types: the dispatch
// (dispatch.cpp) includes it in every build, and kernels/no_cuda_launchers.cpp stands in for cuda.cu
// in a build without CUDA.
#pragma once
#include <cstddef>

#include "ser/nn/attention.hpp"
#include "ser/nn/exec.hpp"

namespace ser::cuda {

// Largest head_dim the kernels take.
constexpr int kSdpaMaxHeadDim = 128;

// Device scratch of the backward: the row dots D = rowsum(dO ∘ O), (N, heads, T) floats, rounded up
// to 256 bytes. The forward needs none.
std::size_t sdpa_workspace_bytes(const nn::SdpaShape& s);

// q, k, v, o (N, T, heads, head_dim); lse (N, heads, T); lengths (N) on the device or nullptr.
// Throws ser::Error for head_dim > 128, or N / heads above 65535 (grid limits).
void launch_sdpa_forward(const nn::ExecContext& ctx, const nn::SdpaShape& s, const float* q, const float* k,
                         const float* v, const int* lengths, float* o, float* lse);

// dq, dk, dv (N, T, heads, head_dim) overwritten. `workspace`: sdpa_workspace_bytes(s) bytes of
// device memory, 4-byte aligned.
void launch_sdpa_backward(const nn::ExecContext& ctx, const nn::SdpaShape& s, const float* q, const float* k,
                          const float* v, const float* o, const float* lse, const float* dout, const int* lengths,
                          float* dq, float* dk, float* dv, void* workspace);

}  // namespace ser::cuda
