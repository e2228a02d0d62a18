// z-scoring of utterance features with statistics of chosen rows only (the training side of a fold).
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "ser/classic.hpp"
#include "ser/error.hpp"

namespace ser::classic {

Standardizer fit_standardizer(const FeatureMatrix& x, const std::vector<int>& rows) {
  if (rows.empty()) throw Error("standardizer: no rows to take statistics from");
  const auto cols = static_cast<std::size_t>(x.cols);
  Standardizer s;
  s.mean.assign(cols, 0.0);
  s.std.assign(cols, 0.0);
  for (int r : rows) {
    if (r < 0 || r >= x.rows)
      throw Error(std::string("standardizer: row ").append(std::to_string(r)).append(" out of range"));
    const double* v = &x.data[static_cast<std::size_t>(r) * cols];
    for (std::size_t j = 0; j < cols; ++j) s.mean[j] += v[j];
  }
  const auto n = static_cast<double>(rows.size());
  for (double& m : s.mean) m /= n;
  // Two passes (mean first): the features mix scales from 1e-3 (jitter) to 1e2 (F0 in Hz).
  for (int r : rows) {
    const double* v = &x.data[static_cast<std::size_t>(r) * cols];
    for (std::size_t j = 0; j < cols; ++j) s.std[j] += (v[j] - s.mean[j]) * (v[j] - s.mean[j]);
  }
  for (double& sd : s.std) {
    sd = std::sqrt(sd / n);
    if (!(sd >= kConstantColumnStd)) sd = 1.0;  // constant over these rows: centre only
  }
  return s;
}

FeatureMatrix standardize(const FeatureMatrix& x, const Standardizer& s) {
  if (s.mean.size() != static_cast<std::size_t>(x.cols) || s.std.size() != static_cast<std::size_t>(x.cols))
    throw Error("standardize: the statistics do not match the feature matrix's columns");
  FeatureMatrix out = x;
  const auto cols = static_cast<std::size_t>(x.cols);
  for (std::size_t i = 0; i < static_cast<std::size_t>(x.rows); ++i)
    for (std::size_t j = 0; j < cols; ++j) out.data[i * cols + j] = (x.data[i * cols + j] - s.mean[j]) / s.std[j];
  return out;
}

}  // namespace ser::classic
