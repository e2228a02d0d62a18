// kernels/linear/cpu.cpp — CPU twin of the fully connected layer (ser/nn/linear.hpp): OpenBLAS
// GEMM, row-major. Forward pre-fills y with the bias and runs the GEMM with beta = 1 (one pass over
// y); the weight gradient is a GEMM with beta = 1 (accumulate), the input gradient one with beta = 0
// (overwrite), and db the column sums of dy (a row loop vectorised over the columns) added to db.
#include <cblas.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "linear/shape.hpp"
#include "ser/nn/linear.hpp"

namespace ser::nn {
namespace {

// Row-major C = op(A) · op(B) + beta * C (sgemm / dgemm).
void gemm(bool ta, bool tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float beta,
          float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda,
              b, ldb, beta, c, ldc);
}
void gemm(bool ta, bool tb, int m, int n, int k, const double* a, int lda, const double* b, int ldb, double beta,
          double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0, a, lda,
              b, ldb, beta, c, ldc);
}

}  // namespace

template <typename T>
void linear_forward_cpu(const LinearShape& s, const T* x, const T* w, const T* b, T* y) {
  linear_check_shape(s, "linear_forward_cpu");
  if (s.m == 0) return;
  const int m = static_cast<int>(s.m);
  if (b)
    for (int r = 0; r < m; ++r) std::copy(b, b + s.out, y + static_cast<std::int64_t>(r) * s.out);
  // y (M, out) = x (M, in) · w (out, in)^T [+ y]
  gemm(false, true, m, s.out, s.in, x, s.in, w, s.in, b ? T(1) : T(0), y, s.out);
}

template <typename T>
void linear_backward_cpu(const LinearShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db) {
  linear_check_shape(s, "linear_backward_cpu");
  if (s.m == 0) return;  // nothing to add, and dx has no rows
  const int m = static_cast<int>(s.m);
  // dx (M, in) = dy (M, out) · w (out, in)
  if (dx) gemm(false, false, m, s.in, s.out, dy, s.out, w, s.in, T(0), dx, s.in);
  // dw (out, in) += dy^T (out, M) · x (M, in)
  if (dw) gemm(true, false, s.out, s.in, m, dy, s.out, x, s.in, T(1), dw, s.in);
  // db (out) += Σ_rows dy: the column sums first (in a grow-only thread_local buffer), then one add
  // per element, as the GPU does.
  if (db) {
    thread_local std::vector<T> sums;
    if (sums.size() < static_cast<std::size_t>(s.out)) sums.resize(static_cast<std::size_t>(s.out));
    std::copy(dy, dy + s.out, sums.begin());
    for (int r = 1; r < m; ++r) {
      const T* g = dy + static_cast<std::int64_t>(r) * s.out;
      for (int j = 0; j < s.out; ++j) sums[static_cast<std::size_t>(j)] += g[j];
    }
    for (int j = 0; j < s.out; ++j) db[j] += sums[static_cast<std::size_t>(j)];
  }
}

template void linear_forward_cpu<float>(const LinearShape&, const float*, const float*, const float*, float*);
template void linear_forward_cpu<double>(const LinearShape&, const double*, const double*, const double*, double*);
template void linear_backward_cpu<float>(const LinearShape&, const float*, const float*, const float*, float*, float*,
                                         float*);
template void linear_backward_cpu<double>(const LinearShape&, const double*, const double*, const double*, double*,
                                          double*, double*);

}  // namespace ser::nn
