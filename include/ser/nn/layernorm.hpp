// ser/nn/layernorm.hpp — layer normalisation of each token over its D features, with a time mask
// (the pre-norm of the self-attention block, src/nn/layers/attention_layers.hpp).
//
// x, y (N, T, D); rows r = (n, t) with t < lengths[n] (nullptr: all T) are normalised:
//   mean_r = Σ_i x_ri / D,  var_r = Σ_i (x_ri - mean_r)² / D (biased, as torch.nn.LayerNorm),
//   rstd_r = 1 / sqrt(var_r + eps),  y_ri = (x_ri - mean_r) rstd_r gamma_i + beta_i.
// Rows t >= lengths[n] are masked: y = 0 and the saved mean = rstd = 0, so padding never reaches
// the projections after it. mean, rstd (N, T) are saved for backward. gamma, beta (D).
//
// Backward, per valid row with x̂ = (x - mean) rstd and g = dy ⊙ gamma:
//   dx = rstd (g - mean_i(g) - x̂ mean_i(g ⊙ x̂)),  dgamma += Σ_r dy ⊙ x̂,  dbeta += Σ_r dy;
// masked rows get dx = 0 and add nothing. Activation gradients overwrite, parameter gradients
// accumulate (ser/nn/README.md).
#pragma once

#include "ser/nn/exec.hpp"

namespace ser::nn {

constexpr float kLayerNormEps = 1e-5f;  // torch.nn.LayerNorm's and ONNX LayerNormalization's default

template <typename T>
void layer_norm_forward_cpu(int n, int t, int d, float eps, const T* x, const T* gamma, const T* beta,
                            const int* lengths, T* y, T* mean, T* rstd);
template <typename T>
void layer_norm_backward_cpu(int n, int t, int d, const T* x, const T* gamma, const T* mean, const T* rstd,
                             const T* dy, const int* lengths, T* dx, T* dgamma, T* dbeta);

void layer_norm_forward(const ExecContext&, int n, int t, int d, float eps, const float* x, const float* gamma,
                        const float* beta, const int* lengths, float* y, float* mean, float* rstd);
void layer_norm_backward(const ExecContext&, int n, int t, int d, const float* x, const float* gamma,
                         const float* mean, const float* rstd, const float* dy, const int* lengths, float* dx,
                         float* dgamma, float* dbeta);

}  // namespace ser::nn
