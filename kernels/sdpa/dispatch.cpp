// kernels/sdpa/dispatch.cpp — dispatch of scaled dot-product attention (ser/nn/attention.hpp): the
// CPU twin (cpu.cpp) or the fused CUDA kernels (launch.hpp, cuda.cu) by ctx.device. The kernel path
// does not matter: there is no vendor attention path.
#include <cstddef>

#include "sdpa/launch.hpp"
#include "sdpa/shape.hpp"
#include "ser/nn/attention.hpp"
#include "ser/nn/op_timer.hpp"

namespace ser::nn {

std::size_t sdpa_workspace_bytes(const ExecContext& ctx, const SdpaShape& s) {
  sdpa_check_shape(s, "sdpa_workspace_bytes");
  if (ctx.device == Device::cpu) return 0;  // the twin keeps its own grow-only scratch
  return cuda::sdpa_workspace_bytes(s);
}

void sdpa_forward(const ExecContext& ctx, const SdpaShape& s, const float* q, const float* k, const float* v,
                  const int* lengths, float* o, float* lse, void* /*workspace: the forward needs none*/) {
  const OpTimer timed(ctx, "sdpa_forward");
  sdpa_check_shape(s, "sdpa_forward");
  if (ctx.device == Device::cpu) return sdpa_forward_cpu<float>(s, q, k, v, lengths, o, lse);
  cuda::launch_sdpa_forward(ctx, s, q, k, v, lengths, o, lse);
}

void sdpa_backward(const ExecContext& ctx, const SdpaShape& s, const float* q, const float* k, const float* v,
                   const float* o, const float* lse, const float* dout, const int* lengths, float* dq, float* dk,
                   float* dv, void* workspace) {
  const OpTimer timed(ctx, "sdpa_backward");
  sdpa_check_shape(s, "sdpa_backward");
  if (ctx.device == Device::cpu) return sdpa_backward_cpu<float>(s, q, k, v, o, lse, dout, lengths, dq, dk, dv);
  cuda::launch_sdpa_backward(ctx, s, q, k, v, o, lse, dout, lengths, dq, dk, dv, workspace);
}

}  // namespace ser::nn
