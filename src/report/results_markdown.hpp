// src/report/results_markdown.hpp — results.md of an experiment: the comparison table of the
// models, per-class recall, significance against the baseline, the confusion matrix of the best model
// and the cross-corpus results. Percentages with one decimal, mean ± sample std over runs.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace ser::report {

// Accepts results before or after aggregate_model (models without aggregates are aggregated on a copy).
std::string results_markdown(const nlohmann::json& results);

}  // namespace ser::report
