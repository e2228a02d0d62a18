// src/train/metrics.cpp — accuracy, UA, macro P/R/F1 and the confusion matrix.
#include <nlohmann/json.hpp>

#include "ser/error.hpp"
#include "ser/metrics.hpp"

namespace ser {

ClassMetrics compute_metrics(const std::vector<int>& truth, const std::vector<int>& pred, int k) {
  if (truth.size() != pred.size()) throw Error("metrics: truth and predictions differ in length");
  ClassMetrics m;
  m.n_classes = k;
  m.confusion.assign(static_cast<std::size_t>(k), std::vector<std::int64_t>(static_cast<std::size_t>(k), 0));
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || truth[i] >= k || pred[i] < 0 || pred[i] >= k)
      throw Error("metrics: class index out of range");
    ++m.confusion[static_cast<std::size_t>(truth[i])][static_cast<std::size_t>(pred[i])];
  }
  m.total = static_cast<std::int64_t>(truth.size());
  std::int64_t correct = 0;
  int present = 0;
  double sr = 0, sp = 0, sf = 0;
  for (int c = 0; c < k; ++c) {
    const auto cs = static_cast<std::size_t>(c);
    std::int64_t row = 0, col = 0;
    for (int j = 0; j < k; ++j) { row += m.confusion[cs][static_cast<std::size_t>(j)]; col += m.confusion[static_cast<std::size_t>(j)][cs]; }
    const std::int64_t tp = m.confusion[cs][cs];
    correct += tp;
    const double r = row > 0 ? double(tp) / row : 0.0;
    const double p = col > 0 ? double(tp) / col : 0.0;
    const double f = (p + r) > 0 ? 2 * p * r / (p + r) : 0.0;
    m.recall.push_back(r);
    m.precision.push_back(p);
    m.f1.push_back(f);
    if (row > 0) { ++present; sr += r; sp += p; sf += f; }
  }
  m.accuracy = m.total > 0 ? double(correct) / m.total : 0.0;
  m.ua = present > 0 ? sr / present : 0.0;
  m.macro_recall = m.ua;
  m.macro_precision = present > 0 ? sp / present : 0.0;
  m.macro_f1 = present > 0 ? sf / present : 0.0;
  return m;
}

nlohmann::json to_json(const ClassMetrics& m) {
  return {{"accuracy", m.accuracy}, {"ua", m.ua}, {"macro_precision", m.macro_precision},
          {"macro_recall", m.macro_recall}, {"macro_f1", m.macro_f1}, {"recall", m.recall},
          {"precision", m.precision}, {"f1", m.f1}, {"confusion", m.confusion}, {"total", m.total}};
}

}  // namespace ser
