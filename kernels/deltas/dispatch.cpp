// kernels/deltas/dispatch.cpp — dispatch of the time deltas (ser/nn/deltas.hpp): the CPU twin
// (cpu.cpp) or the CUDA kernel (launch.hpp, cuda.cu) by ctx.device. The arguments are checked here
// once (shape.hpp).
#include "deltas/launch.hpp"
#include "deltas/shape.hpp"
#include "ser/nn/deltas.hpp"
#include "ser/nn/op_timer.hpp"

namespace ser::nn {

void time_deltas(const ExecContext& ctx, int n, int t, int f, int order, const int* lengths, const float* x, float* y) {
  const OpTimer timed(ctx, "time_deltas");
  time_deltas_check(n, t, f, order);
  if (ctx.device == Device::cpu) return time_deltas_cpu<float>(n, t, f, order, lengths, x, y);
  cuda::launch_time_deltas(ctx, n, t, f, order, lengths, x, y);
}

}  // namespace ser::nn
