// src/experiment/progress.cpp — experiment progress and ETA.
#include "experiment/progress.hpp"

#include <cstdio>

#include "util/wall_clock.hpp"

namespace ser::experiment {

ExperimentProgress::ExperimentProgress(int models, int runs_per_model)
    : models_(models), runs_per_model_(runs_per_model), started_(now_seconds()) {}

std::string ExperimentProgress::start(const std::string& model, int model_index, int fold, int folds,
                                      std::uint64_t seed, const std::string& test_speakers) {
  if (!remaining_.count(model)) remaining_[model] = runs_per_model_;
  char buf[320];
  std::snprintf(buf, sizeof buf, "[run %d/%d] model %d/%d %s, seed %llu, fold %d/%d (test %s)  elapsed %s  ETA %s",
                done_ + 1, models_ * runs_per_model_, model_index + 1, models_, model.c_str(),
                static_cast<unsigned long long>(seed), fold + 1, folds, test_speakers.c_str(),
                clock_text(now_seconds() - started_).c_str(), done_ == 0 ? "?" : clock_text(eta_seconds()).c_str());
  return buf;
}

void ExperimentProgress::finish(const std::string& model, double seconds) {
  ++done_;
  if (!remaining_.count(model)) remaining_[model] = runs_per_model_;
  --remaining_[model];
  if (seconds > 0) {
    timed_[model].first += 1;
    timed_[model].second += seconds;
  }
}

double ExperimentProgress::eta_seconds() const {
  // Models not started yet are estimated by the mean over all timed runs.
  double all_s = 0;
  int all_n = 0;
  for (const auto& [m, t] : timed_) { all_n += t.first; all_s += t.second; }
  const double fallback = all_n ? all_s / all_n : 0;
  double eta = 0;
  int unseen = models_ - static_cast<int>(remaining_.size());
  for (const auto& [m, left] : remaining_) {
    const auto it = timed_.find(m);
    eta += left * (it != timed_.end() && it->second.first ? it->second.second / it->second.first : fallback);
  }
  eta += static_cast<double>(unseen) * runs_per_model_ * fallback;
  return eta;
}

}  // namespace ser::experiment
