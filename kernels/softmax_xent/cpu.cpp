// kernels/softmax_xent/cpu.cpp — CPU twin of the softmax cross-entropy fused with its gradient
// (ser/nn/loss.hpp), the oracle of cuda.cu.
//
// Every row is computed in double whatever T is (stable log-sum-exp around the row maximum); T is
// only the storage type of the inputs and outputs. Labels are checked before anything is written.
// n = 0 returns 0 and writes nothing. If the weights of the batch's labels sum to 0 the loss is
// 0/0 = NaN, as in PyTorch. Label smoothing and mixup follow ser/nn/loss.hpp; without them the
// arithmetic is the plain loss's (scale = w_y / Σw, q = the one-hot), so the same bits come out.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "ser/error.hpp"
#include "ser/nn/loss.hpp"
#include "softmax_xent/shape.hpp"

namespace ser::nn {

void softmax_xent_check(int n, int k, const XentTargets& targets, const char* who) {
  if (n < 0 || k < 1)
    throw Error(std::string(who) + ": bad shape (N " + std::to_string(n) + ", K " + std::to_string(k) +
                "): N must be >= 0 and K >= 1");
  if (!(targets.label_smoothing >= 0.0 && targets.label_smoothing < 1.0))
    throw Error(std::string(who) + ": label smoothing " + std::to_string(targets.label_smoothing) +
                " is outside [0, 1)");
  if (targets.mix_labels && !(targets.mix_lambda >= 0.0 && targets.mix_lambda <= 1.0))
    throw Error(std::string(who) + ": mixup weight " + std::to_string(targets.mix_lambda) + " is outside [0, 1]");
  if (targets.weight_sum < 0 || targets.mix_weight_sum < 0)
    throw Error(std::string(who) + ": a global weight sum is negative");
}

namespace {

void check_labels(int n, int k, const std::int32_t* labels, const char* what) {
  for (int r = 0; r < n; ++r)
    if (labels[r] < 0 || labels[r] >= k)
      throw Error(std::string("softmax_xent: ") + what + " " + std::to_string(labels[r]) + " of row " +
                  std::to_string(r) + " is outside [0, " + std::to_string(k) + ")");
}

}  // namespace

template <typename T>
double softmax_xent_cpu(int n, int k, const T* logits, const std::int32_t* labels, const T* class_weights,
                        T* dlogits, T* probs, const XentTargets& targets) {
  softmax_xent_check(n, k, targets, "softmax_xent_cpu");
  check_labels(n, k, labels, "label");
  const std::int32_t* mix = targets.mix_labels;
  if (mix) check_labels(n, k, mix, "mixup label");
  if (n == 0) return 0.0;
  const auto weight = [&](int j) { return class_weights ? static_cast<double>(class_weights[j]) : 1.0; };
  double wsum = 0, mix_wsum = 0;  // Σ_n w[y_n], the normalisers of the two label sets
  for (int r = 0; r < n; ++r) wsum += weight(labels[r]);
  if (mix)
    for (int r = 0; r < n; ++r) mix_wsum += weight(mix[r]);
  if (targets.weight_sum > 0) wsum = targets.weight_sum;  // a data-parallel slice of a larger batch
  if (targets.mix_weight_sum > 0) mix_wsum = targets.mix_weight_sum;
  const double eps = targets.label_smoothing, keep = 1.0 - eps, spread = eps / k;
  const double lambda = mix ? targets.mix_lambda : 1.0;
  double class_wsum = 0;  // Σ_j w[j], the smoothing term's total weight
  if (eps > 0)
    for (int j = 0; j < k; ++j) class_wsum += weight(j);
  double num = 0, mix_num = 0;
  for (int r = 0; r < n; ++r) {
    const std::int64_t off = static_cast<std::int64_t>(r) * k;
    const T* z = logits + off;  // (K)
    double mx = static_cast<double>(z[0]);
    for (int j = 1; j < k; ++j) mx = std::max(mx, static_cast<double>(z[j]));
    double se = 0;
    for (int j = 0; j < k; ++j) se += std::exp(static_cast<double>(z[j]) - mx);
    const double lse = std::log(se);  // log Σ exp(z - mx)
    double smooth = 0;                // Σ_j w[j] (-log p[j])
    if (eps > 0)
      for (int j = 0; j < k; ++j) smooth += weight(j) * (lse - (static_cast<double>(z[j]) - mx));
    // The row's weighted (smoothed) loss for label y.
    const auto row_loss = [&](int y) {
      const double wy = weight(y);
      const double nll = lse - (static_cast<double>(z[y]) - mx);
      return eps > 0 ? keep * wy * nll + spread * smooth : wy * nll;
    };
    num += row_loss(labels[r]);
    if (mix) mix_num += row_loss(mix[r]);
    if (!probs && !dlogits) continue;
    // The row's share of the gradient of L(y): scale (p - q), scale = row weight / den.
    struct RowTarget {
      int y;
      double wy, row_weight, scale;
    };
    const auto target_of = [&](int y, double den) {
      const double wy = weight(y), row_weight = eps > 0 ? keep * wy + spread * class_wsum : wy;
      return RowTarget{y, wy, row_weight, row_weight / den};
    };
    const auto grad = [&](const RowTarget& t, int j, double p) {
      const double q = eps > 0 ? (keep * t.wy * (j == t.y ? 1.0 : 0.0) + spread * weight(j)) / t.row_weight
                               : (j == t.y ? 1.0 : 0.0);
      return t.scale * (p - q);
    };
    const RowTarget ta = target_of(labels[r], wsum);
    const RowTarget tb = mix ? target_of(mix[r], mix_wsum) : ta;
    for (int j = 0; j < k; ++j) {
      const double p = std::exp(static_cast<double>(z[j]) - mx) / se;
      if (probs) probs[off + j] = static_cast<T>(p);
      if (!dlogits) continue;
      dlogits[off + j] =
          static_cast<T>(mix ? lambda * grad(ta, j, p) + (1.0 - lambda) * grad(tb, j, p) : grad(ta, j, p));
    }
  }
  return mix ? lambda * (num / wsum) + (1.0 - lambda) * (mix_num / mix_wsum) : num / wsum;
}

template double softmax_xent_cpu<float>(int, int, const float*, const std::int32_t*, const float*, float*, float*,
                                        const XentTargets&);
template double softmax_xent_cpu<double>(int, int, const double*, const std::int32_t*, const double*, double*,
                                         double*, const XentTargets&);

}  // namespace ser::nn
