// SVM baseline: libsvm C-SVC (one-vs-one multi-class) with a linear or RBF kernel, classes weighted
// by inverse training frequency. Prediction counts the pairwise votes itself so that the scores and
// the tie rule are ser's own (votes, then the mean decision value, then the smallest class index).
#include <svm.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "classic/models.hpp"
#include "ser/error.hpp"

namespace ser::classic::detail {

namespace {

void quiet(const char*) {}

// One row as libsvm nodes: (dims + 1), indices 1..dims, then the -1 terminator.
void fill_nodes(const FeatureMatrix& x, int row, svm_node* out) {
  const double* v = &x.data[static_cast<std::size_t>(row) * static_cast<std::size_t>(x.cols)];
  for (int j = 0; j < x.cols; ++j) out[j] = svm_node{j + 1, v[j]};
  out[x.cols] = svm_node{-1, 0.0};
}

}  // namespace

struct SvmClassifier::Problem {
  std::vector<svm_node> nodes;  // (n, dims + 1)
  std::vector<svm_node*> x;     // (n) row starts
  std::vector<double> y;        // (n)
  std::vector<int> weight_label;
  std::vector<double> weight;
  svm_problem problem{};
  svm_parameter param{};
};

SvmClassifier::SvmClassifier(const FeatureMatrix& x, const std::vector<int>& rows, const std::vector<int>& labels,
                             int n_classes, const SvmParams& params, std::uint64_t seed)
    : n_classes_(n_classes), dims_(x.cols), probability_(params.probability), problem_(std::make_unique<Problem>()) {
  if (rows.empty() || rows.size() != labels.size()) throw Error("svm: no training rows, or labels and rows differ in count");
  Problem& p = *problem_;
  const std::size_t n = rows.size(), stride = static_cast<std::size_t>(dims_) + 1;
  p.nodes.resize(n * stride);
  p.x.resize(n);
  p.y.resize(n);
  std::vector<int> count(static_cast<std::size_t>(n_classes), 0);
  for (std::size_t i = 0; i < n; ++i) {
    fill_nodes(x, rows[i], &p.nodes[i * stride]);
    p.x[i] = &p.nodes[i * stride];
    p.y[i] = labels[i];
    ++count[static_cast<std::size_t>(labels[i])];
  }
  int present = 0;
  for (int c : count) present += c > 0;
  for (int c = 0; c < n_classes; ++c) {
    if (count[static_cast<std::size_t>(c)] == 0) continue;
    p.weight_label.push_back(c);
    p.weight.push_back(static_cast<double>(n) / (present * static_cast<double>(count[static_cast<std::size_t>(c)])));
  }
  p.problem.l = static_cast<int>(n);
  p.problem.y = p.y.data();
  p.problem.x = p.x.data();

  svm_parameter& q = p.param;
  q.svm_type = C_SVC;
  q.kernel_type = params.kernel == SvmKernel::linear ? LINEAR : RBF;
  q.degree = 3;
  q.gamma = params.gamma;
  q.coef0 = 0.0;
  q.cache_size = 64;  // MB of kernel cache
  q.eps = 1e-3;
  q.C = params.c;
  q.nr_weight = static_cast<int>(p.weight_label.size());
  q.weight_label = p.weight_label.data();
  q.weight = p.weight.data();
  q.nu = 0.5;
  q.p = 0.1;
  q.shrinking = 1;
  q.probability = params.probability ? 1 : 0;
  if (const char* err = svm_check_parameter(&p.problem, &q)) throw Error(std::string("svm: ").append(err));

  svm_set_print_string_function(&quiet);
  // rand() draws the folds of the probability fit only; seed it so that the scores are reproducible.
  if (params.probability) std::srand(static_cast<unsigned>(seed ^ (seed >> 32)));
  model_ = svm_train(&p.problem, &q);
  if (model_ == nullptr) throw Error("svm: libsvm returned no model");
}

SvmClassifier::~SvmClassifier() {
  if (model_ != nullptr) svm_free_and_destroy_model(&model_);
}

int SvmClassifier::support_vectors() const { return svm_get_nr_sv(model_); }

std::int64_t SvmClassifier::parameters() const {
  const std::int64_t l = svm_get_nr_sv(model_), k = svm_get_nr_class(model_);
  return l * dims_ + l * (k - 1) + k * (k - 1) / 2;  // support vectors, dual coefficients, biases
}

Prediction SvmClassifier::predict(const FeatureMatrix& x, const std::vector<int>& rows) const {
  if (x.cols != dims_) throw Error("svm: predicting rows with another number of features than fitted");
  const int k = svm_get_nr_class(model_);
  std::vector<int> model_label(static_cast<std::size_t>(k));  // libsvm's class order -> ser's class
  svm_get_labels(model_, model_label.data());
  std::vector<svm_node> nodes(static_cast<std::size_t>(dims_) + 1);
  std::vector<double> dec(static_cast<std::size_t>(k) * static_cast<std::size_t>(k > 1 ? k - 1 : 0) / 2 + 1);
  std::vector<double> prob(static_cast<std::size_t>(k));
  std::vector<int> votes(static_cast<std::size_t>(k));
  std::vector<double> margin(static_cast<std::size_t>(k));
  Prediction out;
  out.label.reserve(rows.size());
  out.scores.reserve(rows.size());
  for (int r : rows) {
    fill_nodes(x, r, nodes.data());
    svm_predict_values(model_, nodes.data(), dec.data());
    std::fill(votes.begin(), votes.end(), 0);
    std::fill(margin.begin(), margin.end(), 0.0);
    // Pairs (i, j), i < j in libsvm's class order; a positive value is a vote for i.
    std::size_t pair = 0;
    for (int i = 0; i < k; ++i)
      for (int j = i + 1; j < k; ++j, ++pair) {
        const double d = dec[pair];
        ++votes[static_cast<std::size_t>(d > 0 ? i : j)];
        margin[static_cast<std::size_t>(i)] += d;
        margin[static_cast<std::size_t>(j)] -= d;
      }
    std::vector<double> score(static_cast<std::size_t>(n_classes_), 0.0);
    for (int i = 0; i < k; ++i) {
      const double mean_margin = k > 1 ? margin[static_cast<std::size_t>(i)] / (k - 1) : 0.0;
      score[static_cast<std::size_t>(model_label[static_cast<std::size_t>(i)])] =
          votes[static_cast<std::size_t>(i)] + 1.0 / (1.0 + std::exp(-mean_margin));
    }
    out.label.push_back(argmax(score));
    if (probability_) {
      svm_predict_probability(model_, nodes.data(), prob.data());
      std::fill(score.begin(), score.end(), 0.0);
      for (int i = 0; i < k; ++i) score[static_cast<std::size_t>(model_label[static_cast<std::size_t>(i)])] = prob[static_cast<std::size_t>(i)];
    }
    out.scores.push_back(std::move(score));
  }
  return out;
}

}  // namespace ser::classic::detail
