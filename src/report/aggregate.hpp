// src/report/aggregate.hpp — a model's results over its runs (folds x seeds) and the paired
// comparison of every model with the baseline. Both work on the results.json tree in place.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace ser::report {

// The metrics averaged by aggregate_model: "<metric>_mean" and "<metric>_std" over all runs.
inline constexpr const char* kRunMetrics[] = {"accuracy", "ua", "macro_precision", "macro_recall", "macro_f1"};

// Fills the aggregate fields of one model from its "folds": <metric>_mean/_std for kRunMetrics,
// per_class_recall_mean/_std (over the runs where the class is present; null where it never is),
// confusion (counts summed over all runs) and confusion_normalized (rows sum to 1; an empty row stays
// 0), train_seconds_mean/_total, inference_utterances_per_second (mean), runs,
// validation_ua_mean/_std (over the runs that report one), and pooled_ua (UA over
// every test utterance of every run at once, from the runs' "predictions"; null when a run has
// none) with pooled_utterances, and seed_ensemble_ua (the pooled UA of posteriors averaged over
// seeds per fold and utterance, engine models with two or more seeds; else null) with
// seed_ensemble_seeds, and for refit engine models refit_effect (the validation-selected models'
// fold-mean and pooled UA on the same utterances, and the per-utterance test of the refit against
// them). Throws ser::Error
// naming the run when a fold lacks a metric or the class counts disagree.
// `name` (the model's key in results["models"]) only appears in error messages.
void aggregate_model(nlohmann::json& model, const std::string& name = "?");

// A copy of `results` in which every model without "ua_mean" has been aggregated, so the writers
// accept results before or after aggregate_model. Models without runs are left as they are.
nlohmann::json with_aggregates(const nlohmann::json& results);
// The models in display order: nlohmann::json keeps object keys sorted, not in insertion order, so
// the order is taken from results["model_order"] (a list of model names) when present; models it
// does not name follow in key order.
using ModelList = std::vector<std::pair<std::string, nlohmann::json>>;
ModelList models_in_order(const nlohmann::json& results);
// Key of the model with the highest ua_mean, "" when there is none.
std::string best_model_by_ua(const nlohmann::json& results);

// Writes results["significance"]: for every model other than `baseline`, in display order, the
// paired comparison on `metric` over runs matched by (seed, fold) (Wilcoxon, paired t), and
// "per_utterance": the approximate randomisation test and paired bootstrap interval of pooled UA
// over utterances matched by (seed, fold, path) (report/prediction_tests.hpp), or a reason. Throws ser::Error when the
// baseline is not a model, or when one of the two models lacks a (seed, fold) the other has.
void add_significance(nlohmann::json& results, const std::string& baseline, const std::string& metric = "ua");

}  // namespace ser::report
