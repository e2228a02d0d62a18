// ser/classic.hpp — the paper's classic baselines: SVM (libsvm, linear and RBF), k-NN and per-class
// GMMs on utterance-level acoustic and prosodic functionals (docs/baselines.md).
//
// One call, run_classic, is the whole protocol for one speaker-independent fold: standardise, choose
// the hyper-parameters on the validation speakers, refit on train + validation, predict the test
// speakers once.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ser/cache.hpp"

namespace ser::classic {

// Utterance-level feature vectors.
struct FeatureMatrix {
  int rows = 0, cols = 0;
  std::vector<double> data;        // (rows, cols) row-major
  std::vector<std::string> names;  // (cols)
};

// MFCC statistics computed from the cache's log-mel frames, then the cache's own functionals.
// Per frame: orthonormal DCT-II of the log-mel frame, coefficients 0 .. n_mfcc-1; deltas by the
// Kaldi/HTK regression over +-2 frames (edge frames repeated). Per utterance: population mean and
// standard deviation of each. Columns, in order:
//   mfcc{i}_mean (i < n_mfcc), mfcc{i}_std, dmfcc{i}_mean, dmfcc{i}_std, then cache.functional_names.
// An utterance without frames gets 0 for its MFCC statistics. Throws ser::Error when n_mfcc is not in
// [1, n_mels] or the cache's arrays disagree in size.
FeatureMatrix utterance_features(const FeatureCache& cache, int n_mfcc = 13);
// Columns utterance_features puts before the cache's functionals.
inline int mfcc_statistic_columns(int n_mfcc = 13) { return 4 * n_mfcc; }
// The cache with its functionals replaced by utterance_features(cache) (as float): what models with
// [model] functionals = "utterance" read, in training, evaluation and inference alike.
FeatureCache with_utterance_features(const FeatureCache& cache, int n_mfcc = 13);

// z-scoring with the statistics of the given rows only, so that nothing of the test fold leaks into
// training. Population std; a column whose std over those rows is below kConstantColumnStd is taken
// as constant and only centred (std stored as 1), so a value unseen in training is not blown up.
inline constexpr double kConstantColumnStd = 1e-8;
struct Standardizer {
  std::vector<double> mean, std;  // (cols)
};
Standardizer fit_standardizer(const FeatureMatrix& x, const std::vector<int>& rows);
FeatureMatrix standardize(const FeatureMatrix& x, const Standardizer& s);  // all rows

// Hyper-parameter grids; the defaults suit z-scored SER functionals (about 100 columns).
struct ClassicOptions {
  std::vector<double> svm_c{0.01, 0.1, 1, 10, 100};
  std::vector<double> svm_gamma_scale{0.25, 0.5, 1, 2, 4};  // gamma = scale / n_features
  // false: SVM test_scores are one-vs-one votes plus a decision-value tie-breaker (below).
  // true: libsvm's pairwise-coupled Platt probabilities for the final model (5-fold internal CV,
  // about 5x the final fit; libsvm draws its folds with rand(), seeded by srand(seed) first).
  bool svm_probability = false;
  std::vector<int> knn_k{1, 3, 5, 7, 9, 15};
  std::vector<int> gmm_components{1, 2, 4, 8};
  int gmm_max_iterations = 200;
  double gmm_variance_floor = 1e-3;  // on standardised features
  double gmm_tolerance = 1e-6;       // EM stops when the mean log-likelihood per row gains less
};

struct ClassicResult {
  std::string model;             // "svm_linear" | "svm_rbf" | "knn" | "gmm"
  nlohmann::json chosen;         // the chosen hyper-parameters, e.g. {"C": 1, "gamma": 0.01}
  nlohmann::json grid;           // every grid point tried: [{"setting": {...}, "validation_ua": u}, ...]
  double validation_ua = 0;      // of the chosen setting (class-balanced accuracy)
  std::vector<int> predicted;    // for `test`, in its order
  // (n_test, n_classes), higher = more likely; `predicted` holds the row's largest score (with
  // svm_probability the predictions still come from the votes, the rule the grid search used).
  //   svm  : votes of the one-vs-one classifiers + logistic(mean decision value of the class against
  //          the others), i.e. votes with the margin as a tie-breaker; a class absent from the
  //          training rows scores 0. With svm_probability: libsvm's class probabilities.
  //   knn  : fraction of the k neighbours in each class.
  //   gmm  : posterior p(class | x) with a uniform prior over the classes seen in training.
  std::vector<std::vector<double>> test_scores;
  double fit_seconds = 0;        // the final fit (train + validation)
  double predict_seconds = 0;    // predicting the test rows
  // Stored numbers of the final model: support vectors x dims + dual coefficients + biases (SVM);
  // fitted rows x dims (k-NN); means, variances and weights (GMM).
  std::int64_t parameters = 0;
};

// The whole protocol for one fold:
//   1. standardise with the statistics of `train`; for each grid point fit on `train` and score UA on
//      `validation`; keep the best (ties: the simpler setting — smaller C, then smaller gamma; larger
//      k; fewer components);
//   2. refit the chosen setting on train + validation, standardised with train + validation
//      statistics, and predict `test`.
// Deterministic given `seed`. `labels` has one entry per row of x, in [0, n_classes). Throws
// ser::Error for an unknown model name, an empty train or validation set, an out-of-range row or
// label, or a row in more than one of the three sets.
ClassicResult run_classic(const std::string& model, const FeatureMatrix& x, const std::vector<int>& labels,
                          int n_classes, const std::vector<int>& train, const std::vector<int>& validation,
                          const std::vector<int>& test, std::uint64_t seed, const ClassicOptions& options = {});

// The model names run_classic knows, in the order of the paper's table.
const std::vector<std::string>& classic_models();

}  // namespace ser::classic
