// src/engine/dataset.cpp — splits, normalisation statistics, padded batches, epoch order.
#include "engine/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "ser/error.hpp"
#include "ser/nn/counter_rng.hpp"

namespace ser::engine {

Split split_by_speakers(const FeatureCache& cache, const std::vector<std::string>& test,
                        const std::vector<std::string>& val, bool validation_required) {
  const std::set<std::string> all(cache.speakers.begin(), cache.speakers.end());
  std::set<std::string> t(test.begin(), test.end()), v(val.begin(), val.end());
  for (const auto* list : {&test, &val})
    for (const auto& s : *list)
      if (!all.count(s)) {
        std::string known;
        for (const auto& k : all) known += (known.empty() ? "" : ",") + k;
        throw Error("speaker '" + s + "' is not in the cache (speakers: " + known + ")");
      }
  for (const auto& s : t)
    if (v.count(s)) throw Error("speaker '" + s + "' is in both the test and the validation split");
  Split sp;
  for (std::size_t i = 0; i < cache.n_utterances(); ++i) {
    const auto& s = cache.speakers[i];
    if (t.count(s)) sp.test.push_back(static_cast<int>(i));
    else if (v.count(s)) sp.validation.push_back(static_cast<int>(i));
    else sp.train.push_back(static_cast<int>(i));
  }
  sp.test_speakers.assign(t.begin(), t.end());
  sp.validation_speakers.assign(v.begin(), v.end());
  for (const auto& s : all)
    if (!t.count(s) && !v.count(s)) sp.train_speakers.push_back(s);
  if (sp.train.empty()) throw Error("the split leaves no training utterances");
  if (sp.validation.empty() && validation_required) throw Error("the split has no validation utterances (give --val-speakers)");
  return sp;
}

Split default_split(const FeatureCache& cache, std::uint64_t seed) {
  const std::set<std::string> unique(cache.speakers.begin(), cache.speakers.end());
  std::vector<std::string> spk(unique.begin(), unique.end());
  if (spk.size() < 3) throw Error("a speaker-independent split needs at least 3 speakers, the cache has " +
                                  std::to_string(spk.size()));
  std::mt19937_64 rng(seed);
  std::shuffle(spk.begin(), spk.end(), rng);
  const std::size_t n_test = std::max<std::size_t>(1, spk.size() / 5);
  const std::size_t n_val = std::max<std::size_t>(1, spk.size() / 10);
  std::vector<std::string> test(spk.begin(), spk.begin() + static_cast<std::ptrdiff_t>(n_test));
  std::vector<std::string> val(spk.begin() + static_cast<std::ptrdiff_t>(n_test),
                               spk.begin() + static_cast<std::ptrdiff_t>(n_test + n_val));
  return split_by_speakers(cache, test, val);
}

Normalizer fit_normalizer(const FeatureCache& cache, const std::vector<int>& train) {
  const int m = cache.n_mels();
  const auto nf = cache.functional_names.size();
  std::vector<double> s(static_cast<std::size_t>(m)), s2(static_cast<std::size_t>(m));
  double frames = 0;
  for (int u : train) {
    for (std::int64_t r = cache.offsets[static_cast<std::size_t>(u)]; r < cache.offsets[static_cast<std::size_t>(u) + 1]; ++r) {
      const float* row = &cache.logmel[static_cast<std::size_t>(r * m)];
      for (int j = 0; j < m; ++j) { s[static_cast<std::size_t>(j)] += row[j]; s2[static_cast<std::size_t>(j)] += double(row[j]) * row[j]; }
      frames += 1;
    }
  }
  Normalizer n;
  for (int j = 0; j < m; ++j) {
    const double mu = s[static_cast<std::size_t>(j)] / std::max(frames, 1.0);
    const double var = s2[static_cast<std::size_t>(j)] / std::max(frames, 1.0) - mu * mu;
    n.logmel_mean.push_back(static_cast<float>(mu));
    n.logmel_std.push_back(static_cast<float>(std::max(std::sqrt(std::max(var, 0.0)), 1e-5)));
  }
  for (std::size_t j = 0; j < nf; ++j) {
    double a = 0, a2 = 0, c = 0;
    for (int u : train) {
      const double v = cache.functionals[static_cast<std::size_t>(u) * nf + j];
      if (!std::isfinite(v)) continue;
      a += v; a2 += v * v; c += 1;
    }
    const double mu = c > 0 ? a / c : 0.0;
    const double var = c > 0 ? a2 / c - mu * mu : 1.0;
    n.functional_mean.push_back(static_cast<float>(mu));
    n.functional_std.push_back(static_cast<float>(std::max(std::sqrt(std::max(var, 0.0)), 1e-5)));
  }
  return n;
}

BatchMaker::BatchMaker(const FeatureCache& cache, const Normalizer& norm, int min_frames)
    : cache_(cache), norm_(norm), min_frames_(min_frames), mels_(cache.n_mels()),
      prosody_(static_cast<int>(cache.functional_names.size())) {}

int BatchMaker::length_of(int u, int crop) const {
  const auto us = static_cast<std::size_t>(u);
  int len = static_cast<int>(cache_.offsets[us + 1] - cache_.offsets[us]);
  if (crop > 0) len = std::min(len, crop);
  return std::max(len, min_frames_);
}

void BatchMaker::make(const std::vector<int>& utts, int crop, std::uint64_t seed, HostBatch& b) const {
  b.n = static_cast<int>(utts.size());
  b.t = 0;
  b.utterances = utts;
  b.lengths.clear();
  for (int u : utts) b.lengths.push_back(length_of(u, crop));
  for (int l : b.lengths) b.t = std::max(b.t, l);
  b.x.assign(static_cast<std::size_t>(b.n) * b.t * mels_, 0.0f);
  b.prosody.assign(static_cast<std::size_t>(b.n) * std::max(prosody_, 1), 0.0f);
  b.labels.resize(static_cast<std::size_t>(b.n));
  for (int i = 0; i < b.n; ++i) {
    const auto u = static_cast<std::size_t>(utts[static_cast<std::size_t>(i)]);
    const std::int64_t begin = cache_.offsets[u], total = cache_.offsets[u + 1] - begin;
    std::int64_t take = total, start = 0;
    if (crop > 0 && total > crop) {
      take = crop;
      start = static_cast<std::int64_t>(nn::uniform01(seed, u) * static_cast<float>(total - crop + 1));
      start = std::min(start, total - crop);
    }
    float* dst = &b.x[static_cast<std::size_t>(i) * b.t * mels_];
    for (std::int64_t r = 0; r < take; ++r) {
      const float* src = &cache_.logmel[static_cast<std::size_t>((begin + start + r) * mels_)];
      for (int j = 0; j < mels_; ++j)
        dst[r * mels_ + j] = (src[j] - norm_.logmel_mean[static_cast<std::size_t>(j)]) / norm_.logmel_std[static_cast<std::size_t>(j)];
    }
    for (int j = 0; j < prosody_; ++j) {
      const float v = cache_.functionals[u * static_cast<std::size_t>(prosody_) + static_cast<std::size_t>(j)];
      const float z = (v - norm_.functional_mean[static_cast<std::size_t>(j)]) / norm_.functional_std[static_cast<std::size_t>(j)];
      // Clamped so one odd utterance (e.g. a nearly unvoiced one) cannot dominate the dense layers.
      b.prosody[static_cast<std::size_t>(i) * prosody_ + j] = std::isfinite(z) ? std::clamp(z, -8.0f, 8.0f) : 0.0f;
    }
    b.labels[static_cast<std::size_t>(i)] = cache_.labels[u];
  }
}

std::vector<std::vector<int>> epoch_batches(const std::vector<int>& indices, const BatchMaker& maker,
                                            int batch_size, int bucket_batches, int crop, std::uint64_t seed,
                                            int epoch) {
  std::vector<int> order(indices);
  std::mt19937_64 rng(nn::mix64(seed ^ nn::mix64(0xe90c0000ULL + static_cast<std::uint64_t>(epoch))));
  std::shuffle(order.begin(), order.end(), rng);
  const std::size_t window = static_cast<std::size_t>(batch_size) * bucket_batches;
  for (std::size_t w = 0; w < order.size(); w += window) {
    auto first = order.begin() + static_cast<std::ptrdiff_t>(w);
    auto last = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), w + window));
    std::stable_sort(first, last, [&](int a, int b) { return maker.length_of(a, crop) < maker.length_of(b, crop); });
  }
  std::vector<std::vector<int>> batches;
  for (std::size_t i = 0; i < order.size(); i += static_cast<std::size_t>(batch_size))
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i),
                         order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), i + static_cast<std::size_t>(batch_size))));
  std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

std::vector<std::vector<int>> eval_batches(const std::vector<int>& indices, const BatchMaker& maker,
                                           int batch_size) {
  std::vector<int> order(indices);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return maker.length_of(a, 0) < maker.length_of(b, 0); });
  std::vector<std::vector<int>> batches;
  for (std::size_t i = 0; i < order.size(); i += static_cast<std::size_t>(batch_size))
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i),
                         order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), i + static_cast<std::size_t>(batch_size))));
  return batches;
}

}  // namespace ser::engine
