// run_classic: one fold of a classic baseline — standardise on the training rows, choose the
// hyper-parameters by validation UA, refit on train + validation, predict the test rows once.
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "classic/models.hpp"
#include "ser/classic.hpp"
#include "ser/error.hpp"
#include "ser/metrics.hpp"

namespace ser::classic {

namespace {

using detail::Prediction;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string str(const char* s) { return std::string(s); }

// One grid point; only the fields of its model matter.
struct Setting {
  double c = 0, gamma_scale = 0;
  int k = 0, components = 0;
};

std::vector<int> gather(const std::vector<int>& labels, const std::vector<int>& rows) {
  std::vector<int> out;
  out.reserve(rows.size());
  for (int r : rows) out.push_back(labels[static_cast<std::size_t>(r)]);
  return out;
}

// Sorted and deduplicated; every value must be positive.
template <typename T>
std::vector<T> grid_axis(std::vector<T> v, const char* name) {
  if (v.empty()) throw Error(str("classic: the grid ").append(name).append(" is empty"));
  for (T a : v)
    if (!(a > T(0))) throw Error(str("classic: the grid ").append(name).append(" holds a value that is not positive"));
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

void check_inputs(const std::string& model, const FeatureMatrix& x, const std::vector<int>& labels, int n_classes,
                  const std::vector<int>& train, const std::vector<int>& validation, const std::vector<int>& test) {
  const auto& known = classic_models();
  if (std::find(known.begin(), known.end(), model) == known.end())
    throw Error(str("classic: unknown model '").append(model).append("' (svm_linear, svm_rbf, knn, gmm)"));
  if (x.rows < 1 || x.cols < 1 || x.data.size() != static_cast<std::size_t>(x.rows) * static_cast<std::size_t>(x.cols))
    throw Error("classic: the feature matrix is empty or its data does not match rows x cols");
  if (labels.size() != static_cast<std::size_t>(x.rows))
    throw Error("classic: labels and feature rows differ in count");
  if (n_classes < 1) throw Error("classic: n_classes must be at least 1");
  for (int y : labels)
    if (y < 0 || y >= n_classes) throw Error(str("classic: label ").append(std::to_string(y)).append(" out of range"));
  if (train.empty()) throw Error("classic: the training set is empty");
  if (validation.empty()) throw Error("classic: the validation set is empty");
  std::vector<char> side(static_cast<std::size_t>(x.rows), 0);
  for (const auto* set : {&train, &validation, &test})
    for (int r : *set) {
      if (r < 0 || r >= x.rows) throw Error(str("classic: row ").append(std::to_string(r)).append(" out of range"));
      if (side[static_cast<std::size_t>(r)]++ != 0)
        throw Error(str("classic: row ").append(std::to_string(r)).append(" is in more than one of train, validation, test"));
    }
}

nlohmann::json describe(const std::string& model, const Setting& s, int n_features) {
  if (model == "svm_linear") return {{"C", s.c}};
  if (model == "svm_rbf") return {{"C", s.c}, {"gamma", s.gamma_scale / n_features}, {"gamma_scale", s.gamma_scale}};
  if (model == "knn") return {{"k", s.k}};
  return {{"components", s.components}};
}

// The grid in order of simplicity, simplest first: a later point must beat an earlier one strictly.
// SVM: smaller C, then smaller gamma (smoother). k-NN: larger k (about n/k effective parameters).
// GMM: fewer components.
std::vector<Setting> grid_of(const std::string& model, const ClassicOptions& o) {
  std::vector<Setting> grid;
  if (model == "svm_linear" || model == "svm_rbf") {
    const auto cs = grid_axis(o.svm_c, "svm_c");
    const auto gs = model == "svm_rbf" ? grid_axis(o.svm_gamma_scale, "svm_gamma_scale") : std::vector<double>{0.0};
    for (double c : cs)
      for (double g : gs) grid.push_back(Setting{c, g, 0, 0});
  } else if (model == "knn") {
    auto ks = grid_axis(o.knn_k, "knn_k");
    std::reverse(ks.begin(), ks.end());
    for (int k : ks) grid.push_back(Setting{0, 0, k, 0});
  } else {
    for (int m : grid_axis(o.gmm_components, "gmm_components")) grid.push_back(Setting{0, 0, 0, m});
  }
  return grid;
}

detail::SvmParams svm_params(const std::string& model, const Setting& s, int n_features, bool probability) {
  detail::SvmParams p;
  p.kernel = model == "svm_linear" ? detail::SvmKernel::linear : detail::SvmKernel::rbf;
  p.c = s.c;
  p.gamma = s.gamma_scale / n_features;
  p.probability = probability;
  return p;
}

// A fitted model of any kind: predicts rows of the matrix it was fitted on, and counts its numbers.
struct Fitted {
  std::function<Prediction(const std::vector<int>&)> predict;
  std::function<std::int64_t()> parameters;
};

Fitted fit(const std::string& model, const Setting& s, const FeatureMatrix& z, const std::vector<int>& rows,
           const std::vector<int>& y, int n_classes, std::uint64_t seed, const ClassicOptions& o, bool final_fit) {
  if (model == "knn") {
    // Fitting k-NN is keeping the rows.
    return Fitted{[&z, rows, y, s, n_classes](const std::vector<int>& q) {
                    return detail::knn_vote(detail::nearest_neighbours(z, rows, q, s.k), y, s.k, n_classes);
                  },
                  [&z, rows]() { return static_cast<std::int64_t>(rows.size()) * z.cols; }};
  }
  if (model == "gmm") {
    auto g = std::make_shared<detail::GmmClassifier>(z, rows, y, n_classes, s.components, o, seed);
    return Fitted{[&z, g](const std::vector<int>& q) { return g->predict(z, q); }, [g]() { return g->parameters(); }};
  }
  auto m = std::make_shared<detail::SvmClassifier>(z, rows, y, n_classes,
                                                   svm_params(model, s, z.cols, final_fit && o.svm_probability), seed);
  return Fitted{[&z, m](const std::vector<int>& q) { return m->predict(z, q); }, [m]() { return m->parameters(); }};
}

}  // namespace

const std::vector<std::string>& classic_models() {
  static const std::vector<std::string> models{"svm_linear", "svm_rbf", "knn", "gmm"};
  return models;
}

ClassicResult run_classic(const std::string& model, const FeatureMatrix& x, const std::vector<int>& labels,
                          int n_classes, const std::vector<int>& train, const std::vector<int>& validation,
                          const std::vector<int>& test, std::uint64_t seed, const ClassicOptions& options) {
  check_inputs(model, x, labels, n_classes, train, validation, test);
  const std::vector<Setting> grid = grid_of(model, options);
  ClassicResult result;
  result.model = model;
  result.grid = nlohmann::json::array();

  std::size_t best = 0;
  // 1. Choice on validation, standardised with the training rows' statistics.
  {
    const FeatureMatrix z = standardize(x, fit_standardizer(x, train));
    const std::vector<int> y_train = gather(labels, train), y_val = gather(labels, validation);
    // k-NN: one neighbour search serves every k.
    detail::Neighbours neighbours;
    if (model == "knn") neighbours = detail::nearest_neighbours(z, train, validation, grid.front().k);
    double best_ua = -1.0;
    for (std::size_t i = 0; i < grid.size(); ++i) {
      const Prediction p = model == "knn"
                               ? detail::knn_vote(neighbours, y_train, grid[i].k, n_classes)
                               : fit(model, grid[i], z, train, y_train, n_classes, seed, options, false).predict(validation);
      const double ua = compute_metrics(y_val, p.label, n_classes).ua;
      result.grid.push_back({{"setting", describe(model, grid[i], x.cols)}, {"validation_ua", ua}});
      if (ua > best_ua + 1e-12) {
        best_ua = ua;
        best = i;
      }
    }
    result.chosen = describe(model, grid[best], x.cols);
    result.validation_ua = best_ua;
  }

  // 2. Refit the chosen setting on train + validation (their own statistics), predict test once.
  const Setting& chosen = grid[best];
  std::vector<int> fit_rows = train;
  fit_rows.insert(fit_rows.end(), validation.begin(), validation.end());
  const std::vector<int> y_fit = gather(labels, fit_rows);
  const auto fit_start = Clock::now();
  const FeatureMatrix z = standardize(x, fit_standardizer(x, fit_rows));
  const Fitted final_model = fit(model, chosen, z, fit_rows, y_fit, n_classes, seed, options, true);
  result.fit_seconds = seconds_since(fit_start);
  result.parameters = final_model.parameters();
  const auto predict_start = Clock::now();
  Prediction p = test.empty() ? Prediction{} : final_model.predict(test);
  result.predict_seconds = seconds_since(predict_start);
  result.predicted = std::move(p.label);
  result.test_scores = std::move(p.scores);
  return result;
}

}  // namespace ser::classic
