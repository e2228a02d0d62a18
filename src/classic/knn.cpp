// k-nearest-neighbour baseline: Euclidean distance on standardised features, majority vote.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "classic/models.hpp"
#include "ser/error.hpp"

namespace ser::classic::detail {

int argmax(const std::vector<double>& scores) {
  int best = 0;
  for (std::size_t c = 1; c < scores.size(); ++c)
    if (scores[c] > scores[static_cast<std::size_t>(best)]) best = static_cast<int>(c);
  return best;
}

Neighbours nearest_neighbours(const FeatureMatrix& x, const std::vector<int>& reference,
                              const std::vector<int>& query, int k_max) {
  if (reference.empty()) throw Error("knn: no reference rows");
  Neighbours nb;
  nb.k_max = std::min<int>(k_max, static_cast<int>(reference.size()));
  const auto k = static_cast<std::size_t>(nb.k_max), cols = static_cast<std::size_t>(x.cols);
  nb.position.resize(query.size() * k);
  nb.distance.resize(query.size() * k);
  std::vector<double> d2(reference.size());
  std::vector<int> order(reference.size());
  for (std::size_t q = 0; q < query.size(); ++q) {
    const double* a = &x.data[static_cast<std::size_t>(query[q]) * cols];
    for (std::size_t r = 0; r < reference.size(); ++r) {
      const double* b = &x.data[static_cast<std::size_t>(reference[r]) * cols];
      double s = 0.0;
      for (std::size_t j = 0; j < cols; ++j) s += (a[j] - b[j]) * (a[j] - b[j]);
      d2[r] = s;
    }
    std::iota(order.begin(), order.end(), 0);
    // (distance, position) is a strict total order: equal distances keep the reference order.
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(), [&](int i, int j) {
      const double di = d2[static_cast<std::size_t>(i)], dj = d2[static_cast<std::size_t>(j)];
      return di < dj || (di == dj && i < j);
    });
    for (std::size_t i = 0; i < k; ++i) {
      nb.position[q * k + i] = order[i];
      nb.distance[q * k + i] = std::sqrt(d2[static_cast<std::size_t>(order[i])]);
    }
  }
  return nb;
}

Prediction knn_vote(const Neighbours& nb, const std::vector<int>& reference_labels, int k, int n_classes) {
  if (k < 1) throw Error(std::string("knn: k must be at least 1, got ").append(std::to_string(k)));
  const int used = std::min(k, nb.k_max);
  const auto stride = static_cast<std::size_t>(nb.k_max);
  const std::size_t n = stride > 0 ? nb.position.size() / stride : 0;
  Prediction out;
  std::vector<int> votes(static_cast<std::size_t>(n_classes));
  std::vector<double> distance_sum(static_cast<std::size_t>(n_classes));
  for (std::size_t q = 0; q < n; ++q) {
    std::fill(votes.begin(), votes.end(), 0);
    std::fill(distance_sum.begin(), distance_sum.end(), 0.0);
    for (int i = 0; i < used; ++i) {
      const auto c = static_cast<std::size_t>(reference_labels[static_cast<std::size_t>(nb.position[q * stride + static_cast<std::size_t>(i)])]);
      ++votes[c];
      distance_sum[c] += nb.distance[q * stride + static_cast<std::size_t>(i)];
    }
    int best = 0;
    for (int c = 1; c < n_classes; ++c) {
      const auto cs = static_cast<std::size_t>(c), bs = static_cast<std::size_t>(best);
      if (votes[cs] > votes[bs] || (votes[cs] == votes[bs] && distance_sum[cs] < distance_sum[bs])) best = c;
    }
    std::vector<double> score(static_cast<std::size_t>(n_classes));
    for (std::size_t c = 0; c < score.size(); ++c) score[c] = static_cast<double>(votes[c]) / used;
    out.label.push_back(best);
    out.scores.push_back(std::move(score));
  }
  return out;
}

}  // namespace ser::classic::detail
