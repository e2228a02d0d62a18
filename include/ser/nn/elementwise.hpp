// ser/nn/elementwise.hpp — ReLU, dropout, time masking, residual add, layout changes between feature
// maps and token sequences, and concatenation of two (N, D) matrices.
#pragma once
#include <cstdint>

#include "ser/nn/exec.hpp"

namespace ser::nn {

// ---- ReLU: y = max(x, 0); dx = dy * (y > 0). In place (y == x, dx == dy) allowed. -------------
template <typename T> void relu_forward_cpu(std::int64_t count, const T* x, T* y);
template <typename T> void relu_backward_cpu(std::int64_t count, const T* y, const T* dy, T* dx);
void relu_forward(const ExecContext&, std::int64_t count, const float* x, float* y);
void relu_backward(const ExecContext&, std::int64_t count, const float* y, const float* dy, float* dx);

// ---- Dropout (inverted): element i is kept when uniform01(seed, i) >= p (ser/nn/counter_rng.hpp)
// and then scaled by 1 / (1 - p); the mask is recomputed in backward, never stored, and is the same
// on the CPU and the GPU. p = 0 copies. In place allowed. `first` shifts the counter: element i
// draws uniform01(seed, first + i), so a data-parallel rank holding rows from r of the global batch
// draws what one process would (CPU only; the GPU takes first = 0).
template <typename T>
void dropout_forward_cpu(std::int64_t count, float p, std::uint64_t seed, const T* x, T* y,
                         std::uint64_t first = 0);
template <typename T>
void dropout_backward_cpu(std::int64_t count, float p, std::uint64_t seed, const T* dy, T* dx,
                          std::uint64_t first = 0);
void dropout_forward(const ExecContext&, std::int64_t count, float p, std::uint64_t seed,
                     const float* x, float* y, std::uint64_t first = 0);
void dropout_backward(const ExecContext&, std::int64_t count, float p, std::uint64_t seed,
                      const float* dy, float* dx, std::uint64_t first = 0);

// ---- Time mask: x (N, C, T, F) in place, x[n, :, t, :] = 0 for t >= lengths[n]. Its backward is
// the same operation on the gradient.
template <typename T>
void time_mask_cpu(int n, int c, int t, int f, const int* lengths, T* x);
void time_mask(const ExecContext&, int n, int c, int t, int f, const int* lengths, float* x);

// ---- Residual add: y = a + b (y may alias a or b). Backward is a copy of the gradient to both.
template <typename T> void add_cpu(std::int64_t count, const T* a, const T* b, T* y);
void add(const ExecContext&, std::int64_t count, const float* a, const float* b, float* y);
// y += x (gradient accumulation into an activation gradient that has two consumers).
template <typename T> void accumulate_cpu(std::int64_t count, const T* x, T* y);
void accumulate(const ExecContext&, std::int64_t count, const float* x, float* y);

// ---- Layout: map (N, C, T, F) <-> tokens (N, T, C*F), tokens[n, t, c*F + f] = map[n, c, t, f].
// Each is the other's backward. Overwrite.
template <typename T> void map_to_tokens_cpu(int n, int c, int t, int f, const T* map, T* tokens);
template <typename T> void tokens_to_map_cpu(int n, int c, int t, int f, const T* tokens, T* map);
void map_to_tokens(const ExecContext&, int n, int c, int t, int f, const float* map, float* tokens);
void tokens_to_map(const ExecContext&, int n, int c, int t, int f, const float* tokens, float* map);

// ---- Concatenation along features: y (N, Da + Db) = [a (N, Da), b (N, Db)]; backward splits dy
// into da (N, Da) and db (N, Db) (overwrite; either may be nullptr).
template <typename T> void concat_cpu(int n, int da, int db, const T* a, const T* b, T* y);
template <typename T> void concat_backward_cpu(int n, int da, int db, const T* dy, T* d_a, T* d_b);
void concat(const ExecContext&, int n, int da, int db, const float* a, const float* b, float* y);
void concat_backward(const ExecContext&, int n, int da, int db, const float* dy, float* d_a,
                     float* d_b);

}  // namespace ser::nn
