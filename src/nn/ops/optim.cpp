// Dispatch of the optimizer ops (ser/nn/optim_ops.hpp): the CPU twins (optim_cpu.cpp) or the CUDA
// kernels (kernels/optim.cu) by ctx.device.
#include <algorithm>
#include <cstdint>
#include <string>

#include "nn/ops/dispatch.hpp"
#include "ser/error.hpp"
#include "ser/nn/optim_ops.hpp"

#ifdef SER_WITH_CUDA
#include "optim.cuh"
#endif

namespace ser::nn {

void adam_update(const ExecContext& ctx, std::int64_t count, const AdamStep& h, float* params, const float* grads,
                 float* m, float* v, const std::uint8_t* decay_mask) {
  const OpTimer timed(ctx, "adam_update");
  check_count("adam_update", count);
  if (ctx.device == Device::cpu) return adam_update_cpu<float>(count, h, params, grads, m, v, decay_mask);
#ifdef SER_WITH_CUDA
  cuda::launch_adam_update(count, h, params, grads, m, v, decay_mask, stream_of(ctx));
#else
  no_cuda("adam_update");
#endif
}

std::size_t sum_squares_workspace_bytes(const ExecContext& ctx, std::int64_t count) {
  check_count("sum_squares", count);
  if (ctx.device == Device::cpu) return 0;
#ifdef SER_WITH_CUDA
  return cuda::sum_squares_workspace_bytes(count);
#else
  no_cuda("sum_squares");
#endif
}

double sum_squares(const ExecContext& ctx, std::int64_t count, const float* g, void* workspace) {
  const OpTimer timed(ctx, "sum_squares");
  check_count("sum_squares", count);
  if (ctx.device == Device::cpu) return sum_squares_cpu<float>(count, g);
#ifdef SER_WITH_CUDA
  return cuda::sum_squares_sync(count, g, workspace, stream_of(ctx));
#else
  no_cuda("sum_squares");
#endif
}

void scale(const ExecContext& ctx, std::int64_t count, float factor, float* g) {
  const OpTimer timed(ctx, "scale");
  check_count("scale", count);
  if (ctx.device == Device::cpu) return scale_cpu<float>(count, factor, g);
#ifdef SER_WITH_CUDA
  cuda::launch_scale(count, factor, g, stream_of(ctx));
#else
  no_cuda("scale");
#endif
}

void zero(const ExecContext& ctx, std::int64_t count, float* x) {
  const OpTimer timed(ctx, "zero");
  check_count("zero", count);
  if (ctx.device == Device::cpu) {
    std::fill(x, x + count, 0.0f);
    return;
  }
#ifdef SER_WITH_CUDA
  cuda::launch_zero(count, x, stream_of(ctx));
#else
  no_cuda("zero");
#endif
}

}  // namespace ser::nn
