// kernels/optim/dispatch.cpp — dispatch of the optimizer ops (ser/nn/optim_ops.hpp): the CPU twins
// (cpu.cpp) or the CUDA kernels (launch.hpp, cuda.cu) by ctx.device. Counts are checked here once
// (kernels/flat_shape.hpp); the hyperparameters by adam::constants (adam_math.hpp), in both twins.
#include <algorithm>
#include <cstdint>

#include "flat_shape.hpp"
#include "optim/launch.hpp"
#include "ser/nn/op_timer.hpp"
#include "ser/nn/optim_ops.hpp"

namespace ser::nn {

void adam_update(const ExecContext& ctx, std::int64_t count, const AdamStep& h, float* params, const float* grads,
                 float* m, float* v, const std::uint8_t* decay_mask) {
  const OpTimer timed(ctx, "adam_update");
  check_count("adam_update", count);
  if (ctx.device == Device::cpu) return adam_update_cpu<float>(count, h, params, grads, m, v, decay_mask);
  cuda::launch_adam_update(ctx, count, h, params, grads, m, v, decay_mask);
}

std::size_t sum_squares_workspace_bytes(const ExecContext& ctx, std::int64_t count) {
  check_count("sum_squares", count);
  if (ctx.device == Device::cpu) return 0;
  return cuda::sum_squares_workspace_bytes(count);
}

double sum_squares(const ExecContext& ctx, std::int64_t count, const float* g, void* workspace) {
  const OpTimer timed(ctx, "sum_squares");
  check_count("sum_squares", count);
  if (ctx.device == Device::cpu) return sum_squares_cpu<float>(count, g);
  return cuda::sum_squares_sync(ctx, count, g, workspace);
}

void scale(const ExecContext& ctx, std::int64_t count, float factor, float* g) {
  const OpTimer timed(ctx, "scale");
  check_count("scale", count);
  if (ctx.device == Device::cpu) return scale_cpu<float>(count, factor, g);
  cuda::launch_scale(ctx, count, factor, g);
}

void zero(const ExecContext& ctx, std::int64_t count, float* x) {
  const OpTimer timed(ctx, "zero");
  check_count("zero", count);
  if (ctx.device == Device::cpu) {
    std::fill(x, x + count, 0.0f);
    return;
  }
  cuda::launch_zero(ctx, count, x);
}

}  // namespace ser::nn
