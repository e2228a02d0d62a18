// Dispatch of ReLU, dropout, time masking, residual add and accumulation (ser/nn/elementwise.hpp):
// the CPU twin (elementwise_cpu.cpp) or the CUDA kernels (kernels/elementwise.cu) by ctx.device.
#include "ser/nn/elementwise.hpp"

#include <cstdint>
#include <string>

#include "nn/ops/dispatch.hpp"
#include "ser/error.hpp"

#ifdef SER_WITH_CUDA
#include "elementwise.cuh"
#endif

namespace ser::nn {

namespace {

void check_p(const char* op, float p) {
  if (!(p >= 0.0f && p <= 1.0f)) throw Error(std::string(op) + ": p must be in [0, 1], found " + std::to_string(p));
}

void check_dims(const char* op, int n, int c, int t, int f) {
  if (n < 0 || c < 0 || t < 0 || f < 0)
    throw Error(std::string(op) + ": negative dimension in (N, C, T, F) = (" + std::to_string(n) + ", " +
                std::to_string(c) + ", " + std::to_string(t) + ", " + std::to_string(f) + ")");
}

}  // namespace

void relu_forward(const ExecContext& ctx, std::int64_t count, const float* x, float* y) {
  const OpTimer timed(ctx, "relu_forward");
  check_count("relu_forward", count);
  if (ctx.device == Device::cpu) return relu_forward_cpu<float>(count, x, y);
#ifdef SER_WITH_CUDA
  cuda::launch_relu_forward(count, x, y, stream_of(ctx));
#else
  no_cuda("relu_forward");
#endif
}

void relu_backward(const ExecContext& ctx, std::int64_t count, const float* y, const float* dy, float* dx) {
  const OpTimer timed(ctx, "relu_backward");
  check_count("relu_backward", count);
  if (ctx.device == Device::cpu) return relu_backward_cpu<float>(count, y, dy, dx);
#ifdef SER_WITH_CUDA
  cuda::launch_relu_backward(count, y, dy, dx, stream_of(ctx));
#else
  no_cuda("relu_backward");
#endif
}

void dropout_forward(const ExecContext& ctx, std::int64_t count, float p, std::uint64_t seed, const float* x,
                     float* y, std::uint64_t first) {
  const OpTimer timed(ctx, "dropout_forward");
  check_count("dropout_forward", count);
  check_p("dropout_forward", p);
  if (ctx.device == Device::cpu) return dropout_forward_cpu<float>(count, p, seed, x, y, first);
  if (first != 0) throw Error("dropout_forward: a counter offset (data-parallel slices) is CPU only");
#ifdef SER_WITH_CUDA
  cuda::launch_dropout(count, p, seed, x, y, stream_of(ctx));
#else
  no_cuda("dropout_forward");
#endif
}

void dropout_backward(const ExecContext& ctx, std::int64_t count, float p, std::uint64_t seed, const float* dy,
                      float* dx, std::uint64_t first) {
  const OpTimer timed(ctx, "dropout_backward");
  check_count("dropout_backward", count);
  check_p("dropout_backward", p);
  if (ctx.device == Device::cpu) return dropout_backward_cpu<float>(count, p, seed, dy, dx, first);
  if (first != 0) throw Error("dropout_backward: a counter offset (data-parallel slices) is CPU only");
#ifdef SER_WITH_CUDA
  cuda::launch_dropout(count, p, seed, dy, dx, stream_of(ctx));  // same mask: recomputed from (seed, i)
#else
  no_cuda("dropout_backward");
#endif
}

void time_mask(const ExecContext& ctx, int n, int c, int t, int f, const int* lengths, float* x) {
  const OpTimer timed(ctx, "time_mask");
  check_dims("time_mask", n, c, t, f);
  if (ctx.device == Device::cpu) return time_mask_cpu<float>(n, c, t, f, lengths, x);
#ifdef SER_WITH_CUDA
  cuda::launch_time_mask(n, c, t, f, lengths, x, stream_of(ctx));
#else
  no_cuda("time_mask");
#endif
}

void add(const ExecContext& ctx, std::int64_t count, const float* a, const float* b, float* y) {
  const OpTimer timed(ctx, "add");
  check_count("add", count);
  if (ctx.device == Device::cpu) return add_cpu<float>(count, a, b, y);
#ifdef SER_WITH_CUDA
  cuda::launch_add(count, a, b, y, stream_of(ctx));
#else
  no_cuda("add");
#endif
}

void accumulate(const ExecContext& ctx, std::int64_t count, const float* x, float* y) {
  const OpTimer timed(ctx, "accumulate");
  check_count("accumulate", count);
  if (ctx.device == Device::cpu) return accumulate_cpu<float>(count, x, y);
#ifdef SER_WITH_CUDA
  cuda::launch_accumulate(count, x, y, stream_of(ctx));
#else
  no_cuda("accumulate");
#endif
}

}  // namespace ser::nn
