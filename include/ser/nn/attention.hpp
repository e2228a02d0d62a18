// ser/nn/attention.hpp — multi-head scaled dot-product attention with a key-padding mask (the fused
// softmax(Q K^T * scale) V core; the Q/K/V/output projections are linear ops), and pooling over time
// (masked mean, attention pooling).
#pragma once
#include <cstdint>

#include "ser/nn/exec.hpp"

namespace ser::nn {

struct SdpaShape {
  int n = 1, t = 1, heads = 1, head_dim = 1;  // q, k, v, o are (N, T, heads, head_dim)
  float scale = 1.0f;  // usually 1 / sqrt(head_dim)
};

// For each (n, head) and query i: o_i = Σ_j softmax_j(scale * q_i · k_j) v_j over keys
// j < lengths[n] (all T when lengths is nullptr). lse (N, heads, T) saves the row's log-sum-exp of
// the scaled scores for backward. Query rows i >= lengths[n] are masked: o = 0, lse = 0. A row with
// no valid key (lengths[n] == 0) gives o = 0 and lse = 0 — never NaN. Numerically stable (max
// subtracted).
template <typename T>
void sdpa_forward_cpu(const SdpaShape& s, const T* q, const T* k, const T* v, const int* lengths,
                      T* o, T* lse);
// dq, dk, dv (N, T, heads, head_dim) = overwrite, from dout (N, T, heads, head_dim) and the saved o
// and lse; masked query rows and keys contribute nothing and get zero gradient.
template <typename T>
void sdpa_backward_cpu(const SdpaShape& s, const T* q, const T* k, const T* v, const T* o,
                       const T* lse, const T* dout, const int* lengths, T* dq, T* dk, T* dv);

// Scratch bytes the dispatch functions need: 0 on the CPU (the twin keeps its own scratch); on the
// GPU the backward's row dots D_i = dO_i · O_i, (N, heads, T) floats (the forward needs none).
std::size_t sdpa_workspace_bytes(const ExecContext&, const SdpaShape& s);
void sdpa_forward(const ExecContext&, const SdpaShape& s, const float* q, const float* k,
                  const float* v, const int* lengths, float* o, float* lse, void* workspace);
void sdpa_backward(const ExecContext&, const SdpaShape& s, const float* q, const float* k,
                   const float* v, const float* o, const float* lse, const float* dout,
                   const int* lengths, float* dq, float* dk, float* dv, void* workspace);

// ---- Masked mean pooling over time: y (N, D) = mean over t < lengths[n] of x (N, T, D)
// (y = 0 when lengths[n] == 0). Backward: dx (N, T, D) = overwrite, dy / len at valid t, 0 elsewhere.
template <typename T>
void mean_pool_forward_cpu(int n, int t, int d, const T* x, const int* lengths, T* y);
template <typename T>
void mean_pool_backward_cpu(int n, int t, int d, const T* dy, const int* lengths, T* dx);
void mean_pool_forward(const ExecContext&, int n, int t, int d, const float* x, const int* lengths,
                       float* y);
void mean_pool_backward(const ExecContext&, int n, int t, int d, const float* dy,
                        const int* lengths, float* dx);

// ---- Attention pooling over time: score_t = w · x_t + b, alpha (N, T) = softmax over t <
// lengths[n] (0 at masked t, all 0 when lengths[n] == 0), y (N, D) = Σ_t alpha_t x_t.
// w (D), b (1). Backward: dx (N, T, D) overwrite; dw (D) += ; db (1) += .
template <typename T>
void attn_pool_forward_cpu(int n, int t, int d, const T* x, const T* w, const T* b,
                           const int* lengths, T* y, T* alpha);
template <typename T>
void attn_pool_backward_cpu(int n, int t, int d, const T* x, const T* w, const T* alpha,
                            const T* dy, const int* lengths, T* dx, T* dw, T* db);
void attn_pool_forward(const ExecContext&, int n, int t, int d, const float* x, const float* w,
                       const float* b, const int* lengths, float* y, float* alpha);
void attn_pool_backward(const ExecContext&, int n, int t, int d, const float* x, const float* w,
                        const float* alpha, const float* dy, const int* lengths, float* dx,
                        float* dw, float* db);

}  // namespace ser::nn
