// Dispatch of the layout ops (ser/nn/elementwise.hpp): map <-> tokens and feature concatenation, on
// the CPU twin (layout_cpu.cpp) or the CUDA kernels (kernels/layout.cu) by ctx.device.
#include <initializer_list>
#include <string>

#include "nn/ops/dispatch.hpp"
#include "ser/error.hpp"
#include "ser/nn/elementwise.hpp"

#ifdef SER_WITH_CUDA
#include "layout.cuh"
#endif

namespace ser::nn {

namespace {


void check_nonnegative(const char* op, std::initializer_list<int> dims) {
  for (const int d : dims)
    if (d < 0) throw Error(std::string(op) + ": negative dimension " + std::to_string(d));
}

}  // namespace

void map_to_tokens(const ExecContext& ctx, int n, int c, int t, int f, const float* map, float* tokens) {
  const OpTimer timed(ctx, "map_to_tokens");
  check_nonnegative("map_to_tokens", {n, c, t, f});
  if (ctx.device == Device::cpu) return map_to_tokens_cpu<float>(n, c, t, f, map, tokens);
#ifdef SER_WITH_CUDA
  cuda::launch_map_to_tokens(n, c, t, f, map, tokens, stream_of(ctx));
#else
  no_cuda("map_to_tokens");
#endif
}

void tokens_to_map(const ExecContext& ctx, int n, int c, int t, int f, const float* tokens, float* map) {
  const OpTimer timed(ctx, "tokens_to_map");
  check_nonnegative("tokens_to_map", {n, c, t, f});
  if (ctx.device == Device::cpu) return tokens_to_map_cpu<float>(n, c, t, f, tokens, map);
#ifdef SER_WITH_CUDA
  cuda::launch_tokens_to_map(n, c, t, f, tokens, map, stream_of(ctx));
#else
  no_cuda("tokens_to_map");
#endif
}

void concat(const ExecContext& ctx, int n, int da, int db, const float* a, const float* b, float* y) {
  const OpTimer timed(ctx, "concat");
  check_nonnegative("concat", {n, da, db});
  if (ctx.device == Device::cpu) return concat_cpu<float>(n, da, db, a, b, y);
#ifdef SER_WITH_CUDA
  cuda::launch_concat(n, da, db, a, b, y, stream_of(ctx));
#else
  no_cuda("concat");
#endif
}

void concat_backward(const ExecContext& ctx, int n, int da, int db, const float* dy, float* d_a, float* d_b) {
  const OpTimer timed(ctx, "concat_backward");
  check_nonnegative("concat_backward", {n, da, db});
  if (ctx.device == Device::cpu) return concat_backward_cpu<float>(n, da, db, dy, d_a, d_b);
#ifdef SER_WITH_CUDA
  cuda::launch_concat_backward(n, da, db, dy, d_a, d_b, stream_of(ctx));
#else
  no_cuda("concat_backward");
#endif
}

}  // namespace ser::nn
