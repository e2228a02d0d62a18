// kernels/maxpool2d/dispatch.cpp — dispatch of masked 2-D max-pooling (ser/nn/pool.hpp): the CPU twin
// (cpu.cpp) on Device::cpu, the CUDA kernels (launch.hpp, cuda.cu) on Device::cuda. The shape is
// checked here once for the GPU; the twin checks its own, as it is also called directly.
#include <climits>
#include <cstdint>
#include <string>

#include "maxpool2d/launch.hpp"
#include "maxpool2d/shape.hpp"
#include "ser/error.hpp"
#include "ser/nn/op_timer.hpp"
#include "ser/nn/pool.hpp"

namespace ser::nn {

void maxpool2d_check_shape(const Pool2dShape& s, const char* who) {
  const auto fail = [&](const std::string& why) {
    throw Error(std::string(who) + ": bad pooling shape (N " + std::to_string(s.n) + ", C " +
                std::to_string(s.c) + ", H " + std::to_string(s.h) + ", W " + std::to_string(s.w) +
                ", window " + std::to_string(s.kh) + "x" + std::to_string(s.kw) + ", stride " +
                std::to_string(s.sh) + "x" + std::to_string(s.sw) + "): " + why);
  };
  if (s.n < 1 || s.c < 1 || s.h < 1 || s.w < 1) fail("sizes must be >= 1");
  if (s.kh < 1 || s.kw < 1) fail("window sizes must be >= 1");
  if (s.sh < 1 || s.sw < 1) fail("strides must be >= 1");
  if (s.kh > s.h || s.kw > s.w) fail("window larger than the input (no padding)");
  if (static_cast<std::int64_t>(s.h) * s.w > INT_MAX) fail("an (H, W) plane has 2^31 elements or more");
}

void maxpool2d_forward(const ExecContext& ctx, const Pool2dShape& s, const float* x, const int* lengths_in,
                       float* y, std::int32_t* argmax) {
  const OpTimer timed(ctx, "maxpool2d_forward");
  if (ctx.device == Device::cpu) return maxpool2d_forward_cpu<float>(s, x, lengths_in, y, argmax);
  maxpool2d_check_shape(s, "maxpool2d_forward");
  cuda::launch_maxpool2d_forward(ctx, s, x, lengths_in, y, argmax);
}

void maxpool2d_backward(const ExecContext& ctx, const Pool2dShape& s, const float* dy,
                        const std::int32_t* argmax, float* dx) {
  const OpTimer timed(ctx, "maxpool2d_backward");
  if (ctx.device == Device::cpu) return maxpool2d_backward_cpu<float>(s, dy, argmax, dx);
  maxpool2d_check_shape(s, "maxpool2d_backward");
  cuda::launch_maxpool2d_backward(ctx, s, dy, argmax, dx);
}

}  // namespace ser::nn
