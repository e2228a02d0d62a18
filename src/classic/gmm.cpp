// GMM baseline: one diagonal-covariance Gaussian mixture per class, fitted by EM from a seeded
// k-means++ start (Reynolds & Rose 1995 for the classifier; Arthur & Vassilvitskii 2007 for the start).
// Every sum of probabilities is taken in the log domain (log-sum-exp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "classic/models.hpp"
#include "ser/error.hpp"
#include "util/rng.hpp"

namespace ser::classic::detail {

namespace {

constexpr double kLog2Pi = 1.8378770664093454836;
constexpr double kDeadComponent = 1e-10;  // responsibility mass below which a component keeps its place

double log_sum_exp(const double* v, int n) {
  double m = -std::numeric_limits<double>::infinity();
  for (int i = 0; i < n; ++i) m = std::max(m, v[i]);
  if (!std::isfinite(m)) return m;
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += std::exp(v[i] - m);
  return m + std::log(s);
}

// -0.5 (d log 2 pi + sum_j log var_kj) of each component: (components).
std::vector<double> log_normalisers(const DiagonalGmm& g) {
  std::vector<double> out(static_cast<std::size_t>(g.components));
  for (int k = 0; k < g.components; ++k) {
    double s = g.dims * kLog2Pi;
    for (int j = 0; j < g.dims; ++j) s += std::log(g.var[static_cast<std::size_t>(k) * static_cast<std::size_t>(g.dims) + static_cast<std::size_t>(j)]);
    out[static_cast<std::size_t>(k)] = -0.5 * s;
  }
  return out;
}

// log w_k + log N(x; mu_k, diag var_k) for every component into out: (components).
void joint_log_densities(const DiagonalGmm& g, const std::vector<double>& log_norm, const double* x, double* out) {
  const auto d = static_cast<std::size_t>(g.dims);
  for (int k = 0; k < g.components; ++k) {
    const double* mu = &g.mean[static_cast<std::size_t>(k) * d];
    const double* var = &g.var[static_cast<std::size_t>(k) * d];
    double q = 0.0;
    for (std::size_t j = 0; j < d; ++j) q += (x[j] - mu[j]) * (x[j] - mu[j]) / var[j];
    out[k] = g.log_weight[static_cast<std::size_t>(k)] + log_norm[static_cast<std::size_t>(k)] - 0.5 * q;
  }
}

double squared_distance(const double* a, const double* b, int d) {
  double s = 0.0;
  for (int j = 0; j < d; ++j) s += (a[j] - b[j]) * (a[j] - b[j]);
  return s;
}

// k-means++ seeds (row indices): the first uniformly, each next one with probability proportional to
// the squared distance to the nearest seed so far.
std::vector<int> kmeanspp_seeds(const double* x, int n, int d, int m, util::Xoshiro256& rng) {
  std::vector<int> seeds{rng.below(n)};
  std::vector<double> nearest(static_cast<std::size_t>(n), std::numeric_limits<double>::infinity());
  while (static_cast<int>(seeds.size()) < m) {
    const double* last = &x[static_cast<std::size_t>(seeds.back()) * static_cast<std::size_t>(d)];
    double total = 0.0;
    for (int i = 0; i < n; ++i) {
      auto& ni = nearest[static_cast<std::size_t>(i)];
      ni = std::min(ni, squared_distance(&x[static_cast<std::size_t>(i) * static_cast<std::size_t>(d)], last, d));
      total += ni;
    }
    int pick = n - 1;
    if (total > 0.0) {
      const double target = rng.uniform() * total;
      double acc = 0.0;
      for (int i = 0; i < n; ++i) {
        acc += nearest[static_cast<std::size_t>(i)];
        if (acc > target) { pick = i; break; }
      }
    } else {
      pick = rng.below(n);  // every row coincides with a seed
    }
    seeds.push_back(pick);
  }
  return seeds;
}

}  // namespace

double DiagonalGmm::log_likelihood(const double* x) const {
  const std::vector<double> log_norm = log_normalisers(*this);
  std::vector<double> joint(static_cast<std::size_t>(components));
  joint_log_densities(*this, log_norm, x, joint.data());
  return log_sum_exp(joint.data(), components);
}

namespace {

// Index of the nearest seed row for every row: (n).
std::vector<int> nearest_seed(const double* x, std::size_t rows, std::size_t d, const std::vector<int>& seeds) {
  std::vector<int> owner(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < seeds.size(); ++k) {
      const double dist = squared_distance(&x[i * d], &x[static_cast<std::size_t>(seeds[k]) * d], static_cast<int>(d));
      if (dist < best) { best = dist; owner[i] = static_cast<int>(k); }
    }
  }
  return owner;
}

// Per-column variance of all rows (divided by n): (d).
std::vector<double> column_variances(const double* x, std::size_t rows, std::size_t d) {
  const double n = static_cast<double>(rows);
  std::vector<double> mean(d, 0.0), var(d, 0.0);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < d; ++j) mean[j] += x[i * d + j] / n;
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < d; ++j) var[j] += (x[i * d + j] - mean[j]) * (x[i * d + j] - mean[j]) / n;
  return var;
}

// The EM start: means, variances and weights of the hard assignment of each row to its nearest
// k-means++ seed.
DiagonalGmm initial_mixture(const double* x, std::size_t rows, int dims, int components, double variance_floor,
                            util::Xoshiro256& rng) {
  const auto d = static_cast<std::size_t>(dims), m = static_cast<std::size_t>(components);
  const std::vector<int> seeds = kmeanspp_seeds(x, static_cast<int>(rows), dims, components, rng);
  const std::vector<int> owner = nearest_seed(x, rows, d, seeds);
  const std::vector<double> global_var = column_variances(x, rows, d);
  DiagonalGmm g;
  g.components = components;
  g.dims = dims;
  g.log_weight.assign(m, 0.0);
  g.mean.assign(m * d, 0.0);
  g.var.assign(m * d, 0.0);
  std::vector<double> count(m, 0.0);
  for (std::size_t i = 0; i < rows; ++i) {
    const auto k = static_cast<std::size_t>(owner[i]);
    count[k] += 1.0;
    for (std::size_t j = 0; j < d; ++j) g.mean[k * d + j] += x[i * d + j];
  }
  for (std::size_t k = 0; k < m; ++k)
    for (std::size_t j = 0; j < d; ++j)
      // A seed that owns no row (it coincides with an earlier seed) starts at its own row.
      g.mean[k * d + j] = count[k] > 0 ? g.mean[k * d + j] / count[k] : x[static_cast<std::size_t>(seeds[k]) * d + j];
  for (std::size_t i = 0; i < rows; ++i) {
    const auto k = static_cast<std::size_t>(owner[i]);
    for (std::size_t j = 0; j < d; ++j) g.var[k * d + j] += (x[i * d + j] - g.mean[k * d + j]) * (x[i * d + j] - g.mean[k * d + j]);
  }
  for (std::size_t k = 0; k < m; ++k) {
    for (std::size_t j = 0; j < d; ++j) {
      // A cluster of one row has no spread of its own: start it from the spread of all rows.
      const double v = count[k] >= 2 ? g.var[k * d + j] / count[k] : global_var[j];
      g.var[k * d + j] = std::max(v, variance_floor);
    }
  }
  double weight_total = 0.0;
  for (std::size_t k = 0; k < m; ++k) weight_total += std::max(count[k], 1.0);
  for (std::size_t k = 0; k < m; ++k) g.log_weight[k] = std::log(std::max(count[k], 1.0) / weight_total);
  return g;
}

// E step: the responsibilities resp (n, m) of g for every row; returns the mean log-likelihood.
double expectation(const DiagonalGmm& g, const double* x, std::size_t rows, std::vector<double>& resp) {
  const auto d = static_cast<std::size_t>(g.dims), m = static_cast<std::size_t>(g.components);
  const std::vector<double> log_norm = log_normalisers(g);
  double total = 0.0;
  for (std::size_t i = 0; i < rows; ++i) {
    double* r = &resp[i * m];
    joint_log_densities(g, log_norm, &x[i * d], r);
    const double lse = log_sum_exp(r, g.components);
    for (std::size_t k = 0; k < m; ++k) r[k] = std::exp(r[k] - lse);
    total += lse;
  }
  return total / static_cast<double>(rows);
}

// M step: weights, means and floored variances from the responsibilities resp (n, m).
void maximisation(DiagonalGmm& g, const double* x, std::size_t rows, const std::vector<double>& resp,
                  double variance_floor) {
  const auto d = static_cast<std::size_t>(g.dims), m = static_cast<std::size_t>(g.components);
  const double n = static_cast<double>(rows);
  for (std::size_t k = 0; k < m; ++k) {
    double nk = 0.0;
    for (std::size_t i = 0; i < rows; ++i) nk += resp[i * m + k];
    g.log_weight[k] = std::log(std::max(nk / n, std::numeric_limits<double>::min()));
    if (nk < kDeadComponent) continue;  // no data left: keep its mean and variance
    double* mu = &g.mean[k * d];
    double* var = &g.var[k * d];
    std::fill(mu, mu + d, 0.0);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < d; ++j) mu[j] += resp[i * m + k] * x[i * d + j];
    for (std::size_t j = 0; j < d; ++j) mu[j] /= nk;
    std::fill(var, var + d, 0.0);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < d; ++j) var[j] += resp[i * m + k] * (x[i * d + j] - mu[j]) * (x[i * d + j] - mu[j]);
    // The floored variance is the constrained maximiser (the likelihood is unimodal in each
    // variance), so EM stays monotone.
    for (std::size_t j = 0; j < d; ++j) var[j] = std::max(var[j] / nk, variance_floor);
  }
}

}  // namespace

DiagonalGmm fit_diagonal_gmm(const double* x, int n, int dims, int components, int max_iterations,
                             double variance_floor, double tolerance, std::uint64_t seed, GmmFitReport* report) {
  if (components < 1 || dims < 1 || n < components)
    throw Error(std::string("gmm: need rows >= components >= 1 and dims >= 1, got rows ")
                    .append(std::to_string(n)).append(", components ").append(std::to_string(components))
                    .append(", dims ").append(std::to_string(dims)));
  if (!(variance_floor > 0.0)) throw Error("gmm: the variance floor must be positive");
  const auto rows = static_cast<std::size_t>(n);
  util::Xoshiro256 rng(seed);
  DiagonalGmm g = initial_mixture(x, rows, dims, components, variance_floor, rng);

  std::vector<double> resp(rows * static_cast<std::size_t>(components));  // (n, m) responsibilities
  GmmFitReport local;
  GmmFitReport& rep = report != nullptr ? *report : local;
  rep = GmmFitReport{};
  double ll = expectation(g, x, rows, resp);
  rep.log_likelihood.push_back(ll);
  for (int it = 0; it < max_iterations; ++it) {
    maximisation(g, x, rows, resp, variance_floor);
    ++rep.iterations;
    const double next = expectation(g, x, rows, resp);
    rep.log_likelihood.push_back(next);
    const bool done = next - ll < tolerance;
    ll = next;
    if (done) {
      rep.converged = true;
      break;
    }
  }
  return g;
}

GmmClassifier::GmmClassifier(const FeatureMatrix& x, const std::vector<int>& rows, const std::vector<int>& labels,
                             int n_classes, int components, const ClassicOptions& options, std::uint64_t seed)
    : n_classes_(n_classes), gmms_(static_cast<std::size_t>(n_classes)) {
  if (rows.empty() || rows.size() != labels.size()) throw Error("gmm: no training rows, or labels and rows differ in count");
  if (components < 1) throw Error(std::string("gmm: components must be at least 1, got ").append(std::to_string(components)));
  const auto d = static_cast<std::size_t>(x.cols);
  for (int c = 0; c < n_classes; ++c) {
    std::vector<double> data;  // (n_c, d)
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (labels[i] != c) continue;
      const double* v = &x.data[static_cast<std::size_t>(rows[i]) * d];
      data.insert(data.end(), v, v + d);
    }
    const int n_c = static_cast<int>(data.size() / std::max<std::size_t>(d, 1));
    if (n_c == 0) continue;
    const std::uint64_t key = util::stream_key(seed, "gmm", {static_cast<std::uint64_t>(c), static_cast<std::uint64_t>(components)});
    gmms_[static_cast<std::size_t>(c)] =
        fit_diagonal_gmm(data.data(), n_c, x.cols, std::min(components, n_c), options.gmm_max_iterations,
                         options.gmm_variance_floor, options.gmm_tolerance, key);
  }
}

Prediction GmmClassifier::predict(const FeatureMatrix& x, const std::vector<int>& rows) const {
  std::vector<std::vector<double>> log_norm(gmms_.size());
  for (std::size_t c = 0; c < gmms_.size(); ++c)
    if (gmms_[c].components > 0) log_norm[c] = log_normalisers(gmms_[c]);
  Prediction out;
  std::vector<double> joint, ll(static_cast<std::size_t>(n_classes_));
  for (int r : rows) {
    const double* v = &x.data[static_cast<std::size_t>(r) * static_cast<std::size_t>(x.cols)];
    int best = -1;
    for (std::size_t c = 0; c < gmms_.size(); ++c) {
      ll[c] = -std::numeric_limits<double>::infinity();
      if (gmms_[c].components == 0) continue;
      joint.resize(static_cast<std::size_t>(gmms_[c].components));
      joint_log_densities(gmms_[c], log_norm[c], v, joint.data());
      ll[c] = log_sum_exp(joint.data(), gmms_[c].components);
      if (best < 0 || ll[c] > ll[static_cast<std::size_t>(best)]) best = static_cast<int>(c);
    }
    // Uniform prior over the classes seen in training: the posterior is a softmax of the likelihoods.
    const double evidence = log_sum_exp(ll.data(), n_classes_);
    std::vector<double> posterior(static_cast<std::size_t>(n_classes_), 0.0);
    for (std::size_t c = 0; c < posterior.size(); ++c)
      if (gmms_[c].components > 0) posterior[c] = std::exp(ll[c] - evidence);
    out.label.push_back(best);
    out.scores.push_back(std::move(posterior));
  }
  return out;
}

std::int64_t GmmClassifier::parameters() const {
  std::int64_t p = 0;
  for (const DiagonalGmm& g : gmms_) p += static_cast<std::int64_t>(g.components) * (2 * g.dims + 1);
  return p;
}

std::vector<int> GmmClassifier::components_per_class() const {
  std::vector<int> out;
  for (const DiagonalGmm& g : gmms_) out.push_back(g.components);
  return out;
}

}  // namespace ser::classic::detail
