// kernels/optim/adam_math.hpp — the Adam/AdamW element update shared by the CPU twin (cpu.cpp)
// and the CUDA kernel (cuda.cu), so both run the same operations in the same order. On the device
// every operation is an explicitly rounded intrinsic, which keeps nvcc from contracting a*b + c into
// an FMA (the CPU build never contracts: ISO C++ mode, -ffp-contract=off);
// the float results then agree bit for bit.
//
// PyTorch's torch.optim.Adam / AdamW (single-tensor path), with step t:
//   Adam + L2:  g <- g + wd * p                   AdamW:  p <- p * (1 - lr * wd)
//   m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
//   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Scalars (1 - b1, lr / (1 - b1^t), ...) are computed in double on the host, as Python does, then
// rounded to T once.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

#include "ser/error.hpp"
#include "ser/host_device.hpp"
#include "ser/nn/optim_ops.hpp"

namespace ser::nn::adam {

template <typename T>
struct Constants {
  T beta1, one_minus_beta1, beta2, one_minus_beta2, eps;
  T weight_decay;   // Adam + L2 coefficient
  T decay_factor;   // AdamW: 1 - lr * wd
  T step_size;      // lr / (1 - b1^t)
  T bias2_sqrt;     // sqrt(1 - b2^t)
  bool decoupled;
  bool decay;       // weight_decay != 0
};

// Validates the hyperparameters (PyTorch's checks) and derives the per-step scalars.
template <typename T>
Constants<T> constants(const AdamStep& h) {
  auto bad = [](const std::string& what) { return Error("adam_update: " + what); };
  if (!(h.lr >= 0.0f)) throw bad("lr must be >= 0, found " + std::to_string(h.lr));
  if (!(h.beta1 >= 0.0f && h.beta1 < 1.0f)) throw bad("beta1 must be in [0, 1), found " + std::to_string(h.beta1));
  if (!(h.beta2 >= 0.0f && h.beta2 < 1.0f)) throw bad("beta2 must be in [0, 1), found " + std::to_string(h.beta2));
  if (!(h.eps >= 0.0f)) throw bad("eps must be >= 0, found " + std::to_string(h.eps));
  if (!(h.weight_decay >= 0.0f)) throw bad("weight_decay must be >= 0, found " + std::to_string(h.weight_decay));
  if (h.step < 1) throw bad("step is 1-based, found " + std::to_string(h.step));
  const double b1 = h.beta1, b2 = h.beta2, lr = h.lr, wd = h.weight_decay, t = static_cast<double>(h.step);
  Constants<T> k{};
  k.beta1 = static_cast<T>(b1);
  k.one_minus_beta1 = static_cast<T>(1.0 - b1);
  k.beta2 = static_cast<T>(b2);
  k.one_minus_beta2 = static_cast<T>(1.0 - b2);
  k.eps = static_cast<T>(h.eps);
  k.weight_decay = static_cast<T>(wd);
  k.decay_factor = static_cast<T>(1.0 - lr * wd);
  k.step_size = static_cast<T>(lr / (1.0 - std::pow(b1, t)));
  k.bias2_sqrt = static_cast<T>(std::sqrt(1.0 - std::pow(b2, t)));
  k.decoupled = h.decoupled;
  k.decay = h.weight_decay != 0.0f;
  return k;
}

// Correctly rounded single operations.
SER_HD float mul(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
SER_HD float add(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
SER_HD float sub(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
SER_HD float div(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}
SER_HD float root(float a) {
#ifdef __CUDA_ARCH__
  return __fsqrt_rn(a);
#else
  return std::sqrt(a);
#endif
}
// double: the CPU twin only (gradient checks and references).
inline double mul(double a, double b) { return a * b; }
inline double add(double a, double b) { return a + b; }
inline double sub(double a, double b) { return a - b; }
inline double div(double a, double b) { return a / b; }
inline double root(double a) { return std::sqrt(a); }

// One parameter. decay: weight decay applies to this element (k.decay and its mask bit).
template <typename T>
SER_HD void update(const Constants<T>& k, bool decay, T& p, T g, T& m, T& v) {
  if (decay) {
    if (k.decoupled) p = mul(p, k.decay_factor);
    else g = add(g, mul(k.weight_decay, p));
  }
  m = add(mul(k.beta1, m), mul(k.one_minus_beta1, g));
  v = add(mul(k.beta2, v), mul(k.one_minus_beta2, mul(g, g)));
  const T denom = add(div(root(v), k.bias2_sqrt), k.eps);
  p = sub(p, mul(k.step_size, div(m, denom)));
}

}  // namespace ser::nn::adam
