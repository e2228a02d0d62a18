// ser/nn/loss.hpp — softmax cross-entropy fused with its gradient.
#pragma once
#include <cstdint>

#include "ser/nn/exec.hpp"

namespace ser::nn {

// What the training recipe changes about the targets (docs/training.md); the default is none.
//
// label_smoothing = eps in [0, 1): PyTorch's F.cross_entropy(weight=w, label_smoothing=eps),
//   L(y) = [(1 - eps) Σ_n w[y_n] (-log p_n[y_n]) + (eps / K) Σ_n Σ_j w[j] (-log p_n[j])] / Σ_n w[y_n].
//   Its gradient is scale_n (p_n - q_n) with the row's target
//   q_n[j] = ((1 - eps) w[y_n] [j = y_n] + (eps / K) w[j]) / ((1 - eps) w[y_n] + (eps / K) Σ_j w[j])
//   and scale_n = ((1 - eps) w[y_n] + (eps / K) Σ_j w[j]) / Σ_n w[y_n].
// mix_labels (N) and mix_lambda in [0, 1]: mixup (Zhang et al. 2018) as its reference code writes
//   it, loss = mix_lambda L(labels) + (1 - mix_lambda) L(mix_labels), each L normalised by its own
//   label weights; the gradient is the same mixture. mix_labels lives where labels does (host for
//   the CPU, device for the GPU); nullptr = no mixup.
// weight_sum, mix_weight_sum > 0 (data parallel, CPU only): the normalisers Σ_n w[y_n] of labels and
//   mix_labels over the whole global batch, of which these rows are one rank's slice. The loss and
//   gradient returned are then this slice's share of the global batch's, and the ranks' shares add
//   up to it. 0 = this batch's own sums.
// With none of these, the arithmetic is the plain loss's, bit for bit.
struct XentTargets {
  double label_smoothing = 0.0;
  const std::int32_t* mix_labels = nullptr;
  double mix_lambda = 1.0;
  double weight_sum = 0.0;
  double mix_weight_sum = 0.0;
};

// logits (N, K), labels (N) in [0, K), class_weights (K) or nullptr (all 1).
// loss = Σ_n w[y_n] * (-log softmax(logits_n)[y_n]) / Σ_n w[y_n]   (PyTorch's weighted mean)
// dlogits (N, K) = overwrite, the gradient of that loss: w[y_n] * (p_n - onehot(y_n)) / Σ w[y_n];
// may be nullptr (evaluation). probs (N, K) = softmax(logits) when not nullptr. `targets` smooths
// or mixes the targets (above).
// Returns the loss (the GPU version synchronises on its stream to read it back).
// A label outside [0, K) throws ser::Error (CPU) / is reported as an error (GPU); so does a target
// option outside its range.
template <typename T>
double softmax_xent_cpu(int n, int k, const T* logits, const std::int32_t* labels,
                        const T* class_weights, T* dlogits, T* probs, const XentTargets& targets = {});
double softmax_xent(const ExecContext&, int n, int k, const float* logits,
                    const std::int32_t* labels, const float* class_weights, float* dlogits,
                    float* probs, const XentTargets& targets = {});

}  // namespace ser::nn
