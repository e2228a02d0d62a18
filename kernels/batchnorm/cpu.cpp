// kernels/batchnorm/cpu.cpp — CPU twin of masked batch normalisation (ser/nn/batchnorm.hpp), the
// oracle of the CUDA kernels (cuda.cu).
//
// Statistics: per channel, a two-pass mean / biased variance in double over the valid elements (h <
// lengths[n]) only, each plane's part summed with eight interleaved partial sums (fixed order). The saved mean and invstd are rounded to T, and normalisation and backward use
// those rounded values, exactly as the GPU does, so both sides normalise with the same numbers.
// running_var takes the unbiased variance count / (count - 1) * var; with a single valid element
// (count 1) it is undefined and running_var is left alone (PyTorch refuses such a batch). A channel
// with no valid element (every length 0) writes mean = invstd = 0, leaves the running statistics
// alone and outputs 0. Backward accepts dx = nullptr (parameter gradients only). With `ranks`
// (data parallel) the sums and counts are added over the ranks before they are used: each rank holds
// a slice of the global batch and normalises it with the whole batch's statistics; the parameter
// gradients keep this slice's share (the gradient all-reduce adds the rest). The valid part of
// every (n, c) plane is its first len_n * W elements, so each loop below runs over contiguous
// memory.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "batchnorm/shape.hpp"
#include "ser/nn/batchnorm.hpp"

namespace ser::nn {

namespace {

// Sums in double over n contiguous elements with eight interleaved partial sums, added pairwise at
// the end: a fixed order (deterministic), and eight independent dependency chains instead of one
// (a single running double sum is bound by the latency of one add per element).
constexpr int kLanes = 8;

inline double combine(const double (&acc)[kLanes]) {
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// Σ x[i].
template <typename T>
double sum_of(const T* x, std::int64_t n) {
  double acc[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) acc[k] += static_cast<double>(x[i + k]);
  for (int k = 0; i < n; ++i, ++k) acc[k] += static_cast<double>(x[i]);
  return combine(acc);
}

// Σ (x[i] - mu)^2.
template <typename T>
double sum_sq_dev(const T* x, std::int64_t n, double mu) {
  double acc[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      const double d = static_cast<double>(x[i + k]) - mu;
      acc[k] += d * d;
    }
  for (int k = 0; i < n; ++i, ++k) {
    const double d = static_cast<double>(x[i]) - mu;
    acc[k] += d * d;
  }
  return combine(acc);
}

// Adds Σ dy[i] to sdy and Σ dy[i] x̂[i] to sdyx, x̂ = (x - m) * is in T.
template <typename T>
void add_grad_sums(const T* x, const T* dy, std::int64_t n, T m, T is, double& sdy, double& sdyx) {
  double a[kLanes] = {}, b[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      const T xh = (x[i + k] - m) * is;
      a[k] += static_cast<double>(dy[i + k]);
      b[k] += static_cast<double>(dy[i + k]) * static_cast<double>(xh);
    }
  for (int k = 0; i < n; ++i, ++k) {
    const T xh = (x[i] - m) * is;
    a[k] += static_cast<double>(dy[i]);
    b[k] += static_cast<double>(dy[i]) * static_cast<double>(xh);
  }
  sdy += combine(a);
  sdyx += combine(b);
}

}  // namespace

template <typename T>
void batchnorm_forward_train_cpu(const BatchNormShape& s, const T* x, const int* lengths, const T* gamma,
                                 const T* beta, T* y, T* mean, T* invstd, T* running_mean, T* running_var,
                                 const RankSum* ranks) {
  batchnorm_check_shape(s, "batchnorm_forward_train_cpu");
  const std::int64_t hw = static_cast<std::int64_t>(s.h) * s.w;  // one (H, W) plane
  const double mom = s.momentum;
  const auto plane = [&](int n, int c) { return (static_cast<std::int64_t>(n) * s.c + c) * hw; };
  const auto valid = [&](int n) { return static_cast<std::int64_t>(batchnorm_valid_len(s, lengths, n)) * s.w; };
  // Pass 1: per channel Σ x, and the count in the last slot (C + 1), summed over the ranks.
  std::vector<double> stats(static_cast<std::size_t>(s.c) + 1, 0.0);
  for (int c = 0; c < s.c; ++c)
    for (int n = 0; n < s.n; ++n) stats[static_cast<std::size_t>(c)] += sum_of(x + plane(n, c), valid(n));
  stats[static_cast<std::size_t>(s.c)] = static_cast<double>(batchnorm_valid_count(s, lengths));
  if (ranks) ranks->sum(stats.data(), s.c + 1);
  const auto count = static_cast<std::int64_t>(stats[static_cast<std::size_t>(s.c)]);
  // Pass 2: per channel Σ (x - mean)^2 around the global mean, summed over the ranks.
  std::vector<double> mu(static_cast<std::size_t>(s.c), 0.0), m2(static_cast<std::size_t>(s.c), 0.0);
  if (count > 0)
    for (int c = 0; c < s.c; ++c) {
      mu[static_cast<std::size_t>(c)] = stats[static_cast<std::size_t>(c)] / static_cast<double>(count);
      for (int n = 0; n < s.n; ++n)
        m2[static_cast<std::size_t>(c)] += sum_sq_dev(x + plane(n, c), valid(n), mu[static_cast<std::size_t>(c)]);
    }
  if (ranks) ranks->sum(m2.data(), s.c);
  for (int c = 0; c < s.c; ++c) {
    if (count == 0) {
      mean[c] = T(0);
      invstd[c] = T(0);
      for (int n = 0; n < s.n; ++n) std::fill(y + plane(n, c), y + plane(n, c) + hw, T(0));
      continue;
    }
    const double var = m2[static_cast<std::size_t>(c)] / static_cast<double>(count);
    const T m = static_cast<T>(mu[static_cast<std::size_t>(c)]);
    const T is = static_cast<T>(1.0 / std::sqrt(var + static_cast<double>(s.eps)));
    mean[c] = m;
    invstd[c] = is;
    if (running_mean)
      running_mean[c] = static_cast<T>((1.0 - mom) * static_cast<double>(running_mean[c]) +
                                       mom * mu[static_cast<std::size_t>(c)]);
    if (running_var && count > 1) {
      const double n_ = static_cast<double>(count);
      running_var[c] = static_cast<T>((1.0 - mom) * static_cast<double>(running_var[c]) + mom * (var * n_ / (n_ - 1.0)));
    }
    const T g = gamma[c], b = beta[c];
    for (int n = 0; n < s.n; ++n) {
      const T* xp = x + plane(n, c);
      T* yp = y + plane(n, c);  // (H, W)
      const std::int64_t v = valid(n);
      for (std::int64_t i = 0; i < v; ++i) yp[i] = g * ((xp[i] - m) * is) + b;
      std::fill(yp + v, yp + hw, T(0));
    }
  }
}

template <typename T>
void batchnorm_forward_infer_cpu(const BatchNormShape& s, const T* x, const int* lengths, const T* gamma,
                                 const T* beta, const T* running_mean, const T* running_var, T* y) {
  batchnorm_check_shape(s, "batchnorm_forward_infer_cpu");
  const std::int64_t hw = static_cast<std::int64_t>(s.h) * s.w;
  for (int c = 0; c < s.c; ++c) {
    const T m = running_mean[c];
    // In T, both operations correctly rounded (as the GPU's sqrtf and division): bit-equal to it.
    const T is = T(1) / std::sqrt(running_var[c] + static_cast<T>(s.eps));
    const T g = gamma[c], b = beta[c];
    for (int n = 0; n < s.n; ++n) {
      const std::int64_t off = (static_cast<std::int64_t>(n) * s.c + c) * hw;
      const T* xp = x + off;  // (H, W)
      T* yp = y + off;
      const std::int64_t valid = static_cast<std::int64_t>(batchnorm_valid_len(s, lengths, n)) * s.w;
      for (std::int64_t i = 0; i < valid; ++i) yp[i] = g * ((xp[i] - m) * is) + b;
      std::fill(yp + valid, yp + hw, T(0));
    }
  }
}

// With x̂ = (x - mean) * invstd over the valid elements and count of them:
//   dbeta = Σ dy, dgamma = Σ dy x̂, dx = gamma * invstd * (dy - Σdy / count - x̂ * Σ(dy x̂) / count).
template <typename T>
void batchnorm_backward_cpu(const BatchNormShape& s, const T* x, const T* dy, const int* lengths, const T* gamma,
                            const T* mean, const T* invstd, T* dx, T* dgamma, T* dbeta, const RankSum* ranks) {
  batchnorm_check_shape(s, "batchnorm_backward_cpu");
  const std::int64_t hw = static_cast<std::int64_t>(s.h) * s.w;
  const auto plane = [&](int n, int c) { return (static_cast<std::int64_t>(n) * s.c + c) * hw; };
  const auto valid = [&](int n) { return static_cast<std::int64_t>(batchnorm_valid_len(s, lengths, n)) * s.w; };
  // sums (2C + 1) = per channel Σ dy, Σ dy x̂ of this slice, then the count.
  std::vector<double> sums(2 * static_cast<std::size_t>(s.c) + 1, 0.0);
  for (int c = 0; c < s.c; ++c) {
    double sdy = 0, sdyx = 0;
    for (int n = 0; n < s.n; ++n) add_grad_sums(x + plane(n, c), dy + plane(n, c), valid(n), mean[c], invstd[c], sdy, sdyx);
    // The parameter gradients take this slice's share: the gradient all-reduce adds the others.
    dgamma[c] += static_cast<T>(sdyx);
    dbeta[c] += static_cast<T>(sdy);
    sums[2 * static_cast<std::size_t>(c)] = sdy;
    sums[2 * static_cast<std::size_t>(c) + 1] = sdyx;
  }
  if (!dx) return;  // parameter gradients only (as the GPU allows)
  sums[2 * static_cast<std::size_t>(s.c)] = static_cast<double>(batchnorm_valid_count(s, lengths));
  if (ranks) ranks->sum(sums.data(), 2 * s.c + 1);  // dx needs the whole batch's sums
  const auto count = static_cast<std::int64_t>(sums[2 * static_cast<std::size_t>(s.c)]);
  for (int c = 0; c < s.c; ++c) {
    const T m = mean[c], is = invstd[c];
    T a = T(0), mdy = T(0), mdyx = T(0);
    if (count > 0) {
      a = gamma[c] * is;
      mdy = static_cast<T>(sums[2 * static_cast<std::size_t>(c)] / static_cast<double>(count));
      mdyx = static_cast<T>(sums[2 * static_cast<std::size_t>(c) + 1] / static_cast<double>(count));
    }
    for (int n = 0; n < s.n; ++n) {
      const T* xp = x + plane(n, c);
      const T* gp = dy + plane(n, c);
      T* dp = dx + plane(n, c);  // (H, W)
      const std::int64_t v = valid(n);
      for (std::int64_t i = 0; i < v; ++i) {
        const T xh = (xp[i] - m) * is;
        dp[i] = a * (gp[i] - mdy - xh * mdyx);
      }
      std::fill(dp + v, dp + hw, T(0));
    }
  }
}

#define SER_BN_INSTANTIATE(T)                                                                             \
  template void batchnorm_forward_train_cpu<T>(const BatchNormShape&, const T*, const int*, const T*,      \
                                               const T*, T*, T*, T*, T*, T*, const RankSum*);              \
  template void batchnorm_forward_infer_cpu<T>(const BatchNormShape&, const T*, const int*, const T*,      \
                                               const T*, const T*, const T*, T*);                          \
  template void batchnorm_backward_cpu<T>(const BatchNormShape&, const T*, const T*, const int*, const T*, \
                                          const T*, const T*, T*, T*, T*, const RankSum*);
SER_BN_INSTANTIATE(float)
SER_BN_INSTANTIATE(double)
#undef SER_BN_INSTANTIATE

}  // namespace ser::nn
