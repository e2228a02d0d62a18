// kernels/conv2d/cpu.cpp — CPU twin of 2-D convolution: im2col + OpenBLAS GEMM per sample, and
// col2im for the input gradient.
//
// Work is done one sample at a time and, inside a sample, in chunks of whole output rows, so the
// im2col buffer (C_in*kh*kw, rows*W_out) stays a few MiB whatever H is (cache-friendly, and no
// 60 MiB buffer for a 400-frame utterance with 64 channels). The buffer is thread_local and only
// grows: repeated calls with the same shapes allocate nothing. A 1x1 / stride 1 / no-padding
// convolution skips im2col: the sample itself is the column matrix. For stride 1, dx runs as a
// forward convolution of dy with the flipped kernel (see dx_as_forward); other strides use a
// GEMM into columns and a col2im scatter. A 3x3 / stride 1 convolution of one input channel (the
// first layer) takes the direct kernels of conv2d_direct_cpu.cpp instead: with K = 9 the GEMM path
// spends its time packing.
#include <cblas.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "conv2d/direct_cpu.hpp"
#include "conv2d/shape.hpp"
#include "ser/nn/conv.hpp"

namespace ser::nn {
namespace {

// Row-major GEMM C = op(A) op(B) + beta * C (sgemm / dgemm).
void gemm(bool ta, bool tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb,
          float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k,
              1.0f, a, lda, b, ldb, beta, c, ldc);
}
void gemm(bool ta, bool tb, int m, int n, int k, const double* a, int lda, const double* b, int ldb,
          double beta, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k,
              1.0, a, lda, b, ldb, beta, c, ldc);
}

// Output columns ow whose input column iw = ow*sw - pw + q lies inside [0, W): [lo, hi).
struct ColRange {
  int lo = 0, hi = 0;
};
ColRange valid_cols(const Conv2dShape& s, int q) {
  const int wo = s.w_out();
  const int first = s.pw - q;               // ow*sw >= first
  const int last = s.w - 1 + s.pw - q;      // ow*sw <= last
  ColRange r;
  r.lo = std::min(wo, first > 0 ? (first + s.sw - 1) / s.sw : 0);
  r.hi = std::max(r.lo, last >= 0 ? std::min(wo, last / s.sw + 1) : 0);
  return r;
}

// col (C_in*kh*kw, (oh1-oh0)*W_out) <- patches of x_n (C_in, H, W) for output rows [oh0, oh1).
template <typename T>
void im2col_rows(const Conv2dShape& s, const T* x_n, int oh0, int oh1, T* col) {
  const int wo = s.w_out();
  const std::size_t cols = static_cast<std::size_t>(oh1 - oh0) * wo;
  for (int c = 0; c < s.c_in; ++c)
    for (int r = 0; r < s.kh; ++r)
      for (int q = 0; q < s.kw; ++q) {
        const ColRange cr = valid_cols(s, q);
        T* row = col + (static_cast<std::size_t>(c * s.kh + r) * s.kw + q) * cols;
        for (int oh = oh0; oh < oh1; ++oh) {
          T* dst = row + static_cast<std::size_t>(oh - oh0) * wo;
          const int ih = oh * s.sh - s.ph + r;
          if (ih < 0 || ih >= s.h) {
            std::fill(dst, dst + wo, T(0));
            continue;
          }
          const T* src = x_n + (static_cast<std::size_t>(c) * s.h + ih) * s.w;
          std::fill(dst, dst + cr.lo, T(0));
          if (s.sw == 1) {
            if (cr.hi > cr.lo)
              std::memcpy(dst + cr.lo, src + (cr.lo - s.pw + q), sizeof(T) * (cr.hi - cr.lo));
          } else {
            for (int ow = cr.lo; ow < cr.hi; ++ow) dst[ow] = src[ow * s.sw - s.pw + q];
          }
          std::fill(dst + cr.hi, dst + wo, T(0));
        }
      }
}

// dx_n (C_in, H, W) += col2im(dcol) for output rows [oh0, oh1); dcol as im2col_rows lays it out.
template <typename T>
void col2im_rows_add(const Conv2dShape& s, const T* dcol, int oh0, int oh1, T* dx_n) {
  const int wo = s.w_out();
  const std::size_t cols = static_cast<std::size_t>(oh1 - oh0) * wo;
  for (int c = 0; c < s.c_in; ++c)
    for (int r = 0; r < s.kh; ++r)
      for (int q = 0; q < s.kw; ++q) {
        const ColRange cr = valid_cols(s, q);
        const T* row = dcol + (static_cast<std::size_t>(c * s.kh + r) * s.kw + q) * cols;
        for (int oh = oh0; oh < oh1; ++oh) {
          const int ih = oh * s.sh - s.ph + r;
          if (ih < 0 || ih >= s.h) continue;
          const T* src = row + static_cast<std::size_t>(oh - oh0) * wo;
          T* dst = dx_n + (static_cast<std::size_t>(c) * s.h + ih) * s.w;
          for (int ow = cr.lo; ow < cr.hi; ++ow) dst[ow * s.sw - s.pw + q] += src[ow];
        }
      }
}

std::size_t w_count(const Conv2dShape& s) { return static_cast<std::size_t>(s.c_out) * s.c_in * s.kh * s.kw; }

bool is_pointwise(const Conv2dShape& s) {
  return s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.ph == 0 && s.pw == 0;
}

// Output rows per chunk: the im2col chunk holds at most ~2^21 elements (8 MiB in float), at least
// one row.
int rows_per_chunk(const Conv2dShape& s) {
  constexpr std::size_t kBudget = std::size_t(1) << 21;
  const std::size_t per_row = static_cast<std::size_t>(s.c_in) * s.kh * s.kw * s.w_out();
  return static_cast<int>(std::clamp<std::size_t>(kBudget / per_row, 1, static_cast<std::size_t>(s.h_out())));
}

// Grow-only per-thread scratch of at least `count` elements.
template <typename T>
T* scratch(std::size_t count) {
  thread_local std::vector<T> buf;
  if (buf.size() < count) buf.resize(count);
  return buf.data();
}

// y_n (C_out, H_out*W_out) = w · im2col(x_n) for one sample (no bias), `rows` output rows per
// chunk through `col` (K, rows*W_out) (unused for a pointwise convolution).
template <typename T>
void forward_sample(const Conv2dShape& s, const T* x_n, const T* w, T* y_n, T* col, int rows) {
  const int ho = s.h_out(), wo = s.w_out();
  const int k = s.c_in * s.kh * s.kw;
  const int howo = ho * wo;
  if (is_pointwise(s)) {
    gemm(false, false, s.c_out, howo, k, w, k, x_n, howo, T(0), y_n, howo);
    return;
  }
  for (int oh0 = 0; oh0 < ho; oh0 += rows) {
    const int oh1 = std::min(ho, oh0 + rows);
    const int cols = (oh1 - oh0) * wo;
    im2col_rows(s, x_n, oh0, oh1, col);
    // y_n[:, chunk] (C_out, cols) = w (C_out, K) · col (K, cols)
    gemm(false, false, s.c_out, cols, k, w, k, col, cols, T(0), y_n + static_cast<std::size_t>(oh0) * wo, howo);
  }
}

// With stride 1 and padding p <= k - 1, dx is itself a convolution: dy padded by (k - 1 - p),
// correlated with the kernel flipped in space and transposed in channels. That runs as a forward
// (one GEMM with K = C_out*kh*kw per chunk) instead of a GEMM into a column buffer plus a col2im
// scatter. Its GEMM has C_in rows, so with very few input channels (the first layer, C_in = 1) the
// col2im path, whose GEMM has C_in*kh*kw rows, is faster (measured: 2x at C_in = 1, 10-25% the other
// way from C_in = 16).
bool dx_as_forward(const Conv2dShape& s) {
  return s.sh == 1 && s.sw == 1 && s.ph <= s.kh - 1 && s.pw <= s.kw - 1 && !is_pointwise(s) && s.c_in >= 8;
}
// The shape of that convolution, for one sample.
Conv2dShape dx_forward_shape(const Conv2dShape& s) {
  Conv2dShape t;
  t.n = 1;
  t.c_in = s.c_out;
  t.h = s.h_out();
  t.w = s.w_out();
  t.c_out = s.c_in;
  t.kh = s.kh;
  t.kw = s.kw;
  t.sh = t.sw = 1;
  t.ph = s.kh - 1 - s.ph;
  t.pw = s.kw - 1 - s.pw;
  return t;
}

}  // namespace

template <typename T>
void conv2d_forward_cpu(const Conv2dShape& s, const T* x, const T* w, const T* b, T* y) {
  conv2d_check_shape(s, "conv2d_forward_cpu");
  if (conv2d_direct_applies(s)) {
    conv2d_direct_forward_cpu(s, x, w, b, y);
    return;
  }
  const int howo = s.h_out() * s.w_out();
  const bool pointwise = is_pointwise(s);
  const int rows = rows_per_chunk(s);
  T* col = pointwise ? nullptr : scratch<T>(static_cast<std::size_t>(s.c_in) * s.kh * s.kw * rows * s.w_out());
  for (int n = 0; n < s.n; ++n) {
    const T* x_n = x + static_cast<std::size_t>(n) * s.c_in * s.h * s.w;  // (C_in, H, W)
    T* y_n = y + static_cast<std::size_t>(n) * s.c_out * howo;             // (C_out, H_out*W_out)
    forward_sample(s, x_n, w, y_n, col, rows);
    if (b)
      for (int co = 0; co < s.c_out; ++co) {
        T* yc = y_n + static_cast<std::size_t>(co) * howo;
        const T bias = b[co];
        for (int i = 0; i < howo; ++i) yc[i] += bias;
      }
  }
}

template <typename T>
void conv2d_backward_cpu(const Conv2dShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db) {
  conv2d_check_shape(s, "conv2d_backward_cpu");
  if (conv2d_direct_applies(s) && dw) {
    conv2d_direct_backward_params_cpu(s, x, dy, dw, db);
    if (!dx) return;
    dw = db = nullptr;  // done; the general path below computes dx alone
  }
  const int ho = s.h_out(), wo = s.w_out();
  const int k = s.c_in * s.kh * s.kw;
  const int howo = ho * wo;
  const std::size_t in_plane = static_cast<std::size_t>(s.c_in) * s.h * s.w;
  const bool pointwise = is_pointwise(s);
  const bool transposed = dx && dx_as_forward(s);
  const Conv2dShape st = dx_forward_shape(s);

  if (db)
    for (int n = 0; n < s.n; ++n)
      for (int co = 0; co < s.c_out; ++co) {
        const T* g = dy + (static_cast<std::size_t>(n) * s.c_out + co) * howo;
        T acc = 0;
        for (int i = 0; i < howo; ++i) acc += g[i];
        db[co] += acc;
      }
  if (!dx && !dw) return;

  // Scratch: col (K, rows*W_out) for dw and the col2im path | dcol / the dx-forward column buffer |
  // the flipped, transposed kernel (C_in, C_out, kh, kw).
  const int rows = rows_per_chunk(s);
  const int rows_t = transposed ? rows_per_chunk(st) : 1;
  const std::size_t col_n = pointwise ? 0 : static_cast<std::size_t>(k) * rows * wo;
  const std::size_t dcol_n =
      pointwise ? 0 : transposed ? static_cast<std::size_t>(s.c_out) * s.kh * s.kw * rows_t * s.w : col_n;
  const std::size_t wt_n = transposed ? w_count(s) : 0;
  T* col = scratch<T>(col_n + dcol_n + wt_n + 1);
  T* dcol = col + col_n;
  T* wt = dcol + dcol_n;
  if (transposed)
    for (int co = 0; co < s.c_out; ++co)
      for (int c = 0; c < s.c_in; ++c)
        for (int r = 0; r < s.kh; ++r)
          for (int q = 0; q < s.kw; ++q)
            wt[((static_cast<std::size_t>(c) * s.c_out + co) * s.kh + (s.kh - 1 - r)) * s.kw + (s.kw - 1 - q)] =
                w[((static_cast<std::size_t>(co) * s.c_in + c) * s.kh + r) * s.kw + q];

  for (int n = 0; n < s.n; ++n) {
    const T* x_n = x + n * in_plane;                                    // (C_in, H, W)
    const T* dy_n = dy + static_cast<std::size_t>(n) * s.c_out * howo;  // (C_out, H_out*W_out)
    T* dx_n = dx ? dx + n * in_plane : nullptr;                         // (C_in, H, W)
    if (pointwise) {
      // dw (C_out, C_in) += dy_n (C_out, HW) · x_n^T (HW, C_in); dx_n (C_in, HW) = w^T · dy_n
      if (dw) gemm(false, true, s.c_out, k, howo, dy_n, howo, x_n, howo, T(1), dw, k);
      if (dx_n) gemm(true, false, k, howo, s.c_out, w, k, dy_n, howo, T(0), dx_n, howo);
      continue;
    }
    if (dw)
      for (int oh0 = 0; oh0 < ho; oh0 += rows) {
        const int oh1 = std::min(ho, oh0 + rows);
        const int cols = (oh1 - oh0) * wo;
        im2col_rows(s, x_n, oh0, oh1, col);
        // dw (C_out, K) += dy_n[:, chunk] (C_out, cols) · col^T (cols, K)
        gemm(false, true, s.c_out, k, cols, dy_n + static_cast<std::size_t>(oh0) * wo, howo, col, cols, T(1), dw, k);
      }
    if (!dx_n) continue;
    if (transposed) {
      forward_sample(st, dy_n, wt, dx_n, dcol, rows_t);
      continue;
    }
    std::fill(dx_n, dx_n + in_plane, T(0));
    for (int oh0 = 0; oh0 < ho; oh0 += rows) {
      const int oh1 = std::min(ho, oh0 + rows);
      const int cols = (oh1 - oh0) * wo;
      // dcol (K, cols) = w^T (K, C_out) · dy_n[:, chunk] (C_out, cols); then scattered into dx_n
      gemm(true, false, k, cols, s.c_out, w, k, dy_n + static_cast<std::size_t>(oh0) * wo, howo, T(0), dcol, cols);
      col2im_rows_add(s, dcol, oh0, oh1, dx_n);
    }
  }
}

template void conv2d_forward_cpu<float>(const Conv2dShape&, const float*, const float*, const float*, float*);
template void conv2d_forward_cpu<double>(const Conv2dShape&, const double*, const double*, const double*, double*);
template void conv2d_backward_cpu<float>(const Conv2dShape&, const float*, const float*, const float*, float*,
                                         float*, float*);
template void conv2d_backward_cpu<double>(const Conv2dShape&, const double*, const double*, const double*,
                                          double*, double*, double*);

}  // namespace ser::nn
