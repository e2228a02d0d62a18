// kernels/conv2d/dispatch.cpp — dispatch of 2-D convolution (ser/nn/conv.hpp): the CPU twin
// (cpu.cpp) on Device::cpu; on Device::cuda the launchers of launch.hpp, which pick the hand-written
// implicit-GEMM kernels or cuDNN by ctx.kernels. The shape is checked here once for the GPU; the
// twin checks its own, as it is also called directly.
#include <climits>
#include <cstdint>
#include <string>

#include "conv2d/launch.hpp"
#include "conv2d/shape.hpp"
#include "ser/error.hpp"
#include "ser/nn/conv.hpp"
#include "ser/nn/op_timer.hpp"

namespace ser::nn {

double Conv2dShape::flops_forward() const {
  return 2.0 * n * c_out * static_cast<double>(h_out()) * w_out() * c_in * kh * kw;
}

void conv2d_check_shape(const Conv2dShape& s, const char* who) {
  const auto fail = [&](const std::string& why) {
    throw Error(std::string(who) + ": bad convolution shape (N " + std::to_string(s.n) + ", C_in " +
                std::to_string(s.c_in) + ", H " + std::to_string(s.h) + ", W " + std::to_string(s.w) +
                ", C_out " + std::to_string(s.c_out) + ", kernel " + std::to_string(s.kh) + "x" +
                std::to_string(s.kw) + ", stride " + std::to_string(s.sh) + "x" + std::to_string(s.sw) +
                ", padding " + std::to_string(s.ph) + "x" + std::to_string(s.pw) + "): " + why);
  };
  if (s.n < 1 || s.c_in < 1 || s.h < 1 || s.w < 1 || s.c_out < 1) fail("sizes must be >= 1");
  if (s.kh < 1 || s.kw < 1) fail("kernel sizes must be >= 1");
  if (s.sh < 1 || s.sw < 1) fail("strides must be >= 1");
  if (s.ph < 0 || s.pw < 0) fail("padding must be >= 0");
  if (s.kh > s.h + 2 * s.ph || s.kw > s.w + 2 * s.pw) fail("kernel larger than the padded input");
  const auto too_big = [](std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d) {
    return a * b * c * d >= static_cast<std::int64_t>(INT_MAX);
  };
  if (too_big(s.n, s.c_in, s.h, s.w)) fail("input has 2^31 elements or more");
  if (too_big(s.n, s.c_out, s.h_out(), s.w_out())) fail("output has 2^31 elements or more");
  if (too_big(s.c_out, s.c_in, s.kh, s.kw)) fail("weight has 2^31 elements or more");
}

std::size_t conv2d_workspace_bytes(const ExecContext& ctx, const Conv2dShape& s) {
  conv2d_check_shape(s, "conv2d_workspace_bytes");
  if (ctx.device == Device::cpu) return 0;  // the twin keeps its own grow-only scratch
  return cuda::conv2d_workspace_bytes(ctx, s);
}

void conv2d_forward(const ExecContext& ctx, const Conv2dShape& s, const float* x, const float* w,
                    const float* b, float* y, void* workspace) {
  const OpTimer timed(ctx, "conv2d_forward");
  if (ctx.device == Device::cpu) return conv2d_forward_cpu<float>(s, x, w, b, y);
  conv2d_check_shape(s, "conv2d_forward");
  cuda::launch_conv2d_forward(ctx, s, x, w, b, y, workspace);
}

void conv2d_backward(const ExecContext& ctx, const Conv2dShape& s, const float* x, const float* w,
                     const float* dy, float* dx, float* dw, float* db, void* workspace) {
  const OpTimer timed(ctx, "conv2d_backward");
  if (ctx.device == Device::cpu) return conv2d_backward_cpu<float>(s, x, w, dy, dx, dw, db);
  conv2d_check_shape(s, "conv2d_backward");
  cuda::launch_conv2d_backward(ctx, s, x, w, dy, dx, dw, db, workspace);
}

}  // namespace ser::nn
