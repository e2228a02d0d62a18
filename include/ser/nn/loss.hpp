// ser/nn/loss.hpp — softmax cross-entropy fused with its gradient.
#pragma once
#include <cstdint>

#include "ser/nn/exec.hpp"

namespace ser::nn {

// logits (N, K), labels (N) in [0, K), class_weights (K) or nullptr (all 1).
// loss = Σ_n w[y_n] * (-log softmax(logits_n)[y_n]) / Σ_n w[y_n]   (PyTorch's weighted mean)
// dlogits (N, K) = overwrite, the gradient of that loss: w[y_n] * (p_n - onehot(y_n)) / Σ w[y_n];
// may be nullptr (evaluation). probs (N, K) = softmax(logits) when not nullptr.
// Returns the loss (the GPU version synchronises on its stream to read it back).
// A label outside [0, K) throws ser::Error (CPU) / is reported as an error (GPU).
template <typename T>
double softmax_xent_cpu(int n, int k, const T* logits, const std::int32_t* labels,
                        const T* class_weights, T* dlogits, T* probs);
double softmax_xent(const ExecContext&, int n, int k, const float* logits,
                    const std::int32_t* labels, const float* class_weights, float* dlogits,
                    float* probs);

}  // namespace ser::nn
