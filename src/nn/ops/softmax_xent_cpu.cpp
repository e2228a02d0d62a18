// src/nn/ops/softmax_xent_cpu.cpp — CPU twin of the softmax cross-entropy fused with its gradient
// (ser/nn/loss.hpp), the oracle of kernels/softmax_xent.cu.
//
// Every row is computed in double whatever T is (stable log-sum-exp around the row maximum); T is
// only the storage type of the inputs and outputs. Labels are checked before anything is written.
// n = 0 returns 0 and writes nothing. If the weights of the batch's labels sum to 0 the loss is
// 0/0 = NaN, as in PyTorch.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "ser/error.hpp"
#include "ser/nn/loss.hpp"

namespace ser::nn {

void softmax_xent_check(int n, int k, const char* who) {
  if (n < 0 || k < 1)
    throw Error(std::string(who) + ": bad shape (N " + std::to_string(n) + ", K " + std::to_string(k) +
                "): N must be >= 0 and K >= 1");
}

template <typename T>
double softmax_xent_cpu(int n, int k, const T* logits, const std::int32_t* labels, const T* class_weights,
                        T* dlogits, T* probs) {
  softmax_xent_check(n, k, "softmax_xent_cpu");
  for (int r = 0; r < n; ++r)
    if (labels[r] < 0 || labels[r] >= k)
      throw Error("softmax_xent: label " + std::to_string(labels[r]) + " of row " + std::to_string(r) +
                  " is outside [0, " + std::to_string(k) + ")");
  if (n == 0) return 0.0;
  double wsum = 0;
  for (int r = 0; r < n; ++r) wsum += class_weights ? static_cast<double>(class_weights[labels[r]]) : 1.0;
  double num = 0;
  for (int r = 0; r < n; ++r) {
    const std::int64_t off = static_cast<std::int64_t>(r) * k;
    const T* z = logits + off;  // (K)
    double mx = static_cast<double>(z[0]);
    for (int j = 1; j < k; ++j) mx = std::max(mx, static_cast<double>(z[j]));
    double se = 0;
    for (int j = 0; j < k; ++j) se += std::exp(static_cast<double>(z[j]) - mx);
    const int y = labels[r];
    const double wr = class_weights ? static_cast<double>(class_weights[y]) : 1.0;
    num += wr * (std::log(se) - (static_cast<double>(z[y]) - mx));
    const double scale = wr / wsum;
    if (!probs && !dlogits) continue;
    for (int j = 0; j < k; ++j) {
      const double p = std::exp(static_cast<double>(z[j]) - mx) / se;
      if (probs) probs[off + j] = static_cast<T>(p);
      if (dlogits) dlogits[off + j] = static_cast<T>(scale * (p - (j == y ? 1.0 : 0.0)));
    }
  }
  return num / wsum;
}

template double softmax_xent_cpu<float>(int, int, const float*, const std::int32_t*, const float*, float*, float*);
template double softmax_xent_cpu<double>(int, int, const double*, const std::int32_t*, const double*, double*,
                                         double*);

}  // namespace ser::nn
