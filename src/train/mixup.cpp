// src/train/mixup.cpp — mixup of a host batch (mixup.hpp).
#include "train/mixup.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>
#include <vector>

#include "ser/error.hpp"
#include "ser/nn/counter_rng.hpp"

namespace ser::train {

namespace {

// Draw k of `seed`, uniform in the open interval (0, 1) with 53 random bits.
double uniform_open(std::uint64_t seed, std::uint64_t k) {
  return (static_cast<double>(nn::mix64(seed ^ nn::mix64(k)) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

// A standard normal (Box-Muller) from draws k and k + 1.
double normal(std::uint64_t seed, std::uint64_t& k) {
  const double u1 = uniform_open(seed, k++), u2 = uniform_open(seed, k++);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// Gamma(a, 1) for a >= 1, Marsaglia and Tsang's squeeze-free rejection.
double gamma_at_least_one(double a, std::uint64_t seed, std::uint64_t& k) {
  const double d = a - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = normal(seed, k);
    double v = 1.0 + c * x;
    if (v <= 0.0) continue;
    v = v * v * v;
    const double u = uniform_open(seed, k++);
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

double gamma(double a, std::uint64_t seed, std::uint64_t& k) {
  if (a >= 1.0) return gamma_at_least_one(a, seed, k);
  const double g = gamma_at_least_one(a + 1.0, seed, k);
  return g * std::pow(uniform_open(seed, k++), 1.0 / a);
}

}  // namespace

double beta_symmetric(double alpha, std::uint64_t seed) {
  if (!(alpha > 0.0)) throw Error("mixup: alpha must be > 0, found " + std::to_string(alpha));
  std::uint64_t k = 0;
  const double g1 = gamma(alpha, seed, k), g2 = gamma(alpha, seed, k);
  // Both underflow only for tiny alpha, where Beta(alpha, alpha) sits at 0 or 1 with equal odds.
  if (!(g1 + g2 > 0.0)) return uniform_open(seed, k) < 0.5 ? 0.0 : 1.0;
  return g1 / (g1 + g2);
}

void mixup(engine::HostBatch& b, double alpha, std::uint64_t seed) {
  const double lambda = beta_symmetric(alpha, seed);
  const auto n = static_cast<std::size_t>(b.n);
  // The partners: a Fisher-Yates permutation of the rows from its own stream.
  std::vector<std::size_t> partner(n);
  std::iota(partner.begin(), partner.end(), std::size_t{0});
  const std::uint64_t perm_seed = nn::mix64(seed ^ 0x9e77a11eULL);
  for (std::size_t i = n; i > 1; --i) {
    const auto j = static_cast<std::size_t>(uniform_open(perm_seed, i) * static_cast<double>(i));
    std::swap(partner[i - 1], partner[std::min(j, i - 1)]);
  }
  const auto mix_rows = [&](std::vector<float>& v, std::size_t row) {  // v: (n, row)
    if (row == 0) return;
    const std::vector<float> own = v;
    const auto l = static_cast<float>(lambda), r = static_cast<float>(1.0 - lambda);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t e = 0; e < row; ++e) v[i * row + e] = l * own[i * row + e] + r * own[partner[i] * row + e];
  };
  mix_rows(b.x, n ? b.x.size() / n : 0);
  mix_rows(b.prosody, n ? b.prosody.size() / n : 0);
  const std::vector<int> lengths = b.lengths;
  b.mix_labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    b.lengths[i] = std::max(lengths[i], lengths[partner[i]]);
    b.mix_labels[i] = b.labels[partner[i]];
  }
  b.mix_lambda = static_cast<float>(lambda);
}

}  // namespace ser::train
