// Dispatch of the time deltas (ser/nn/deltas.hpp): the CPU twin (deltas_cpu.cpp) or the CUDA kernel
// (kernels/deltas.cu) by ctx.device.
#include "ser/nn/deltas.hpp"

#include <string>

#include "nn/ops/dispatch.hpp"
#include "ser/error.hpp"

#ifdef SER_WITH_CUDA
#include "deltas.cuh"
#endif

namespace ser::nn {

void time_deltas(const ExecContext& ctx, int n, int t, int f, int order, const int* lengths, const float* x, float* y) {
  const OpTimer timed(ctx, "time_deltas");
  if (n < 0 || t < 0 || f < 0)
    throw Error("time_deltas: negative dimension in (N, T, F) = (" + std::to_string(n) + ", " + std::to_string(t) +
                ", " + std::to_string(f) + ")");
  if (order < 1 || order > 2) throw Error("time_deltas: order must be 1 or 2, found " + std::to_string(order));
  if (ctx.device == Device::cpu) return time_deltas_cpu<float>(n, t, f, order, lengths, x, y);
#ifdef SER_WITH_CUDA
  cuda::launch_time_deltas(n, t, f, order, lengths, x, y, stream_of(ctx));
#else
  no_cuda("time_deltas");
#endif
}

}  // namespace ser::nn
