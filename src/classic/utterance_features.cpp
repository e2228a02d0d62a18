// Utterance feature vectors for the classic baselines: MFCC statistics from the cache's log-mel
// frames, then the cache's prosodic functionals (include/ser/classic.hpp gives the column order).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "ser/classic.hpp"
#include "ser/error.hpp"

namespace ser::classic {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kDeltaWindow = 2;  // regression over +-2 frames

// Orthonormal DCT-II basis, (n_out, n_in): row k is s_k cos(pi k (2m + 1) / (2 n_in)).
std::vector<double> dct2_basis(int n_out, int n_in) {
  std::vector<double> basis(static_cast<std::size_t>(n_out) * static_cast<std::size_t>(n_in));
  for (int k = 0; k < n_out; ++k) {
    const double scale = std::sqrt((k == 0 ? 1.0 : 2.0) / n_in);
    for (int m = 0; m < n_in; ++m)
      basis[static_cast<std::size_t>(k) * static_cast<std::size_t>(n_in) + static_cast<std::size_t>(m)] =
          scale * std::cos(kPi * k * (2.0 * m + 1.0) / (2.0 * n_in));
  }
  return basis;
}

// Kaldi/HTK deltas: d_t = sum_{n=1..N} n (c_{t+n} - c_{t-n}) / (2 sum n^2), frames beyond the edges
// replaced by the edge frame. c, d: (t, n).
void deltas(const std::vector<double>& c, int t, int n, std::vector<double>& d) {
  d.assign(c.size(), 0.0);
  double denom = 0.0;
  for (int k = 1; k <= kDeltaWindow; ++k) denom += 2.0 * k * k;
  for (int f = 0; f < t; ++f) {
    double* out = &d[static_cast<std::size_t>(f) * static_cast<std::size_t>(n)];
    for (int k = 1; k <= kDeltaWindow; ++k) {
      const int ahead = std::min(f + k, t - 1), behind = std::max(f - k, 0);
      const double* a = &c[static_cast<std::size_t>(ahead) * static_cast<std::size_t>(n)];
      const double* b = &c[static_cast<std::size_t>(behind) * static_cast<std::size_t>(n)];
      for (int j = 0; j < n; ++j) out[j] += k * (a[j] - b[j]);
    }
    for (int j = 0; j < n; ++j) out[j] /= denom;
  }
}

// Population mean and std of each column of v (t, n) into mean_out[j], std_out[j]; zeros when t == 0.
void column_stats(const std::vector<double>& v, int t, int n, double* mean_out, double* std_out) {
  for (int j = 0; j < n; ++j) {
    double s = 0.0;
    for (int f = 0; f < t; ++f) s += v[static_cast<std::size_t>(f) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j)];
    const double mean = t > 0 ? s / t : 0.0;
    double ss = 0.0;
    for (int f = 0; f < t; ++f) {
      const double dv = v[static_cast<std::size_t>(f) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j)] - mean;
      ss += dv * dv;
    }
    mean_out[j] = mean;
    std_out[j] = t > 0 ? std::sqrt(ss / t) : 0.0;
  }
}

std::string column_name(const char* prefix, int i, const char* stat) {
  return std::string(prefix).append(std::to_string(i)).append("_").append(stat);
}

}  // namespace

FeatureMatrix utterance_features(const FeatureCache& cache, int n_mfcc) {
  const int n_mels = cache.n_mels();
  if (n_mfcc < 1 || n_mfcc > n_mels)
    throw Error(std::string("utterance features: n_mfcc must be in [1, n_mels = ")
                    .append(std::to_string(n_mels)).append("], got ").append(std::to_string(n_mfcc)));
  const std::size_t n_utt = cache.n_utterances();
  const std::size_t n_func = cache.functional_names.size();
  if (cache.offsets.size() != n_utt + 1 || cache.functionals.size() != n_utt * n_func ||
      cache.logmel.size() != static_cast<std::size_t>(cache.total_frames()) * static_cast<std::size_t>(n_mels))
    throw Error("utterance features: the cache's offsets, log-mel and functionals disagree in size");

  FeatureMatrix x;
  x.rows = static_cast<int>(n_utt);
  x.cols = 4 * n_mfcc + static_cast<int>(n_func);
  const char* prefixes[4][2] = {{"mfcc", "mean"}, {"mfcc", "std"}, {"dmfcc", "mean"}, {"dmfcc", "std"}};
  for (const auto& p : prefixes)
    for (int i = 0; i < n_mfcc; ++i) x.names.push_back(column_name(p[0], i, p[1]));
  x.names.insert(x.names.end(), cache.functional_names.begin(), cache.functional_names.end());
  x.data.assign(static_cast<std::size_t>(x.rows) * static_cast<std::size_t>(x.cols), 0.0);

  const std::vector<double> basis = dct2_basis(n_mfcc, n_mels);  // (n_mfcc, n_mels)
  std::vector<double> mfcc, dmfcc;                                // (t, n_mfcc)
  for (std::size_t u = 0; u < n_utt; ++u) {
    const std::int64_t begin = cache.offsets[u], end = cache.offsets[u + 1];
    if (begin < 0 || end < begin || end > cache.total_frames())
      throw Error(std::string("utterance features: bad offsets for utterance ").append(std::to_string(u)));
    const int t = static_cast<int>(end - begin);
    mfcc.assign(static_cast<std::size_t>(t) * static_cast<std::size_t>(n_mfcc), 0.0);
    for (int f = 0; f < t; ++f) {
      const float* frame = &cache.logmel[static_cast<std::size_t>(begin + f) * static_cast<std::size_t>(n_mels)];
      double* out = &mfcc[static_cast<std::size_t>(f) * static_cast<std::size_t>(n_mfcc)];
      for (int k = 0; k < n_mfcc; ++k) {
        const double* b = &basis[static_cast<std::size_t>(k) * static_cast<std::size_t>(n_mels)];
        double s = 0.0;
        for (int m = 0; m < n_mels; ++m) s += b[m] * frame[m];
        out[k] = s;
      }
    }
    deltas(mfcc, t, n_mfcc, dmfcc);
    double* row = &x.data[u * static_cast<std::size_t>(x.cols)];
    column_stats(mfcc, t, n_mfcc, row, row + n_mfcc);
    column_stats(dmfcc, t, n_mfcc, row + 2 * n_mfcc, row + 3 * n_mfcc);
    for (std::size_t j = 0; j < n_func; ++j) row[4 * n_mfcc + static_cast<int>(j)] = cache.functionals[u * n_func + j];
  }
  return x;
}

FeatureCache with_utterance_features(const FeatureCache& cache, int n_mfcc) {
  FeatureCache c = cache;
  const FeatureMatrix x = utterance_features(cache, n_mfcc);
  c.functionals.assign(x.data.begin(), x.data.end());
  c.functional_names = x.names;
  return c;
}

}  // namespace ser::classic
