// The classic baselines (include/ser/classic.hpp): utterance MFCC statistics against a naive
// long-double reference, leak-free standardisation, EM for diagonal GMMs, k-NN against brute force,
// libsvm linear vs RBF, determinism, errors, and the whole protocol on synthetic data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "classic/models.hpp"
#include "ser/cache.hpp"
#include "ser/classic.hpp"
#include "ser/error.hpp"
#include "ser/metrics.hpp"
#include "synth/rng.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

using classic::FeatureMatrix;
using LD = long double;

std::size_t at(int r, int c, int cols) { return static_cast<std::size_t>(r) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(c); }

// A small cache: n_mels bands, utterances of the given frame counts (0 allowed), random non-zero
// log-mel, two functionals.
FeatureCache small_cache(int n_mels, const std::vector<int>& frames) {
  FeatureCache c;
  c.config.logmel.n_mels = n_mels;
  c.class_names = {"a", "b"};
  c.functional_names = {"f0_mean", "duration_s"};
  c.offsets = {0};
  for (std::size_t u = 0; u < frames.size(); ++u) {
    const auto v = test::random_signal(static_cast<std::size_t>(frames[u] * n_mels), 100 + u, -8.f, 3.f);
    c.logmel.insert(c.logmel.end(), v.begin(), v.end());
    c.offsets.push_back(c.offsets.back() + frames[u]);
    c.functionals.push_back(120.0f + static_cast<float>(u));
    c.functionals.push_back(0.5f * static_cast<float>(u + 1));
    c.labels.push_back(static_cast<int>(u % 2));
    c.speakers.push_back("s");
    c.paths.push_back(std::to_string(u) + ".wav");
  }
  return c;
}

TEST(ClassicFeatures, MfccDeltaStatisticsMatchANaiveReference) {
  const int n_mels = 10, n_mfcc = 6;
  const std::vector<int> frames{7, 1, 0, 4};
  const FeatureCache cache = small_cache(n_mels, frames);
  const FeatureMatrix x = classic::utterance_features(cache, n_mfcc);
  ASSERT_EQ(x.rows, 4);
  ASSERT_EQ(x.cols, 4 * n_mfcc + 2);
  ASSERT_EQ(x.names.size(), static_cast<std::size_t>(x.cols));
  EXPECT_EQ(x.names[0], "mfcc0_mean");
  EXPECT_EQ(x.names[n_mfcc + 3], "mfcc3_std");
  EXPECT_EQ(x.names[2 * n_mfcc + 3], "dmfcc3_mean");
  EXPECT_EQ(x.names[3 * n_mfcc + 5], "dmfcc5_std");
  EXPECT_EQ(x.names[4 * n_mfcc], "f0_mean");
  EXPECT_EQ(x.names[4 * n_mfcc + 1], "duration_s");

  const LD pi = 3.141592653589793238462643383279L;
  for (int u = 0; u < 4; ++u) {
    const int t = frames[static_cast<std::size_t>(u)];
    const auto begin = cache.offsets[static_cast<std::size_t>(u)];
    // c[f][k] = sqrt(2/M) w_k sum_m x_m cos(pi/M (m + 1/2) k), w_0 = 1/sqrt(2).
    std::vector<std::vector<LD>> c(static_cast<std::size_t>(t), std::vector<LD>(n_mfcc));
    for (int f = 0; f < t; ++f)
      for (int k = 0; k < n_mfcc; ++k) {
        LD s = 0;
        for (int m = 0; m < n_mels; ++m)
          s += LD(cache.logmel[static_cast<std::size_t>(begin + f) * n_mels + static_cast<std::size_t>(m)]) *
               std::cos(pi / n_mels * (m + 0.5L) * k);
        c[static_cast<std::size_t>(f)][static_cast<std::size_t>(k)] = std::sqrt(2.0L / n_mels) * (k == 0 ? 1 / std::sqrt(2.0L) : 1.0L) * s;
      }
    // d_t = (c_{t+1} - c_{t-1} + 2 (c_{t+2} - c_{t-2})) / 10, edges clamped.
    auto clamp = [t](int f) { return std::min(std::max(f, 0), t - 1); };
    std::vector<std::vector<LD>> d(static_cast<std::size_t>(t), std::vector<LD>(n_mfcc));
    for (int f = 0; f < t; ++f)
      for (int k = 0; k < n_mfcc; ++k) {
        auto C = [&](int g) { return c[static_cast<std::size_t>(clamp(g))][static_cast<std::size_t>(k)]; };
        d[static_cast<std::size_t>(f)][static_cast<std::size_t>(k)] = (C(f + 1) - C(f - 1) + 2 * (C(f + 2) - C(f - 2))) / 10;
      }
    for (int k = 0; k < n_mfcc; ++k) {
      for (int which = 0; which < 2; ++which) {
        const auto& v = which == 0 ? c : d;
        LD mean = 0, var = 0;
        for (int f = 0; f < t; ++f) mean += v[static_cast<std::size_t>(f)][static_cast<std::size_t>(k)];
        if (t > 0) mean /= t;
        for (int f = 0; f < t; ++f) var += (v[static_cast<std::size_t>(f)][static_cast<std::size_t>(k)] - mean) * (v[static_cast<std::size_t>(f)][static_cast<std::size_t>(k)] - mean);
        const LD sd = t > 0 ? std::sqrt(var / t) : 0;
        EXPECT_NEAR(x.data[at(u, 2 * which * n_mfcc + k, x.cols)], double(mean), 1e-9) << "u " << u << " k " << k;
        EXPECT_NEAR(x.data[at(u, (2 * which + 1) * n_mfcc + k, x.cols)], double(sd), 1e-9) << "u " << u << " k " << k;
      }
    }
    EXPECT_EQ(x.data[at(u, 4 * n_mfcc, x.cols)], double(cache.functionals[static_cast<std::size_t>(2 * u)]));
    EXPECT_EQ(x.data[at(u, 4 * n_mfcc + 1, x.cols)], double(cache.functionals[static_cast<std::size_t>(2 * u + 1)]));
  }
  // A one-frame utterance has zero spread and zero deltas; a frameless one is all zeros (no NaN).
  for (int j = n_mfcc; j < 4 * n_mfcc; ++j) EXPECT_EQ(x.data[at(1, j, x.cols)], 0.0);
  for (int j = 0; j < 4 * n_mfcc; ++j) EXPECT_EQ(x.data[at(2, j, x.cols)], 0.0);
  // Orthonormal: with every coefficient kept, the energy of a frame is preserved (Parseval).
  const FeatureCache one = small_cache(n_mels, {1});
  const FeatureMatrix full = classic::utterance_features(one, n_mels);
  LD e_in = 0, e_out = 0;
  for (int m = 0; m < n_mels; ++m) e_in += LD(one.logmel[static_cast<std::size_t>(m)]) * one.logmel[static_cast<std::size_t>(m)];
  for (int k = 0; k < n_mels; ++k) e_out += LD(full.data[static_cast<std::size_t>(k)]) * full.data[static_cast<std::size_t>(k)];
  EXPECT_NEAR(double(e_out / e_in), 1.0, 1e-12);

  EXPECT_THROW(classic::utterance_features(cache, 0), Error);
  EXPECT_THROW(classic::utterance_features(cache, n_mels + 1), Error);
}

FeatureMatrix random_matrix(int rows, int cols, std::uint64_t seed, double lo = -3, double hi = 5) {
  FeatureMatrix x;
  x.rows = rows;
  x.cols = cols;
  synth::Rng rng(seed);
  for (int i = 0; i < rows * cols; ++i) x.data.push_back(rng.uniform(lo, hi));
  for (int j = 0; j < cols; ++j) x.names.push_back(std::string("c").append(std::to_string(j)));
  return x;
}

TEST(ClassicStandardizer, UsesOnlyTheGivenRows) {
  FeatureMatrix x = random_matrix(9, 4, 7);
  for (int r = 0; r < x.rows; ++r) x.data[at(r, 3, x.cols)] = r == 8 ? 50.0 : 2.5;  // constant on the fit rows
  const std::vector<int> rows{0, 2, 4, 5, 7};
  const classic::Standardizer s = classic::fit_standardizer(x, rows);
  for (int j = 0; j < 3; ++j) {
    LD mean = 0, var = 0;
    for (int r : rows) mean += x.data[at(r, j, x.cols)];
    mean /= rows.size();
    for (int r : rows) var += (x.data[at(r, j, x.cols)] - mean) * (x.data[at(r, j, x.cols)] - mean);
    EXPECT_NEAR(s.mean[static_cast<std::size_t>(j)], double(mean), 1e-12);
    EXPECT_NEAR(s.std[static_cast<std::size_t>(j)], double(std::sqrt(var / rows.size())), 1e-12);
  }
  EXPECT_EQ(s.mean[3], 2.5);
  EXPECT_EQ(s.std[3], 1.0);  // constant column: centred, not blown up
  FeatureMatrix changed = x;
  for (int r : {1, 3, 6, 8})
    for (int j = 0; j < x.cols; ++j) changed.data[at(r, j, x.cols)] = 1e6 * (j + 1);
  const classic::Standardizer s2 = classic::fit_standardizer(changed, rows);
  EXPECT_EQ(s2.mean, s.mean);
  EXPECT_EQ(s2.std, s.std);
  const FeatureMatrix z = classic::standardize(x, s);
  for (int j = 0; j < 3; ++j) {
    double m = 0, v = 0;
    for (int r : rows) m += z.data[at(r, j, z.cols)] / double(rows.size());
    for (int r : rows) v += (z.data[at(r, j, z.cols)] - m) * (z.data[at(r, j, z.cols)] - m) / double(rows.size());
    EXPECT_NEAR(m, 0.0, 1e-12);
    EXPECT_NEAR(v, 1.0, 1e-12);
  }
  EXPECT_EQ(z.data[at(8, 3, z.cols)], 47.5);
  EXPECT_THROW(classic::fit_standardizer(x, {}), Error);
  EXPECT_THROW(classic::fit_standardizer(x, {9}), Error);
}

TEST(ClassicGmm, EmLogLikelihoodNeverDecreasesAndRespectsTheFloor) {
  const int n = 300, d = 3;
  const FeatureMatrix x = random_matrix(n, d, 11, -1, 1);
  for (int m : {1, 3, 6}) {
    classic::detail::GmmFitReport rep;
    const double floor = 0.05;
    const auto g = classic::detail::fit_diagonal_gmm(x.data.data(), n, d, m, 100, floor, 0.0, 5, &rep);
    ASSERT_GE(rep.log_likelihood.size(), 2u);
    for (std::size_t i = 1; i < rep.log_likelihood.size(); ++i)
      EXPECT_GE(rep.log_likelihood[i], rep.log_likelihood[i - 1] - 1e-12) << "m " << m << " iteration " << i;
    for (double v : g.var) EXPECT_GE(v, floor);
    LD wsum = 0;
    for (double lw : g.log_weight) wsum += std::exp(LD(lw));
    EXPECT_NEAR(double(wsum), 1.0, 1e-12);
    // The last reported value is the mean log p(x) under the returned parameters, summed naively here.
    LD total = 0;
    for (int i = 0; i < n; ++i) {
      LD p = 0;
      for (int k = 0; k < m; ++k) {
        LD q = std::exp(LD(g.log_weight[static_cast<std::size_t>(k)]));
        for (int j = 0; j < d; ++j) {
          const LD v = g.var[at(k, j, d)], diff = x.data[at(i, j, d)] - g.mean[at(k, j, d)];
          q *= std::exp(-diff * diff / (2 * v)) / std::sqrt(2 * 3.141592653589793238462643383279L * v);
        }
        p += q;
      }
      total += std::log(p);
      EXPECT_NEAR(g.log_likelihood(&x.data[at(i, 0, d)]), double(std::log(p)), 1e-9);
    }
    EXPECT_NEAR(rep.log_likelihood.back(), double(total / n), 1e-9);
  }
  // The floor binds when the data's own spread is below it.
  const FeatureMatrix tight = random_matrix(50, 2, 12, -0.1, 0.1);
  const auto g = classic::detail::fit_diagonal_gmm(tight.data.data(), 50, 2, 2, 50, 0.5, 1e-9, 1);
  for (double v : g.var) EXPECT_EQ(v, 0.5);
  EXPECT_THROW(classic::detail::fit_diagonal_gmm(tight.data.data(), 1, 2, 2, 10, 0.5, 1e-9, 1), Error);
}

// Gaussian blobs: class c (or component c) centred at centres[c], isotropic sd.
FeatureMatrix blobs(const std::vector<std::vector<double>>& centres, int per_blob, double sd, std::uint64_t seed,
                    std::vector<int>* labels) {
  FeatureMatrix x;
  x.cols = static_cast<int>(centres[0].size());
  synth::Rng rng(seed);
  for (int i = 0; i < per_blob; ++i)
    for (std::size_t c = 0; c < centres.size(); ++c) {
      for (double mu : centres[c]) x.data.push_back(rng.normal(mu, sd));
      if (labels != nullptr) labels->push_back(static_cast<int>(c));
      ++x.rows;
    }
  x.names.assign(static_cast<std::size_t>(x.cols), "f");
  return x;
}

TEST(ClassicGmm, RecoversTheMeansOfSeparatedBlobs) {
  const std::vector<std::vector<double>> centres{{0, 0}, {10, 0}, {0, 10}, {10, 10}};
  const FeatureMatrix x = blobs(centres, 150, 0.5, 3, nullptr);
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto g = classic::detail::fit_diagonal_gmm(x.data.data(), x.rows, 2, 4, 200, 1e-3, 1e-9, seed);
    for (const auto& c : centres) {
      double best = 1e9;
      int owner = -1;
      for (int k = 0; k < 4; ++k) {
        const double dist = std::hypot(g.mean[at(k, 0, 2)] - c[0], g.mean[at(k, 1, 2)] - c[1]);
        if (dist < best) { best = dist; owner = k; }
      }
      EXPECT_LT(best, 0.15) << "seed " << seed << " centre " << c[0] << "," << c[1];
      EXPECT_NEAR(std::exp(g.log_weight[static_cast<std::size_t>(owner)]), 0.25, 0.01);
      EXPECT_NEAR(g.var[at(owner, 0, 2)], 0.25, 0.08);
    }
  }
}

TEST(ClassicGmm, SmallClassesGetFewerComponentsAndAbsentClassesNone) {
  std::vector<int> labels;
  const FeatureMatrix x = blobs({{0, 0}, {6, 0}, {0, 6}}, 20, 0.5, 13, &labels);
  std::vector<int> rows, y;
  int kept_of_class2 = 0;
  for (int i = 0; i < x.rows; ++i) {
    const int c = labels[static_cast<std::size_t>(i)];
    if (c == 2 && kept_of_class2++ >= 2) continue;  // class 2: two rows only
    rows.push_back(i);
    y.push_back(c);
  }
  classic::ClassicOptions o;
  const classic::detail::GmmClassifier g(x, rows, y, 4, 4, o, 3);  // class 3 never seen
  EXPECT_EQ(g.components_per_class(), (std::vector<int>{4, 4, 2, 0}));
  EXPECT_EQ(g.parameters(), (4 + 4 + 2) * (2 * 2 + 1));
  const auto p = g.predict(x, {0, 1, 2});
  for (std::size_t q = 0; q < 3; ++q) {
    EXPECT_EQ(p.label[q], static_cast<int>(q));
    EXPECT_EQ(p.scores[q][3], 0.0);
    EXPECT_NEAR(p.scores[q][0] + p.scores[q][1] + p.scores[q][2], 1.0, 1e-12);
  }
  // The SVM gives an unseen class the lowest score, 0.
  const classic::detail::SvmClassifier svm(x, rows, y, 4, {}, 1);
  const auto s = svm.predict(x, {0, 1, 2});
  for (std::size_t q = 0; q < 3; ++q) {
    EXPECT_EQ(s.label[q], static_cast<int>(q));
    EXPECT_EQ(s.scores[q][3], 0.0);
  }
}

// Brute-force k-NN: all distances, stable sort by (distance, position), vote, ties by distance sum then
// class index.
std::vector<int> brute_force_knn(const FeatureMatrix& x, const std::vector<int>& ref, const std::vector<int>& ref_labels,
                                 const std::vector<int>& query, int k, int n_classes) {
  std::vector<int> out;
  for (int q : query) {
    std::vector<std::pair<LD, int>> d;
    for (std::size_t r = 0; r < ref.size(); ++r) {
      LD s = 0;
      for (int j = 0; j < x.cols; ++j) s += std::pow(LD(x.data[at(q, j, x.cols)]) - x.data[at(ref[r], j, x.cols)], 2);
      d.push_back({s, static_cast<int>(r)});
    }
    std::sort(d.begin(), d.end());
    std::vector<int> votes(static_cast<std::size_t>(n_classes), 0);
    std::vector<LD> sum(static_cast<std::size_t>(n_classes), 0);
    for (int i = 0; i < std::min<int>(k, static_cast<int>(d.size())); ++i) {
      const int c = ref_labels[static_cast<std::size_t>(d[static_cast<std::size_t>(i)].second)];
      ++votes[static_cast<std::size_t>(c)];
      sum[static_cast<std::size_t>(c)] += std::sqrt(d[static_cast<std::size_t>(i)].first);
    }
    int best = 0;
    for (int c = 1; c < n_classes; ++c) {
      const auto cs = static_cast<std::size_t>(c), bs = static_cast<std::size_t>(best);
      if (votes[cs] > votes[bs] || (votes[cs] == votes[bs] && sum[cs] < sum[bs] - 1e-12L)) best = c;
    }
    out.push_back(best);
  }
  return out;
}

TEST(ClassicKnn, MatchesABruteForceReferenceIncludingTies) {
  // Small integer features: many equal distances and tied votes.
  FeatureMatrix x = random_matrix(80, 3, 21, 0, 4);
  for (double& v : x.data) v = std::floor(v);
  synth::Rng rng(4);
  std::vector<int> labels;
  for (int i = 0; i < x.rows; ++i) labels.push_back(rng.below(4));
  std::vector<int> ref, query;
  for (int i = 0; i < x.rows; ++i) (i % 3 == 0 ? query : ref).push_back(i);
  std::vector<int> ref_labels;
  for (int r : ref) ref_labels.push_back(labels[static_cast<std::size_t>(r)]);
  const auto nb = classic::detail::nearest_neighbours(x, ref, query, 20);
  int disagreements_with_k1 = 0;
  const auto k1 = classic::detail::knn_vote(nb, ref_labels, 1, 4);
  for (int k : {1, 2, 4, 5, 8, 20}) {
    const auto p = classic::detail::knn_vote(nb, ref_labels, k, 4);
    EXPECT_EQ(p.label, brute_force_knn(x, ref, ref_labels, query, k, 4)) << "k " << k;
    for (std::size_t q = 0; q < query.size(); ++q) {
      EXPECT_NEAR(std::accumulate(p.scores[q].begin(), p.scores[q].end(), 0.0), 1.0, 1e-12);
      EXPECT_EQ(*std::max_element(p.scores[q].begin(), p.scores[q].end()), p.scores[q][static_cast<std::size_t>(p.label[q])]);
      disagreements_with_k1 += p.label[q] != k1.label[q];
    }
  }
  EXPECT_GT(disagreements_with_k1, 0);  // k matters on this data: the comparison above is not vacuous

  // Through run_classic: a one-point grid, refit on train + validation with their statistics.
  std::vector<int> train, validation, test;
  for (int i = 0; i < x.rows; ++i) (i % 4 == 0 ? test : i % 4 == 1 ? validation : train).push_back(i);
  classic::ClassicOptions o;
  o.knn_k = {5};
  const auto r = classic::run_classic("knn", x, labels, 4, train, validation, test, 1, o);
  std::vector<int> fit_rows = train;
  fit_rows.insert(fit_rows.end(), validation.begin(), validation.end());
  const FeatureMatrix z = classic::standardize(x, classic::fit_standardizer(x, fit_rows));
  std::vector<int> fit_labels;
  for (int i : fit_rows) fit_labels.push_back(labels[static_cast<std::size_t>(i)]);
  EXPECT_EQ(r.predicted, brute_force_knn(z, fit_rows, fit_labels, test, 5, 4));
  EXPECT_EQ(r.parameters, static_cast<std::int64_t>(fit_rows.size()) * x.cols);
  EXPECT_EQ(r.chosen, nlohmann::json({{"k", 5}}));
}

struct Split {
  std::vector<int> train, validation, test;
};
Split thirds(int rows) {
  Split s;
  for (int i = 0; i < rows; ++i) (i % 5 == 0 ? s.test : i % 5 == 1 ? s.validation : s.train).push_back(i);
  return s;
}
std::vector<int> pick(const std::vector<int>& labels, const std::vector<int>& rows) {
  std::vector<int> out;
  for (int r : rows) out.push_back(labels[static_cast<std::size_t>(r)]);
  return out;
}

TEST(ClassicSvm, LinearSeparatesBlobsAndOnlyRbfSolvesXor) {
  std::vector<int> labels;
  const FeatureMatrix sep = blobs({{0, 0, 0}, {4, 0, 1}, {0, 4, -1}}, 60, 0.7, 8, &labels);
  const Split s = thirds(sep.rows);
  for (const char* model : {"svm_linear", "svm_rbf"}) {
    const auto r = classic::run_classic(model, sep, labels, 3, s.train, s.validation, s.test, 1);
    EXPECT_GE(compute_metrics(pick(labels, s.test), r.predicted, 3).ua, 0.95) << model;
    EXPECT_GT(r.parameters, 0);
    ASSERT_EQ(r.test_scores.size(), s.test.size());
  }
  // XOR: the class is the sign of x0 * x1; four blobs, two per class.
  std::vector<int> blob;
  const FeatureMatrix xr = blobs({{2, 2}, {-2, -2}, {2, -2}, {-2, 2}}, 60, 0.6, 9, &blob);
  std::vector<int> xor_labels;
  for (int b : blob) xor_labels.push_back(b < 2 ? 0 : 1);
  const Split t = thirds(xr.rows);
  const auto lin = classic::run_classic("svm_linear", xr, xor_labels, 2, t.train, t.validation, t.test, 1);
  const auto rbf = classic::run_classic("svm_rbf", xr, xor_labels, 2, t.train, t.validation, t.test, 1);
  const double ua_lin = compute_metrics(pick(xor_labels, t.test), lin.predicted, 2).ua;
  const double ua_rbf = compute_metrics(pick(xor_labels, t.test), rbf.predicted, 2).ua;
  EXPECT_LT(ua_lin, 0.75);
  EXPECT_GE(ua_rbf, 0.95);
  EXPECT_TRUE(rbf.chosen.contains("gamma"));
  EXPECT_EQ(rbf.grid.size(), 25u);
  EXPECT_EQ(lin.grid.size(), 5u);
}

// 7 classes in 20 dimensions, 8 speakers; each speaker shifts every feature, so standardising on the
// training speakers and choosing on an unseen speaker matters.
struct SyntheticSet {
  FeatureMatrix x;
  std::vector<int> labels, speaker;
};
SyntheticSet synthetic_set(std::uint64_t seed) {
  SyntheticSet s;
  const int dims = 20, classes = 7, speakers = 8, per_class = 8;
  synth::Rng rng(seed);
  std::vector<double> centre(static_cast<std::size_t>(classes * dims)), shift(static_cast<std::size_t>(speakers * dims));
  for (double& c : centre) c = rng.normal(0, 1.0);
  for (double& v : shift) v = rng.normal(0, 0.6);
  s.x.cols = dims;
  for (int spk = 0; spk < speakers; ++spk)
    for (int c = 0; c < classes; ++c)
      for (int i = 0; i < per_class; ++i) {
        for (int j = 0; j < dims; ++j)
          s.x.data.push_back(3.0 * j + (j + 1) * (centre[at(c, j, dims)] + shift[at(spk, j, dims)] + rng.normal(0, 1.4)));
        s.labels.push_back(c);
        s.speaker.push_back(spk);
        ++s.x.rows;
      }
  s.x.names.assign(static_cast<std::size_t>(dims), "f");
  return s;
}

TEST(ClassicRunClassic, EveryModelBeatsChanceOnASyntheticMatrixAndIsDeterministic) {
  const SyntheticSet s = synthetic_set(31);
  Split sp;
  for (int i = 0; i < s.x.rows; ++i) {
    const int spk = s.speaker[static_cast<std::size_t>(i)];
    (spk <= 4 ? sp.train : spk == 5 ? sp.validation : sp.test).push_back(i);
  }
  for (const std::string& model : classic::classic_models()) {
    const auto r = classic::run_classic(model, s.x, s.labels, 7, sp.train, sp.validation, sp.test, 42);
    const double ua = compute_metrics(pick(s.labels, sp.test), r.predicted, 7).ua;
    std::printf("[ synthetic matrix ] %-10s test UA %.3f  validation UA %.3f  chosen %s  fit %.4f s\n", model.c_str(), ua,
                r.validation_ua, r.chosen.dump().c_str(), r.fit_seconds);
    EXPECT_GT(ua, 0.5) << model;  // chance is 1/7
    EXPECT_EQ(r.model, model);
    ASSERT_EQ(r.predicted.size(), sp.test.size());
    ASSERT_EQ(r.test_scores.size(), sp.test.size());
    for (std::size_t q = 0; q < sp.test.size(); ++q) {
      ASSERT_EQ(r.test_scores[q].size(), 7u);
      EXPECT_EQ(*std::max_element(r.test_scores[q].begin(), r.test_scores[q].end()),
                r.test_scores[q][static_cast<std::size_t>(r.predicted[q])]);
    }
    // The recorded validation UA is the best of the grid.
    double best = 0;
    for (const auto& g : r.grid) best = std::max(best, g["validation_ua"].get<double>());
    EXPECT_EQ(r.validation_ua, best);
    EXPECT_GT(r.parameters, 0);
    const auto again = classic::run_classic(model, s.x, s.labels, 7, sp.train, sp.validation, sp.test, 42);
    EXPECT_EQ(again.predicted, r.predicted) << model;
    EXPECT_EQ(again.test_scores, r.test_scores) << model;
    EXPECT_EQ(again.chosen, r.chosen) << model;
    if (model == "gmm") {
      int m = r.chosen["components"].get<int>();
      EXPECT_EQ(r.parameters, 7 * m * (2 * 20 + 1));
    }
  }
  // Probability scores: rows sum to one, reproducible, and the predictions still come from the votes.
  classic::ClassicOptions o;
  o.svm_probability = true;
  o.svm_c = {1};
  o.svm_gamma_scale = {1};
  const auto p1 = classic::run_classic("svm_rbf", s.x, s.labels, 7, sp.train, sp.validation, sp.test, 5, o);
  const auto p2 = classic::run_classic("svm_rbf", s.x, s.labels, 7, sp.train, sp.validation, sp.test, 5, o);
  o.svm_probability = false;
  const auto votes = classic::run_classic("svm_rbf", s.x, s.labels, 7, sp.train, sp.validation, sp.test, 5, o);
  EXPECT_EQ(p1.test_scores, p2.test_scores);
  EXPECT_EQ(p1.predicted, votes.predicted);
  for (const auto& row : p1.test_scores) EXPECT_NEAR(std::accumulate(row.begin(), row.end(), 0.0), 1.0, 1e-6);
}

TEST(ClassicRunClassic, RefusesBadInput) {
  const SyntheticSet s = synthetic_set(1);
  const std::vector<int> tr{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, va{10, 11, 12}, te{13, 14};
  EXPECT_THROW(classic::run_classic("random_forest", s.x, s.labels, 7, tr, va, te, 1), Error);
  EXPECT_THROW(classic::run_classic("svm_rbf", s.x, s.labels, 7, {}, va, te, 1), Error);
  EXPECT_THROW(classic::run_classic("knn", s.x, s.labels, 7, tr, {}, te, 1), Error);
  EXPECT_THROW(classic::run_classic("gmm", s.x, s.labels, 7, tr, va, {9}, 1), Error);        // overlap
  EXPECT_THROW(classic::run_classic("gmm", s.x, s.labels, 7, tr, va, {s.x.rows}, 1), Error);  // out of range
  EXPECT_THROW(classic::run_classic("gmm", s.x, s.labels, 3, tr, va, te, 1), Error);         // label >= n_classes
  classic::ClassicOptions o;
  o.knn_k = {};
  EXPECT_THROW(classic::run_classic("knn", s.x, s.labels, 7, tr, va, te, 1, o), Error);
}

TEST(ClassicRunClassic, SynthCacheBySpeakers) {
  const std::string path = "/tmp/synth.h5";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not present";
  const FeatureCache cache = read_cache(path);
  const FeatureMatrix x = classic::utterance_features(cache);
  Split sp;
  for (std::size_t u = 0; u < cache.n_utterances(); ++u) {
    const std::string& spk = cache.speakers[u];
    (spk == "syn07" || spk == "syn08" ? sp.test : spk == "syn06" ? sp.validation : sp.train).push_back(static_cast<int>(u));
  }
  ASSERT_FALSE(sp.train.empty());
  ASSERT_FALSE(sp.validation.empty());
  ASSERT_FALSE(sp.test.empty());
  const std::vector<int> labels(cache.labels.begin(), cache.labels.end());
  const int k = static_cast<int>(cache.class_names.size());
  for (const std::string& model : classic::classic_models()) {
    const auto r = classic::run_classic(model, x, labels, k, sp.train, sp.validation, sp.test, 42);
    const double ua = compute_metrics(pick(labels, sp.test), r.predicted, k).ua;
    std::printf("[ synth.h5 ] %-10s test UA %.3f  validation UA %.3f  chosen %s  fit %.3f s  predict %.4f s  params %lld\n",
                model.c_str(), ua, r.validation_ua, r.chosen.dump().c_str(), r.fit_seconds, r.predict_seconds,
                static_cast<long long>(r.parameters));
    EXPECT_GT(ua, 1.0 / k + 0.2) << model;
  }
}

}  // namespace
}  // namespace ser
