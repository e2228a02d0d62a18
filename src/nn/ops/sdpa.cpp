// src/nn/ops/sdpa.cpp — dispatch of scaled dot-product attention (ser/nn/attention.hpp): the CPU
// twin (sdpa_cpu.cpp) or the fused CUDA kernels (kernels/sdpa.cu) by ctx.device. The kernel path
// does not matter: there is no vendor attention path.
#include <cstddef>
#include <string>

#include "nn/ops/attention_shape.hpp"
#include "nn/ops/dispatch.hpp"
#include "ser/error.hpp"
#include "ser/nn/attention.hpp"

#ifdef SER_WITH_CUDA
#include "sdpa.cuh"
#endif

namespace ser::nn {

std::size_t sdpa_workspace_bytes(const ExecContext& ctx, const SdpaShape& s) {
  sdpa_check_shape(s, "sdpa_workspace_bytes");
  if (ctx.device == Device::cpu) return 0;  // the twin keeps its own grow-only scratch
#ifdef SER_WITH_CUDA
  return cuda::sdpa_workspace_bytes(s);
#else
  no_cuda("sdpa_workspace_bytes");
#endif
}

void sdpa_forward(const ExecContext& ctx, const SdpaShape& s, const float* q, const float* k, const float* v,
                  const int* lengths, float* o, float* lse, void* workspace) {
  const OpTimer timed(ctx, "sdpa_forward");
  sdpa_check_shape(s, "sdpa_forward");
  if (ctx.device == Device::cpu) return sdpa_forward_cpu<float>(s, q, k, v, lengths, o, lse);
#ifdef SER_WITH_CUDA
  (void)workspace;  // the forward needs none
  cuda::launch_sdpa_forward(s, q, k, v, lengths, o, lse, stream_of(ctx));
#else
  (void)workspace;
  no_cuda("sdpa_forward");
#endif
}

void sdpa_backward(const ExecContext& ctx, const SdpaShape& s, const float* q, const float* k, const float* v,
                   const float* o, const float* lse, const float* dout, const int* lengths, float* dq, float* dk,
                   float* dv, void* workspace) {
  const OpTimer timed(ctx, "sdpa_backward");
  sdpa_check_shape(s, "sdpa_backward");
  if (ctx.device == Device::cpu) return sdpa_backward_cpu<float>(s, q, k, v, o, lse, dout, lengths, dq, dk, dv);
#ifdef SER_WITH_CUDA
  cuda::launch_sdpa_backward(s, q, k, v, o, lse, dout, lengths, dq, dk, dv, workspace, stream_of(ctx));
#else
  (void)workspace;
  no_cuda("sdpa_backward");
#endif
}

}  // namespace ser::nn
