// src/train/data_parallel.cpp — slicing a global batch between ranks, its loss normalisers, and the
// per-step communication volume (train/data_parallel.hpp).
#include "train/data_parallel.hpp"

#include <algorithm>
#include <string>
#include <type_traits>

#include "ser/error.hpp"

namespace ser::train {

RankSlice slice_of(int n, int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks) throw Error("rank " + std::to_string(rank) + " of " + std::to_string(ranks));
  const auto at = [&](int r) { return static_cast<int>(static_cast<std::int64_t>(n) * r / ranks); };
  return RankSlice{at(rank), at(rank + 1) - at(rank)};
}

engine::HostBatch take_rows(const engine::HostBatch& g, RankSlice s) {
  engine::HostBatch b;
  b.n = s.count;
  b.t = g.t;
  const auto rows = [&](const auto& v, std::size_t width) {
    using V = std::decay_t<decltype(v)>;
    if (v.empty()) return V{};
    return V(v.begin() + static_cast<std::ptrdiff_t>(s.first * width),
             v.begin() + static_cast<std::ptrdiff_t>((s.first + s.count) * width));
  };
  const std::size_t n = static_cast<std::size_t>(g.n);
  b.utterances = rows(g.utterances, 1);
  b.lengths = rows(g.lengths, 1);
  b.x = rows(g.x, g.x.size() / n);              // (count, 1, t, n_mels)
  b.prosody = rows(g.prosody, g.prosody.size() / n);  // (count, n_functionals)
  b.labels = rows(g.labels, 1);
  b.mix_labels = rows(g.mix_labels, 1);
  b.mix_lambda = g.mix_lambda;
  return b;
}

WeightSums weight_sums(const engine::HostBatch& g, const std::vector<float>& w) {
  WeightSums s;
  for (int y : g.labels) s.labels += static_cast<double>(w[static_cast<std::size_t>(y)]);
  for (int y : g.mix_labels) s.mix_labels += static_cast<double>(w[static_cast<std::size_t>(y)]);
  return s;
}

std::vector<std::vector<int>> shareable_batches(std::vector<std::vector<int>> batches, int ranks) {
  std::erase_if(batches, [&](const std::vector<int>& b) { return static_cast<int>(b.size()) < ranks; });
  return batches;
}

std::int64_t batches_per_epoch(std::size_t utterances, int batch_size, int ranks) {
  const auto n = static_cast<std::int64_t>(utterances);
  const std::int64_t b = batch_size;
  return n / b + (n % b >= std::max(ranks, 1) ? 1 : 0);
}

std::int64_t bytes_summed_per_step(const nn::Model<float>& model) {
  std::int64_t bn_values = 0;
  for (const auto& e : model.state_table().entries()) {
    const std::string suffix = ".running_mean";
    if (e.name.size() > suffix.size() && e.name.compare(e.name.size() - suffix.size(), suffix.size(), suffix) == 0)
      bn_values += (e.count() + 1) + e.count() + (2 * e.count() + 1);  // Σx and count, Σ(x-μ)², Σdy Σdyx̂ and count
  }
  return 4 * model.param_table().total() + 8 * bn_values + 8;  // + the loss
}

}  // namespace ser::train
