// src/nn/ops_any.hpp — one call site for both scalar types: float goes through the op's dispatch
// (CPU twin or CUDA, by ctx.device); double runs the CPU twin (the gradient checks of whole layers
// and models run the engine in double on the CPU).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <type_traits>

#include "ser/nn/attention.hpp"
#include "ser/nn/batchnorm.hpp"
#include "ser/nn/conv.hpp"
#include "ser/nn/deltas.hpp"
#include "ser/nn/elementwise.hpp"
#include "ser/nn/layernorm.hpp"
#include "ser/nn/linear.hpp"
#include "ser/nn/loss.hpp"
#include "ser/nn/optim_ops.hpp"
#include "ser/nn/pool.hpp"

namespace ser::nn::any {

template <typename T>
constexpr bool is_f32 = std::is_same_v<T, float>;

template <typename T>
void conv2d_forward(const ExecContext& c, const Conv2dShape& s, const T* x, const T* w, const T* b, T* y,
                    void* ws) {
  if constexpr (is_f32<T>) nn::conv2d_forward(c, s, x, w, b, y, ws);
  else conv2d_forward_cpu<T>(s, x, w, b, y);
}
template <typename T>
void conv2d_backward(const ExecContext& c, const Conv2dShape& s, const T* x, const T* w, const T* dy, T* dx,
                     T* dw, T* db, void* ws) {
  if constexpr (is_f32<T>) nn::conv2d_backward(c, s, x, w, dy, dx, dw, db, ws);
  else conv2d_backward_cpu<T>(s, x, w, dy, dx, dw, db);
}

template <typename T>
void maxpool2d_forward(const ExecContext& c, const Pool2dShape& s, const T* x, const int* len, T* y,
                       std::int32_t* am) {
  if constexpr (is_f32<T>) nn::maxpool2d_forward(c, s, x, len, y, am);
  else maxpool2d_forward_cpu<T>(s, x, len, y, am);
}
template <typename T>
void maxpool2d_backward(const ExecContext& c, const Pool2dShape& s, const T* dy, const std::int32_t* am, T* dx) {
  if constexpr (is_f32<T>) nn::maxpool2d_backward(c, s, dy, am, dx);
  else maxpool2d_backward_cpu<T>(s, dy, am, dx);
}

template <typename T>
void batchnorm_forward_train(const ExecContext& c, const BatchNormShape& s, const T* x, const int* len,
                             const T* g, const T* b, T* y, T* mean, T* invstd, T* rm, T* rv) {
  if constexpr (is_f32<T>) nn::batchnorm_forward_train(c, s, x, len, g, b, y, mean, invstd, rm, rv);
  else batchnorm_forward_train_cpu<T>(s, x, len, g, b, y, mean, invstd, rm, rv, c.ranks);
}
template <typename T>
void batchnorm_forward_infer(const ExecContext& c, const BatchNormShape& s, const T* x, const int* len,
                             const T* g, const T* b, const T* rm, const T* rv, T* y) {
  if constexpr (is_f32<T>) nn::batchnorm_forward_infer(c, s, x, len, g, b, rm, rv, y);
  else batchnorm_forward_infer_cpu<T>(s, x, len, g, b, rm, rv, y);
}
template <typename T>
void batchnorm_backward(const ExecContext& c, const BatchNormShape& s, const T* x, const T* dy, const int* len,
                        const T* g, const T* mean, const T* invstd, T* dx, T* dg, T* db) {
  if constexpr (is_f32<T>) nn::batchnorm_backward(c, s, x, dy, len, g, mean, invstd, dx, dg, db);
  else batchnorm_backward_cpu<T>(s, x, dy, len, g, mean, invstd, dx, dg, db, c.ranks);
}

template <typename T>
void relu_forward(const ExecContext& c, std::int64_t n, const T* x, T* y) {
  if constexpr (is_f32<T>) nn::relu_forward(c, n, x, y);
  else relu_forward_cpu<T>(n, x, y);
}
template <typename T>
void relu_backward(const ExecContext& c, std::int64_t n, const T* y, const T* dy, T* dx) {
  if constexpr (is_f32<T>) nn::relu_backward(c, n, y, dy, dx);
  else relu_backward_cpu<T>(n, y, dy, dx);
}
template <typename T>
void dropout_forward(const ExecContext& c, std::int64_t n, float p, std::uint64_t seed, const T* x, T* y,
                     std::uint64_t first) {
  if constexpr (is_f32<T>) nn::dropout_forward(c, n, p, seed, x, y, first);
  else dropout_forward_cpu<T>(n, p, seed, x, y, first);
}
template <typename T>
void dropout_backward(const ExecContext& c, std::int64_t n, float p, std::uint64_t seed, const T* dy, T* dx,
                      std::uint64_t first) {
  if constexpr (is_f32<T>) nn::dropout_backward(c, n, p, seed, dy, dx, first);
  else dropout_backward_cpu<T>(n, p, seed, dy, dx, first);
}
template <typename T>
void time_mask(const ExecContext& ctx, int n, int c, int t, int f, const int* len, T* x) {
  if constexpr (is_f32<T>) nn::time_mask(ctx, n, c, t, f, len, x);
  else time_mask_cpu<T>(n, c, t, f, len, x);
}
template <typename T>
void time_deltas(const ExecContext& ctx, int n, int t, int f, int order, const int* len, const T* x, T* y) {
  if constexpr (is_f32<T>) nn::time_deltas(ctx, n, t, f, order, len, x, y);
  else time_deltas_cpu<T>(n, t, f, order, len, x, y);
}
template <typename T>
void layer_norm_forward(const ExecContext& c, int n, int t, int d, float eps, const T* x, const T* gamma,
                        const T* beta, const int* len, T* y, T* mean, T* rstd) {
  if constexpr (is_f32<T>) nn::layer_norm_forward(c, n, t, d, eps, x, gamma, beta, len, y, mean, rstd);
  else layer_norm_forward_cpu<T>(n, t, d, eps, x, gamma, beta, len, y, mean, rstd);
}
template <typename T>
void layer_norm_backward(const ExecContext& c, int n, int t, int d, const T* x, const T* gamma, const T* mean,
                         const T* rstd, const T* dy, const int* len, T* dx, T* dgamma, T* dbeta) {
  if constexpr (is_f32<T>) nn::layer_norm_backward(c, n, t, d, x, gamma, mean, rstd, dy, len, dx, dgamma, dbeta);
  else layer_norm_backward_cpu<T>(n, t, d, x, gamma, mean, rstd, dy, len, dx, dgamma, dbeta);
}
template <typename T>
void add(const ExecContext& c, std::int64_t n, const T* a, const T* b, T* y) {
  if constexpr (is_f32<T>) nn::add(c, n, a, b, y);
  else add_cpu<T>(n, a, b, y);
}
template <typename T>
void accumulate(const ExecContext& c, std::int64_t n, const T* x, T* y) {
  if constexpr (is_f32<T>) nn::accumulate(c, n, x, y);
  else accumulate_cpu<T>(n, x, y);
}
template <typename T>
void map_to_tokens(const ExecContext& ctx, int n, int c, int t, int f, const T* map, T* tok) {
  if constexpr (is_f32<T>) nn::map_to_tokens(ctx, n, c, t, f, map, tok);
  else map_to_tokens_cpu<T>(n, c, t, f, map, tok);
}
template <typename T>
void tokens_to_map(const ExecContext& ctx, int n, int c, int t, int f, const T* tok, T* map) {
  if constexpr (is_f32<T>) nn::tokens_to_map(ctx, n, c, t, f, tok, map);
  else tokens_to_map_cpu<T>(n, c, t, f, tok, map);
}
template <typename T>
void concat(const ExecContext& c, int n, int da, int db, const T* a, const T* b, T* y) {
  if constexpr (is_f32<T>) nn::concat(c, n, da, db, a, b, y);
  else concat_cpu<T>(n, da, db, a, b, y);
}
template <typename T>
void concat_backward(const ExecContext& c, int n, int da, int db, const T* dy, T* d_a, T* d_b) {
  if constexpr (is_f32<T>) nn::concat_backward(c, n, da, db, dy, d_a, d_b);
  else concat_backward_cpu<T>(n, da, db, dy, d_a, d_b);
}

template <typename T>
void linear_forward(const ExecContext& c, const LinearShape& s, const T* x, const T* w, const T* b, T* y) {
  if constexpr (is_f32<T>) nn::linear_forward(c, s, x, w, b, y);
  else linear_forward_cpu<T>(s, x, w, b, y);
}
template <typename T>
void linear_backward(const ExecContext& c, const LinearShape& s, const T* x, const T* w, const T* dy, T* dx,
                     T* dw, T* db) {
  if constexpr (is_f32<T>) nn::linear_backward(c, s, x, w, dy, dx, dw, db);
  else linear_backward_cpu<T>(s, x, w, dy, dx, dw, db);
}

template <typename T>
void sdpa_forward(const ExecContext& c, const SdpaShape& s, const T* q, const T* k, const T* v, const int* len,
                  T* o, T* lse, void* ws) {
  if constexpr (is_f32<T>) nn::sdpa_forward(c, s, q, k, v, len, o, lse, ws);
  else sdpa_forward_cpu<T>(s, q, k, v, len, o, lse);
}
template <typename T>
void sdpa_backward(const ExecContext& c, const SdpaShape& s, const T* q, const T* k, const T* v, const T* o,
                   const T* lse, const T* dout, const int* len, T* dq, T* dk, T* dv, void* ws) {
  if constexpr (is_f32<T>) nn::sdpa_backward(c, s, q, k, v, o, lse, dout, len, dq, dk, dv, ws);
  else sdpa_backward_cpu<T>(s, q, k, v, o, lse, dout, len, dq, dk, dv);
}
template <typename T>
void mean_pool_forward(const ExecContext& c, int n, int t, int d, const T* x, const int* len, T* y) {
  if constexpr (is_f32<T>) nn::mean_pool_forward(c, n, t, d, x, len, y);
  else mean_pool_forward_cpu<T>(n, t, d, x, len, y);
}
template <typename T>
void mean_pool_backward(const ExecContext& c, int n, int t, int d, const T* dy, const int* len, T* dx) {
  if constexpr (is_f32<T>) nn::mean_pool_backward(c, n, t, d, dy, len, dx);
  else mean_pool_backward_cpu<T>(n, t, d, dy, len, dx);
}
template <typename T>
void attn_pool_forward(const ExecContext& c, int n, int t, int d, const T* x, const T* w, const T* b,
                       const int* len, T* y, T* alpha) {
  if constexpr (is_f32<T>) nn::attn_pool_forward(c, n, t, d, x, w, b, len, y, alpha);
  else attn_pool_forward_cpu<T>(n, t, d, x, w, b, len, y, alpha);
}
template <typename T>
void attn_pool_backward(const ExecContext& c, int n, int t, int d, const T* x, const T* w, const T* alpha,
                        const T* dy, const int* len, T* dx, T* dw, T* db) {
  if constexpr (is_f32<T>) nn::attn_pool_backward(c, n, t, d, x, w, alpha, dy, len, dx, dw, db);
  else attn_pool_backward_cpu<T>(n, t, d, x, w, alpha, dy, len, dx, dw, db);
}

template <typename T>
double softmax_xent(const ExecContext& c, int n, int k, const T* logits, const std::int32_t* labels,
                    const T* cw, T* dlogits, T* probs, const XentTargets& targets = {}) {
  if constexpr (is_f32<T>) return nn::softmax_xent(c, n, k, logits, labels, cw, dlogits, probs, targets);
  else return softmax_xent_cpu<T>(n, k, logits, labels, cw, dlogits, probs, targets);
}

}  // namespace ser::nn::any
