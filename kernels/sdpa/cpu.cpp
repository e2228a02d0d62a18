// kernels/sdpa/cpu.cpp — CPU twin of scaled dot-product attention with a key-padding mask
// (ser/nn/attention.hpp), the oracle of the CUDA kernels (cuda.cu).
//
// One (sequence, head) at a time, restricted to its L = lengths[n] valid steps: the score matrix
// S (L, L) is one OpenBLAS GEMM straight from the strided (N, T, heads, head_dim) layout (leading
// dimension heads * head_dim), softmax runs row by row with the row maximum subtracted, and P V is a
// second GEMM written straight into o. Backward recomputes P = exp(S - lse) from the saved lse:
//   dV = P^T dO,  dP = dO V^T,  D_i = dO_i · O_i,  dS = P ∘ (dP - D_i),  dQ = scale dS K,
//   dK = scale dS^T Q.
// The (L, L) scratch matrices are thread_local and only grow. Rows t >= L are written as zeros.
//
// The exponentials dominate next to the two small GEMMs, so the float twin uses a branch-free expf
// (Cephes polynomial, < 1 ulp on [-87, 88]) that GCC vectorises; double keeps std::exp.
#include <cblas.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sdpa/shape.hpp"
#include "ser/host_device.hpp"
#include "ser/nn/attention.hpp"

namespace ser::nn {
namespace {

// Row-major C = alpha op(A) op(B) (beta = 0: C is overwritten, its old contents never read).
void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
          float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
              lda, b, ldb, 0.0f, c, ldc);
}
void gemm(bool ta, bool tb, int m, int n, int k, double alpha, const double* a, int lda, const double* b, int ldb,
          double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
              lda, b, ldb, 0.0, c, ldc);
}

// Rows [from, t) of one head of x (N, T, heads, head_dim): zero.
template <typename T>
void zero_rows(T* xh, int from, int t, int ld, int head_dim) {
  for (int i = from; i < t; ++i) std::fill_n(xh + static_cast<std::size_t>(i) * ld, head_dim, T(0));
}

// exp(x) for x <= 88, < 1 ulp from the correctly rounded value; 0 below about -87.3 (no denormals).
// Cody-Waite reduction x = n ln 2 + r, |r| <= ln 2 / 2, Cephes' degree-7 polynomial for e^r, and 2^n
// put into the exponent bits. No branches, so loops over it vectorise.
inline float exp_fast(float x) {
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round(x / ln 2), ties even
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;            // ln 2 split in two parts
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // Clamped as a float before the conversion, which is undefined for NaN: NaN takes -127 here and
  // stays NaN through p. Biased exponent 0 (e = -127) makes the result 0.
  const float nc = !(n >= -127.0f) ? -127.0f : (n > 127.0f ? 127.0f : n);
  const std::int32_t e = static_cast<std::int32_t>(nc);
  return p * std::bit_cast<float>((e + 127) << 23);
}

// row[j] = exp(row[j] - shift), j < count.
void exp_shifted(float* row, int count, float shift) {
  for (int j = 0; j < count; ++j) row[j] = exp_fast(row[j] - shift);
}
void exp_shifted(double* row, int count, double shift) {
  for (int j = 0; j < count; ++j) row[j] = std::exp(row[j] - shift);
}

// Σ row[j] in 8 interleaved partial sums (a fixed order the compiler can vectorise).
template <typename T>
T row_sum(const T* row, int count) {
  T part[8] = {};
  int j = 0;
  for (; j + 8 <= count; j += 8)
    for (int u = 0; u < 8; ++u) part[u] += row[j + u];
  for (; j < count; ++j) part[0] += row[j];
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

template <typename T>
std::vector<T>& scratch(std::size_t count) {
  thread_local std::vector<T> buf;
  if (buf.size() < count) buf.resize(count);
  return buf;
}

}  // namespace

template <typename T>
void sdpa_forward_cpu(const SdpaShape& s, const T* q, const T* k, const T* v, const int* lengths, T* o, T* lse) {
  sdpa_check_shape(s, "sdpa_forward_cpu");
  const int ld = s.heads * s.head_dim;  // stride between time steps of one head
  const T scale = static_cast<T>(s.scale);
  T* sm = scratch<T>(static_cast<std::size_t>(s.t) * s.t).data();  // (L, L) scores, then P
  for (int n = 0; n < s.n; ++n) {
    const int len = valid_length(lengths, n, s.t);
    for (int h = 0; h < s.heads; ++h) {
      const std::size_t base = static_cast<std::size_t>(n) * s.t * ld + static_cast<std::size_t>(h) * s.head_dim;
      const T* qh = q + base;  // (T, head_dim), row stride ld
      const T* kh = k + base;
      const T* vh = v + base;
      T* oh = o + base;
      T* lse_h = lse + (static_cast<std::size_t>(n) * s.heads + h) * s.t;  // (T)
      if (len > 0) {
        gemm(false, true, len, len, s.head_dim, scale, qh, ld, kh, ld, sm, len);  // S = scale Q K^T
        for (int i = 0; i < len; ++i) {
          T* row = sm + static_cast<std::size_t>(i) * len;
          const T mx = *std::max_element(row, row + len);
          exp_shifted(row, len, mx);
          const T sum = row_sum(row, len);
          const T inv = T(1) / sum;  // sum >= 1: the maximum contributes exp(0)
          for (int j = 0; j < len; ++j) row[j] *= inv;
          lse_h[i] = mx + std::log(sum);
        }
        gemm(false, false, len, s.head_dim, len, T(1), sm, len, vh, ld, oh, ld);  // O = P V
      }
      zero_rows(oh, len, s.t, ld, s.head_dim);
      std::fill(lse_h + len, lse_h + s.t, T(0));
    }
  }
}

template <typename T>
void sdpa_backward_cpu(const SdpaShape& s, const T* q, const T* k, const T* v, const T* o, const T* lse,
                       const T* dout, const int* lengths, T* dq, T* dk, T* dv) {
  sdpa_check_shape(s, "sdpa_backward_cpu");
  const int ld = s.heads * s.head_dim;
  const T scale = static_cast<T>(s.scale);
  const std::size_t tt = static_cast<std::size_t>(s.t) * s.t;
  std::vector<T>& buf = scratch<T>(2 * tt);
  T* pm = buf.data();        // (L, L) P
  T* dsm = buf.data() + tt;  // (L, L) dP, then dS
  for (int n = 0; n < s.n; ++n) {
    const int len = valid_length(lengths, n, s.t);
    for (int h = 0; h < s.heads; ++h) {
      const std::size_t base = static_cast<std::size_t>(n) * s.t * ld + static_cast<std::size_t>(h) * s.head_dim;
      const T* qh = q + base;  // (T, head_dim), row stride ld
      const T* kh = k + base;
      const T* vh = v + base;
      const T* oh = o + base;
      const T* doh = dout + base;
      T* dqh = dq + base;
      T* dkh = dk + base;
      T* dvh = dv + base;
      const T* lse_h = lse + (static_cast<std::size_t>(n) * s.heads + h) * s.t;  // (T)
      if (len > 0) {
        gemm(false, true, len, len, s.head_dim, scale, qh, ld, kh, ld, pm, len);  // S = scale Q K^T
        for (int i = 0; i < len; ++i) {
          exp_shifted(pm + static_cast<std::size_t>(i) * len, len, lse_h[i]);  // P
        }
        gemm(true, false, len, s.head_dim, len, T(1), pm, len, doh, ld, dvh, ld);   // dV = P^T dO
        gemm(false, true, len, len, s.head_dim, T(1), doh, ld, vh, ld, dsm, len);   // dP = dO V^T
        for (int i = 0; i < len; ++i) {
          const T* oi = oh + static_cast<std::size_t>(i) * ld;
          const T* doi = doh + static_cast<std::size_t>(i) * ld;
          T di = 0;  // D_i = dO_i · O_i = Σ_j P_ij dP_ij
          for (int d = 0; d < s.head_dim; ++d) di += doi[d] * oi[d];
          const T* prow = pm + static_cast<std::size_t>(i) * len;
          T* row = dsm + static_cast<std::size_t>(i) * len;
          for (int j = 0; j < len; ++j) row[j] = prow[j] * (row[j] - di);  // dS
        }
        gemm(false, false, len, s.head_dim, len, scale, dsm, len, kh, ld, dqh, ld);  // dQ = scale dS K
        gemm(true, false, len, s.head_dim, len, scale, dsm, len, qh, ld, dkh, ld);   // dK = scale dS^T Q
      }
      zero_rows(dqh, len, s.t, ld, s.head_dim);
      zero_rows(dkh, len, s.t, ld, s.head_dim);
      zero_rows(dvh, len, s.t, ld, s.head_dim);
    }
  }
}

template void sdpa_forward_cpu<float>(const SdpaShape&, const float*, const float*, const float*, const int*,
                                      float*, float*);
template void sdpa_forward_cpu<double>(const SdpaShape&, const double*, const double*, const double*, const int*,
                                       double*, double*);
template void sdpa_backward_cpu<float>(const SdpaShape&, const float*, const float*, const float*, const float*,
                                       const float*, const float*, const int*, float*, float*, float*);
template void sdpa_backward_cpu<double>(const SdpaShape&, const double*, const double*, const double*,
                                        const double*, const double*, const double*, const int*, double*,
                                        double*, double*);

}  // namespace ser::nn
