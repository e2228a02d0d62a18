// ser/metrics.hpp — classification metrics of an evaluation: accuracy, unweighted average recall
// (UA, the class-balanced accuracy), macro precision / recall / F1, per-class recall, confusion matrix.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ser {

struct ClassMetrics {
  int n_classes = 0;
  std::int64_t total = 0;
  std::vector<std::vector<std::int64_t>> confusion;  // [true][predicted] counts
  double accuracy = 0;         // correct / total
  double ua = 0;               // mean recall over classes present in the reference
  double macro_precision = 0;  // over classes present in the reference (0 precision when never predicted)
  double macro_recall = 0;     // = ua
  double macro_f1 = 0;
  std::vector<double> recall, precision, f1;  // per class (NaN-free: 0 where undefined)
};

ClassMetrics compute_metrics(const std::vector<int>& truth, const std::vector<int>& predicted, int n_classes);
nlohmann::json to_json(const ClassMetrics& m);

}  // namespace ser
