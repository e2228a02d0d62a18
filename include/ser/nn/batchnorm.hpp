// ser/nn/batchnorm.hpp — batch normalisation over channels of an (N, C, H, W) map, as PyTorch's
// BatchNorm2d, except that statistics cover only valid time steps (h < lengths[n]), so padding never
// changes them, and outputs at padded steps are 0 (masked).
#pragma once
#include "ser/nn/exec.hpp"

namespace ser::nn {

struct BatchNormShape {
  int n = 1, c = 1, h = 1, w = 1;  // (N, C, H, W); H = time
  float eps = 1e-5f;
  float momentum = 0.1f;  // running = (1 - momentum) * running + momentum * batch (PyTorch's)
};

// Training: per channel, mean and biased variance over valid (n, h, w); y = gamma * (x - mean) *
// invstd + beta at valid positions, 0 elsewhere. Saves mean (C) and invstd (C) = 1/sqrt(var + eps)
// for backward; updates running_mean (C) and running_var (C, with the unbiased variance) when they
// are not nullptr. A channel with no valid element leaves its statistics alone and outputs 0.
// `ranks` (data parallel): x is this rank's slice of the global batch; the statistics are those of
// the whole batch (sums and counts added over the ranks).
template <typename T>
void batchnorm_forward_train_cpu(const BatchNormShape& s, const T* x, const int* lengths,
                                 const T* gamma, const T* beta, T* y, T* mean, T* invstd,
                                 T* running_mean, T* running_var, const RankSum* ranks = nullptr);
// Inference: running statistics; masked the same way.
template <typename T>
void batchnorm_forward_infer_cpu(const BatchNormShape& s, const T* x, const int* lengths,
                                 const T* gamma, const T* beta, const T* running_mean,
                                 const T* running_var, T* y);
// dx (N, C, H, W) = overwrite (0 at padded steps); dgamma (C) += ; dbeta (C) += . With `ranks`, dx
// uses the whole batch's Σ dy and Σ dy x̂, and dgamma/dbeta get this slice's share only.
template <typename T>
void batchnorm_backward_cpu(const BatchNormShape& s, const T* x, const T* dy, const int* lengths,
                            const T* gamma, const T* mean, const T* invstd, T* dx, T* dgamma,
                            T* dbeta, const RankSum* ranks = nullptr);

void batchnorm_forward_train(const ExecContext& ctx, const BatchNormShape& s, const float* x,
                             const int* lengths, const float* gamma, const float* beta, float* y,
                             float* mean, float* invstd, float* running_mean, float* running_var);
void batchnorm_forward_infer(const ExecContext& ctx, const BatchNormShape& s, const float* x,
                             const int* lengths, const float* gamma, const float* beta,
                             const float* running_mean, const float* running_var, float* y);
void batchnorm_backward(const ExecContext& ctx, const BatchNormShape& s, const float* x,
                        const float* dy, const int* lengths, const float* gamma, const float* mean,
                        const float* invstd, float* dx, float* dgamma, float* dbeta);

}  // namespace ser::nn
