// kernels/linear/dispatch.cpp — dispatch of the fully connected layer (ser/nn/linear.hpp): the CPU twin
// (cpu.cpp, OpenBLAS) on Device::cpu, cuBLAS plus two small kernels (launch.hpp, cuda.cu) on
// Device::cuda. The shape is checked here once for the GPU. Both kernel paths use cuBLAS (there is no hand-written GEMM for this layer).
#include <climits>
#include <cstdint>
#include <string>

#include "linear/launch.hpp"
#include "linear/shape.hpp"
#include "ser/error.hpp"
#include "ser/nn/linear.hpp"
#include "ser/nn/op_timer.hpp"

namespace ser::nn {

void linear_check_shape(const LinearShape& s, const char* who) {
  const auto fail = [&](const std::string& why) {
    throw Error(std::string(who) + ": bad linear shape (M " + std::to_string(s.m) + ", in " + std::to_string(s.in) +
                ", out " + std::to_string(s.out) + "): " + why);
  };
  if (s.m < 0) fail("M must be >= 0");
  if (s.in < 1 || s.out < 1) fail("in and out must be >= 1");
  if (s.m > INT_MAX) fail("M is 2^31 or more (BLAS dimensions are 32-bit)");
}

void linear_forward(const ExecContext& ctx, const LinearShape& s, const float* x, const float* w, const float* b,
                    float* y) {
  const OpTimer timed(ctx, "linear_forward");
  if (ctx.device == Device::cpu) return linear_forward_cpu<float>(s, x, w, b, y);
  linear_check_shape(s, "linear_forward");
  cuda::launch_linear_forward(ctx, s, x, w, b, y);
}

void linear_backward(const ExecContext& ctx, const LinearShape& s, const float* x, const float* w, const float* dy,
                     float* dx, float* dw, float* db) {
  const OpTimer timed(ctx, "linear_backward");
  if (ctx.device == Device::cpu) return linear_backward_cpu<float>(s, x, w, dy, dx, dw, db);
  linear_check_shape(s, "linear_backward");
  cuda::launch_linear_backward(ctx, s, x, w, dy, dx, dw, db);
}

}  // namespace ser::nn
