// src/experiment/progress.hpp — the experiment-wide progress line: which model, fold and seed is
// running, how many runs are done, elapsed time and an ETA from the finished runs of each model.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace ser::experiment {

class ExperimentProgress {
 public:
  // runs_per_model: folds x seeds.
  ExperimentProgress(int models, int runs_per_model);
  // Call when a run starts; returns the line to print.
  std::string start(const std::string& model, int model_index, int fold, int folds, std::uint64_t seed,
                    const std::string& test_speakers);
  // Call when a run finishes (seconds it took; 0 for a reused result, which is not counted in the ETA).
  void finish(const std::string& model, double seconds);
  double eta_seconds() const;

 private:
  int models_, runs_per_model_, done_ = 0;
  double started_;
  std::map<std::string, std::pair<int, double>> timed_;  // model -> (timed runs, seconds)
  std::map<std::string, int> remaining_;
};

}  // namespace ser::experiment
