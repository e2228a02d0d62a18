// kernels/elementwise/dispatch.cpp — dispatch of ReLU, dropout, time masking, residual add and
// accumulation (ser/nn/elementwise.hpp): the CPU twins (cpu.cpp) or the CUDA kernels (launch.hpp,
// cuda.cu) by ctx.device. The arguments are checked here once (shape.hpp).
#include <cstdint>

#include "elementwise/launch.hpp"
#include "elementwise/shape.hpp"
#include "ser/error.hpp"
#include "ser/nn/elementwise.hpp"
#include "ser/nn/op_timer.hpp"

namespace ser::nn {

void relu_forward(const ExecContext& ctx, std::int64_t count, const float* x, float* y) {
  const OpTimer timed(ctx, "relu_forward");
  check_count("relu_forward", count);
  if (ctx.device == Device::cpu) return relu_forward_cpu<float>(count, x, y);
  cuda::launch_relu_forward(ctx, count, x, y);
}

void relu_backward(const ExecContext& ctx, std::int64_t count, const float* y, const float* dy, float* dx) {
  const OpTimer timed(ctx, "relu_backward");
  check_count("relu_backward", count);
  if (ctx.device == Device::cpu) return relu_backward_cpu<float>(count, y, dy, dx);
  cuda::launch_relu_backward(ctx, count, y, dy, dx);
}

void dropout_forward(const ExecContext& ctx, std::int64_t count, float p, std::uint64_t seed, const float* x,
                     float* y, std::uint64_t first) {
  const OpTimer timed(ctx, "dropout_forward");
  check_count("dropout_forward", count);
  dropout_check_p("dropout_forward", p);
  if (ctx.device == Device::cpu) return dropout_forward_cpu<float>(count, p, seed, x, y, first);
  if (first != 0) throw Error("dropout_forward: a counter offset (data-parallel slices) is CPU only");
  cuda::launch_dropout(ctx, count, p, seed, x, y);
}

void dropout_backward(const ExecContext& ctx, std::int64_t count, float p, std::uint64_t seed, const float* dy,
                      float* dx, std::uint64_t first) {
  const OpTimer timed(ctx, "dropout_backward");
  check_count("dropout_backward", count);
  dropout_check_p("dropout_backward", p);
  if (ctx.device == Device::cpu) return dropout_backward_cpu<float>(count, p, seed, dy, dx, first);
  if (first != 0) throw Error("dropout_backward: a counter offset (data-parallel slices) is CPU only");
  cuda::launch_dropout(ctx, count, p, seed, dy, dx);  // same mask: recomputed from (seed, i)
}

void time_mask(const ExecContext& ctx, int n, int c, int t, int f, const int* lengths, float* x) {
  const OpTimer timed(ctx, "time_mask");
  time_mask_check(n, c, t, f);
  if (ctx.device == Device::cpu) return time_mask_cpu<float>(n, c, t, f, lengths, x);
  cuda::launch_time_mask(ctx, n, c, t, f, lengths, x);
}

void add(const ExecContext& ctx, std::int64_t count, const float* a, const float* b, float* y) {
  const OpTimer timed(ctx, "add");
  check_count("add", count);
  if (ctx.device == Device::cpu) return add_cpu<float>(count, a, b, y);
  cuda::launch_add(ctx, count, a, b, y);
}

void accumulate(const ExecContext& ctx, std::int64_t count, const float* x, float* y) {
  const OpTimer timed(ctx, "accumulate");
  check_count("accumulate", count);
  if (ctx.device == Device::cpu) return accumulate_cpu<float>(count, x, y);
  cuda::launch_accumulate(ctx, count, x, y);
}

}  // namespace ser::nn
