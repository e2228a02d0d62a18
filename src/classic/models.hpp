// classic/models.hpp — the three classic classifiers behind run_classic, on (standardised) rows of
// a FeatureMatrix. Each fits on a list of rows and predicts a list of rows; run_classic (select.cpp)
// does the grid search and the final fit.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "ser/classic.hpp"

struct svm_model;  // libsvm

namespace ser::classic::detail {

struct Prediction {
  std::vector<int> label;                   // (n)
  std::vector<std::vector<double>> scores;  // (n, n_classes), higher = more likely; argmax = label
};

// Index of the largest score; ties go to the smallest index.
int argmax(const std::vector<double>& scores);

// ---- SVM (libsvm C-SVC, one-vs-one) ----------------------------------------------------------------
enum class SvmKernel { linear, rbf };
struct SvmParams {
  SvmKernel kernel = SvmKernel::rbf;
  double c = 1.0;
  double gamma = 0.01;       // RBF only
  bool probability = false;  // Platt probabilities as scores (libsvm's internal 5-fold CV)
};

class SvmClassifier {
 public:
  // labels: (rows.size()), class of each row. Class weights C_c = C * n / (n_present * n_c).
  SvmClassifier(const FeatureMatrix& x, const std::vector<int>& rows, const std::vector<int>& labels,
                int n_classes, const SvmParams& params, std::uint64_t seed);
  ~SvmClassifier();
  SvmClassifier(const SvmClassifier&) = delete;
  SvmClassifier& operator=(const SvmClassifier&) = delete;

  Prediction predict(const FeatureMatrix& x, const std::vector<int>& rows) const;
  std::int64_t parameters() const;
  int support_vectors() const;

 private:
  int n_classes_ = 0, dims_ = 0;
  bool probability_ = false;
  // libsvm keeps pointers into the problem's nodes and the class weights: they live as long as the model.
  struct Problem;
  std::unique_ptr<Problem> problem_;
  svm_model* model_ = nullptr;
};

// ---- k-NN -----------------------------------------------------------------------------------------
// The k_max nearest reference rows of each query row by Euclidean distance, nearest first; equal
// distances keep the order of `reference`.
struct Neighbours {
  int k_max = 0;
  std::vector<int> position;    // (n_query, k_max) positions into `reference`
  std::vector<double> distance;  // (n_query, k_max) Euclidean
};
Neighbours nearest_neighbours(const FeatureMatrix& x, const std::vector<int>& reference,
                              const std::vector<int>& query, int k_max);
// Majority vote of the first k neighbours (k <= k_max; the number of reference rows when smaller).
// A tie between classes goes to the class whose tied neighbours have the smaller distance sum, then to
// the smallest class index. reference_labels: (reference.size()). Scores: vote fractions.
Prediction knn_vote(const Neighbours& nb, const std::vector<int>& reference_labels, int k, int n_classes);

// ---- GMM ------------------------------------------------------------------------------------------
struct DiagonalGmm {
  int components = 0, dims = 0;
  std::vector<double> log_weight;  // (components)
  std::vector<double> mean;        // (components, dims)
  std::vector<double> var;         // (components, dims)
  double log_likelihood(const double* x) const;  // log p(x), x: (dims)
};
struct GmmFitReport {
  std::vector<double> log_likelihood;  // mean log p(x) per row, under the parameters of each E-step
  int iterations = 0;                  // M-steps done
  bool converged = false;
};
// EM from a seeded k-means++ initialisation; variances floored at variance_floor; stops after
// max_iterations or when the mean log-likelihood per row gains less than `tolerance`.
// x: (n, dims) row-major, n >= components >= 1.
DiagonalGmm fit_diagonal_gmm(const double* x, int n, int dims, int components, int max_iterations,
                             double variance_floor, double tolerance, std::uint64_t seed,
                             GmmFitReport* report = nullptr);

// One GMM per class seen in training (min(components, rows of the class) components); classifies by
// max log p(x | class) with a uniform prior over those classes. Scores: posteriors under that prior.
class GmmClassifier {
 public:
  GmmClassifier(const FeatureMatrix& x, const std::vector<int>& rows, const std::vector<int>& labels,
                int n_classes, int components, const ClassicOptions& options, std::uint64_t seed);
  Prediction predict(const FeatureMatrix& x, const std::vector<int>& rows) const;
  std::int64_t parameters() const;
  std::vector<int> components_per_class() const;  // 0 for a class absent from training

 private:
  int n_classes_ = 0;
  std::vector<DiagonalGmm> gmms_;  // (n_classes), components == 0 where the class is absent
};

}  // namespace ser::classic::detail
