// ser/nn/optim_ops.hpp — the elementwise parts of the optimizer over the one flat parameter buffer:
// Adam / AdamW update, global gradient norm, gradient scaling.
#pragma once
#include <cstdint>

#include "ser/nn/exec.hpp"

namespace ser::nn {

struct AdamStep {
  float lr = 1e-3f;
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float weight_decay = 0.0f;
  bool decoupled = true;  // true: AdamW (p -= lr * wd * p); false: Adam with L2 (g += wd * p)
  std::int64_t step = 1;  // 1-based, for bias correction
};

// Over count elements: params, m, v updated in place from grads (PyTorch's Adam/AdamW formulas:
// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)).
// decay_mask (count) or nullptr: weight decay applies where it is non-zero (not to biases and norms).
// AdamW's decay is applied as p *= (1 - lr * wd), PyTorch's form.
template <typename T>
void adam_update_cpu(std::int64_t count, const AdamStep& h, T* params, const T* grads, T* m, T* v,
                     const std::uint8_t* decay_mask);
void adam_update(const ExecContext&, std::int64_t count, const AdamStep& h, float* params,
                 const float* grads, float* m, float* v, const std::uint8_t* decay_mask);

// Σ g^2 over count elements, accumulated in double (the GPU: per-block partials in double, then one
// block sums them in a fixed order, so the result is deterministic). The GPU version synchronises
// to return it. workspace: see below.
template <typename T> double sum_squares_cpu(std::int64_t count, const T* g);
std::size_t sum_squares_workspace_bytes(const ExecContext&, std::int64_t count);
double sum_squares(const ExecContext&, std::int64_t count, const float* g, void* workspace);

// g *= factor (gradient clipping).
template <typename T> void scale_cpu(std::int64_t count, T factor, T* g);
void scale(const ExecContext&, std::int64_t count, float factor, float* g);

// x = 0 over count elements (gradient buffers before a step).
void zero(const ExecContext&, std::int64_t count, float* x);

}  // namespace ser::nn
