// tests/nn_test_util.hpp — helpers for the training-engine op tests: random non-zero inputs, a
// central finite-difference gradient check in double precision, normalised mean squared error, and
// (CUDA builds) device arrays that start poisoned with NaN so unwritten outputs fail comparisons.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace ser::test {

// Uniform in [lo, hi) with |value| >= 0.05 * max(|lo|, |hi|) (never zero), seeded.
template <typename T>
std::vector<T> random_nonzero(std::size_t n, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  const double floor = 0.05 * std::max(std::abs(lo), std::abs(hi));
  std::vector<T> v(n);
  for (auto& x : v) {
    double d = 0;
    do d = u(rng); while (std::abs(d) < floor);
    x = static_cast<T>(d);
  }
  return v;
}

// Normalised mean squared error Σ(a-b)^2 / Σ b^2 (b is the reference), ggml's test metric.
inline double nmse(const std::vector<float>& a, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double d = static_cast<double>(a[i]) - ref[i];
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return den > 0 ? num / den : num;
}

// Central finite differences of a scalar objective f over every element of `x` (modified in place
// and restored), compared with the analytic gradient `grad`: |num - ana| <= atol + rtol * |num|.
// The objective is usually Σ r_i * y_i for a fixed random r, which makes every output count.
inline void expect_gradient_matches(const std::string& what, std::vector<double>& x,
                                    const std::vector<double>& grad,
                                    const std::function<double()>& f, double h = 1e-6,
                                    double rtol = 1e-5, double atol = 1e-7) {
  ASSERT_EQ(x.size(), grad.size()) << what;
  int failures = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + h;
    const double fp = f();
    x[i] = keep - h;
    const double fm = f();
    x[i] = keep;
    const double num = (fp - fm) / (2 * h);
    if (!(std::abs(num - grad[i]) <= atol + rtol * std::abs(num))) {
      if (++failures <= 5)
        ADD_FAILURE() << what << "[" << i << "]: analytic " << grad[i] << ", finite difference " << num;
    }
  }
  EXPECT_EQ(failures, 0) << what << ": " << failures << " of " << x.size() << " elements differ";
}

// Σ r_i * y_i, the usual objective for gradient checks.
inline double dot(const std::vector<double>& r, const std::vector<double>& y) {
  double s = 0;
  for (std::size_t i = 0; i < y.size(); ++i) s += r[i] * y[i];
  return s;
}

template <typename To, typename From>
std::vector<To> cast_vector(const std::vector<From>& v) {
  return std::vector<To>(v.begin(), v.end());
}

}  // namespace ser::test

#ifdef SER_WITH_CUDA
#include <cuda_runtime.h>

#include "../kernels/cuda_check.cuh"

namespace ser::test {

// Device copy of a host vector, or `count` elements poisoned with NaN (0xFF bytes) when made empty.
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(std::size_t count) : count_(count) {
    SER_CUDA_CHECK(cudaMalloc(&ptr_, std::max<std::size_t>(count, 1) * sizeof(T)));
    SER_CUDA_CHECK(cudaMemset(ptr_, 0xFF, std::max<std::size_t>(count, 1) * sizeof(T)));
  }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) {
    SER_CUDA_CHECK(cudaMemcpy(ptr_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  ~DeviceArray() { cudaFree(ptr_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return ptr_; }
  std::vector<T> download() const {
    SER_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> host(count_);
    SER_CUDA_CHECK(cudaMemcpy(host.data(), ptr_, count_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  T* ptr_ = nullptr;
  std::size_t count_;
};

}  // namespace ser::test
#endif
