// kernels/layout/dispatch.cpp — dispatch of the layout ops (ser/nn/elementwise.hpp): map <-> tokens
// and feature concatenation, on the CPU twins (cpu.cpp) or the CUDA kernels (launch.hpp, cuda.cu) by
// ctx.device. The dimensions are checked here once (shape.hpp).
#include "layout/launch.hpp"
#include "layout/shape.hpp"
#include "ser/nn/elementwise.hpp"
#include "ser/nn/op_timer.hpp"

namespace ser::nn {

void map_to_tokens(const ExecContext& ctx, int n, int c, int t, int f, const float* map, float* tokens) {
  const OpTimer timed(ctx, "map_to_tokens");
  layout_check_dims("map_to_tokens", {n, c, t, f});
  if (ctx.device == Device::cpu) return map_to_tokens_cpu<float>(n, c, t, f, map, tokens);
  cuda::launch_map_to_tokens(ctx, n, c, t, f, map, tokens);
}

void tokens_to_map(const ExecContext& ctx, int n, int c, int t, int f, const float* tokens, float* map) {
  const OpTimer timed(ctx, "tokens_to_map");
  layout_check_dims("tokens_to_map", {n, c, t, f});
  if (ctx.device == Device::cpu) return tokens_to_map_cpu<float>(n, c, t, f, tokens, map);
  cuda::launch_tokens_to_map(ctx, n, c, t, f, tokens, map);
}

void concat(const ExecContext& ctx, int n, int da, int db, const float* a, const float* b, float* y) {
  const OpTimer timed(ctx, "concat");
  layout_check_dims("concat", {n, da, db});
  if (ctx.device == Device::cpu) return concat_cpu<float>(n, da, db, a, b, y);
  cuda::launch_concat(ctx, n, da, db, a, b, y);
}

void concat_backward(const ExecContext& ctx, int n, int da, int db, const float* dy, float* d_a, float* d_b) {
  const OpTimer timed(ctx, "concat_backward");
  layout_check_dims("concat_backward", {n, da, db});
  if (ctx.device == Device::cpu) return concat_backward_cpu<float>(n, da, db, dy, d_a, d_b);
  cuda::launch_concat_backward(ctx, n, da, db, dy, d_a, d_b);
}

}  // namespace ser::nn
