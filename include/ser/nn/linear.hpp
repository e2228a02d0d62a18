// ser/nn/linear.hpp — fully connected layer y = x W^T + b over M rows (M = N, or N * T for tokens).
// CPU twin: OpenBLAS GEMM; GPU: cuBLAS (the same on both kernel paths).
#pragma once
#include <cstdint>

#include "ser/nn/exec.hpp"

namespace ser::nn {

struct LinearShape {
  std::int64_t m = 1;  // rows
  int in = 1, out = 1;
};

// y (M, out) = x (M, in) · w (out, in)^T + b (out)   [overwrite]; b may be nullptr.
template <typename T>
void linear_forward_cpu(const LinearShape& s, const T* x, const T* w, const T* b, T* y);
// dx (M, in) = dy · w [overwrite, skipped when nullptr]; dw (out, in) += dy^T · x; db (out) += Σ_rows dy
// (skipped when nullptr).
template <typename T>
void linear_backward_cpu(const LinearShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw,
                         T* db);

void linear_forward(const ExecContext&, const LinearShape& s, const float* x, const float* w,
                    const float* b, float* y);
void linear_backward(const ExecContext&, const LinearShape& s, const float* x, const float* w,
                     const float* dy, float* dx, float* dw, float* db);

}  // namespace ser::nn
