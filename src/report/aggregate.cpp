// src/report/aggregate.cpp — per-model aggregates over runs; significance against the baseline.
#include "report/aggregate.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "report/format.hpp"
#include "report/prediction_tests.hpp"
#include "report/stats.hpp"
#include "ser/error.hpp"

namespace ser::report {

using nlohmann::json;

namespace {

// "fold 3 seed 2" — how a run is named in error messages.
std::string run_name(const json& fold) {
  return cat("fold ", fold.contains("fold") ? fold["fold"].dump() : "?", " seed ",
             fold.contains("seed") ? fold["seed"].dump() : "?");
}

double number_field(const json& fold, const char* key, const std::string& model) {
  const auto it = fold.find(key);
  if (it == fold.end() || !it->is_number())
    throw Error(cat("results: model \"", model, "\", ", run_name(fold), ": \"", key, "\" is missing or not a number"));
  const double v = it->get<double>();
  if (!std::isfinite(v))
    throw Error(cat("results: model \"", model, "\", ", run_name(fold), ": \"", key, "\" is not finite"));
  return v;
}

// Optional numeric field: the values of the runs that have it.
std::vector<double> present_values(const json& folds, const char* key) {
  std::vector<double> v;
  for (const json& f : folds)
    if (f.contains(key) && f[key].is_number() && std::isfinite(f[key].get<double>())) v.push_back(f[key].get<double>());
  return v;
}

// Every run's per-utterance predictions, keyed by (seed, fold, path). Empty when a run has none
// (results written before runs kept them).
using UtteranceKey = std::tuple<long long, long long, std::string>;
struct UtterancePrediction {
  int truth = 0, predicted = 0;
};
std::map<UtteranceKey, UtterancePrediction> predictions_of(const json& folds, const std::string& model) {
  std::map<UtteranceKey, UtterancePrediction> out;
  for (const json& f : folds) {
    if (!f.contains("predictions") || !f.contains("seed") || !f.contains("fold")) return {};
    const json& p = f["predictions"];
    const std::string where = cat("results: model \"", model, "\", ", run_name(f), ": predictions ");
    if (!p.contains("paths") || !p.contains("truth") || !p.contains("predicted") || !p["paths"].is_array() ||
        p["truth"].size() != p["paths"].size() || p["predicted"].size() != p["paths"].size())
      throw Error(cat(where, "need \"paths\", \"truth\" and \"predicted\" of equal length"));
    for (std::size_t i = 0; i < p["paths"].size(); ++i) {
      if (!p["paths"][i].is_string() || !p["truth"][i].is_number_integer() || !p["predicted"][i].is_number_integer())
        throw Error(cat(where, "entry ", std::to_string(i), " is not (path, class, class)"));
      const UtteranceKey key{f["seed"].get<long long>(), f["fold"].get<long long>(), p["paths"][i].get<std::string>()};
      if (!out.emplace(key, UtterancePrediction{p["truth"][i].get<int>(), p["predicted"][i].get<int>()}).second)
        throw Error(cat(where, "name ", p["paths"][i].get<std::string>(), " twice"));
    }
  }
  return out;
}

// The approximate randomisation test and paired bootstrap of pooled UA between predictions a and
// b of the same utterances, matched by (seed, fold, path); a reason instead when either has no
// predictions or they do not cover the same utterances. a_name, b_name only appear in errors.
json compare_predictions(const std::map<UtteranceKey, UtterancePrediction>& a, const std::string& a_name,
                         const std::map<UtteranceKey, UtterancePrediction>& b, const std::string& b_name) {
  if (a.empty() || b.empty()) return {{"reason", "runs without per-utterance predictions"}};
  if (a.size() != b.size()) return {{"reason", "the two models' runs predicted different utterances"}};
  std::vector<int> truth, pa, pb;
  for (const auto& [key, p] : a) {
    const auto it = b.find(key);
    if (it == b.end()) return {{"reason", "the two models' runs predicted different utterances"}};
    if (it->second.truth != p.truth)
      throw Error(cat("results: \"", a_name, "\" and \"", b_name, "\" disagree on the class of ", std::get<2>(key)));
    truth.push_back(p.truth);
    pa.push_back(p.predicted);
    pb.push_back(it->second.predicted);
  }
  int k = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) k = std::max({k, truth[i] + 1, pa[i] + 1, pb[i] + 1});
  const PairedPredictionTest t = paired_prediction_test(truth, pa, pb, k);
  if (!t.valid) return {{"reason", t.reason}};
  return {{"metric", "pooled_ua"}, {"utterances", t.n}, {"discordant", t.discordant}, {"difference", t.difference},
          {"p_value", t.p_value}, {"method", t.method}, {"permutations", t.permutations},
          {"bootstrap_resamples", t.bootstrap_resamples}, {"ci95", {t.ci_low, t.ci_high}}};
}

// Seed ensemble: when the runs of two or more seeds kept posteriors, every (fold, path)'s
// posteriors are averaged over the seeds and the argmax is the ensemble's prediction;
// seed_ensemble_ua is the pooled UA of those predictions. Null unless every seed predicted every
// utterance of every fold.
void add_seed_ensemble(json& model, const json& folds, std::size_t k) {
  model["seed_ensemble_ua"] = nullptr;
  struct Sum {
    int truth = 0, runs = 0;
    std::vector<double> p;
  };
  std::map<std::pair<long long, std::string>, Sum> sums;
  std::map<long long, int> seeds;
  for (const json& f : folds) {
    if (!f.contains("predictions") || !f["predictions"].contains("posteriors") || !f.contains("seed") ||
        !f.contains("fold"))
      return;
    const json& p = f["predictions"];
    const json& post = p["posteriors"];
    if (!post.is_array() || post.size() != p["paths"].size()) return;
    ++seeds[f["seed"].get<long long>()];
    for (std::size_t i = 0; i < post.size(); ++i) {
      if (!post[i].is_array() || post[i].size() != k) return;
      Sum& s = sums[{f["fold"].get<long long>(), p["paths"][i].get<std::string>()}];
      if (s.p.empty()) s.p.assign(k, 0.0);
      s.truth = p["truth"][i].get<int>();
      ++s.runs;
      for (std::size_t c = 0; c < k; ++c) s.p[c] += post[i][c].get<double>();
    }
  }
  if (seeds.size() < 2) return;
  std::vector<int> truth, predicted;
  for (const auto& [key, s] : sums) {
    if (s.runs != static_cast<int>(seeds.size())) return;  // some seed lacks this utterance
    truth.push_back(s.truth);
    predicted.push_back(static_cast<int>(std::max_element(s.p.begin(), s.p.end()) - s.p.begin()));
  }
  model["seed_ensemble_ua"] = pooled_ua(truth, predicted, static_cast<int>(k));
  model["seed_ensemble_seeds"] = seeds.size();
}

// Refit engine models (experiment engine_refit) keep, per run, the test metrics and predictions of
// the model selected on validation that the refit replaced ("validation_selected"). refit_effect
// compares the two on the same utterances: fold-mean and pooled UA of the validation-selected
// models, and the per-utterance test of refit against them. Absent unless every run has them.
void add_refit_effect(json& model, const json& folds, const std::string& name, std::size_t k) {
  json selected = json::array();
  for (const json& f : folds) {
    if (!f.contains("validation_selected")) return;
    json s = f["validation_selected"];
    s["seed"] = f.value("seed", json(nullptr));
    s["fold"] = f.value("fold", json(nullptr));
    selected.push_back(std::move(s));
  }
  std::vector<double> ua;
  for (const json& s : selected) ua.push_back(number_field(s, "ua", name + " (validation-selected)"));
  const auto chosen = predictions_of(selected, name);
  std::vector<int> truth, predicted;
  for (const auto& [key, p] : chosen) {
    truth.push_back(p.truth);
    predicted.push_back(p.predicted);
  }
  model["refit_effect"] = {
      {"validation_selected_ua_mean", mean_std(ua).mean},
      {"validation_selected_ua_std", mean_std(ua).std},
      {"validation_selected_pooled_ua", chosen.empty() ? json(nullptr) : json(pooled_ua(truth, predicted, static_cast<int>(k)))},
      {"per_utterance", compare_predictions(predictions_of(folds, name), name + " (refit)", chosen,
                                            name + " (validation-selected)")}};
}

// Mean and std of every run metric.
void add_metric_means(json& model, const json& folds, const std::string& name) {
  for (const char* metric : kRunMetrics) {
    std::vector<double> v;
    for (const json& f : folds) v.push_back(number_field(f, metric, name));
    const MeanStd ms = mean_std(v);
    model[cat(metric, "_mean")] = ms.mean;
    model[cat(metric, "_std")] = ms.std;
  }
}

// The confusion matrices summed over the runs and the per-class recalls of each run, checked: every
// run has a k x k matrix of counts (k from the first run).
struct ClassTotals {
  std::vector<std::vector<double>> confusion;  // (k, k) counts
  std::vector<std::vector<double>> recall;     // per class, the runs where it is present
};

ClassTotals class_totals(const json& folds, const std::string& name) {
  for (const json& f : folds)
    if (!f.contains("confusion") || !f["confusion"].is_array())
      throw Error(cat("results: model \"", name, "\", ", run_name(f), ": \"confusion\" is missing or not a matrix"));
  const std::size_t k = folds[0]["confusion"].size();
  ClassTotals t{std::vector<std::vector<double>>(k, std::vector<double>(k, 0.0)), std::vector<std::vector<double>>(k)};
  for (const json& f : folds) {
    const json& c = f["confusion"];
    const std::string where = cat("results: model \"", name, "\", ", run_name(f), ": ");
    if (!c.is_array() || c.size() != k) throw Error(cat(where, "confusion matrix is not ", std::to_string(k), " x ", std::to_string(k)));
    for (std::size_t i = 0; i < k; ++i) {
      if (!c[i].is_array() || c[i].size() != k) throw Error(cat(where, "confusion row ", std::to_string(i), " does not have ", std::to_string(k), " entries"));
      for (std::size_t j = 0; j < k; ++j) {
        if (!c[i][j].is_number() || c[i][j].get<double>() < 0) throw Error(cat(where, "confusion holds a value that is not a count"));
        t.confusion[i][j] += c[i][j].get<double>();
      }
    }
    if (f.contains("per_class_recall")) {
      const json& r = f["per_class_recall"];
      if (!r.is_array() || r.size() != k) throw Error(cat(where, "per_class_recall does not have ", std::to_string(k), " values"));
      for (std::size_t i = 0; i < k; ++i)
        if (r[i].is_number()) t.recall[i].push_back(r[i].get<double>());  // null: class absent from this test set
    }
  }
  return t;
}

// Per-class recall mean and std (null for a class never tested), the summed and the row-normalised
// confusion matrix.
void add_class_tables(json& model, const ClassTotals& t) {
  const std::size_t k = t.confusion.size();
  json rmean = json::array(), rstd = json::array();
  for (std::size_t i = 0; i < k; ++i) {
    if (t.recall[i].empty()) {
      rmean.push_back(nullptr);
      rstd.push_back(nullptr);
    } else {
      const MeanStd ms = mean_std(t.recall[i]);
      rmean.push_back(ms.mean);
      rstd.push_back(ms.std);
    }
  }
  model["per_class_recall_mean"] = rmean;
  model["per_class_recall_std"] = rstd;

  json summed = json::array(), normalized = json::array();
  for (std::size_t i = 0; i < k; ++i) {
    double row = 0;
    json srow = json::array(), nrow = json::array();
    for (std::size_t j = 0; j < k; ++j) {
      row += t.confusion[i][j];
      srow.push_back(static_cast<std::int64_t>(std::llround(t.confusion[i][j])));
    }
    for (std::size_t j = 0; j < k; ++j) nrow.push_back(row > 0 ? t.confusion[i][j] / row : 0.0);
    summed.push_back(srow);
    normalized.push_back(nrow);
  }
  model["confusion"] = summed;
  model["confusion_normalized"] = normalized;
}

// Training time, inference speed, run count, and the validation UA of the selected model (engine:
// best epoch; classic: chosen hyper-parameters): what recipe choices are made on, never the test UA.
void add_run_facts(json& model, const json& folds) {
  const std::vector<double> train_s = present_values(folds, "train_seconds");
  const std::vector<double> speed = present_values(folds, "inference_utterances_per_second");
  double total = 0;
  for (double s : train_s) total += s;
  model["train_seconds_mean"] = train_s.empty() ? json(nullptr) : json(mean_std(train_s).mean);
  model["train_seconds_total"] = train_s.empty() ? json(nullptr) : json(total);
  model["inference_utterances_per_second"] = speed.empty() ? json(nullptr) : json(mean_std(speed).mean);
  model["runs"] = folds.size();
  const std::vector<double> val = present_values(folds, "validation_ua");
  model["validation_ua_mean"] = val.empty() ? json(nullptr) : json(mean_std(val).mean);
  model["validation_ua_std"] = val.empty() ? json(nullptr) : json(mean_std(val).std);
}

// UA over every test utterance of every run at once (each seed contributes each utterance once).
void add_pooled_ua(json& model, const json& folds, const std::string& name, std::size_t k) {
  const auto preds = predictions_of(folds, name);
  if (preds.empty()) {
    model["pooled_ua"] = nullptr;
    return;
  }
  std::vector<int> truth, predicted;
  for (const auto& [key, p] : preds) {
    truth.push_back(p.truth);
    predicted.push_back(p.predicted);
  }
  model["pooled_ua"] = pooled_ua(truth, predicted, static_cast<int>(k));
  model["pooled_utterances"] = truth.size();
}

}  // namespace

void aggregate_model(json& model, const std::string& name) {
  if (!model.contains("folds") || !model["folds"].is_array() || model["folds"].empty())
    throw Error(cat("results: model \"", name, "\" has no runs in \"folds\""));
  const json& folds = model["folds"];
  add_metric_means(model, folds, name);
  const ClassTotals totals = class_totals(folds, name);
  const std::size_t k = totals.confusion.size();
  add_class_tables(model, totals);
  add_run_facts(model, folds);
  add_pooled_ua(model, folds, name, k);
  add_seed_ensemble(model, folds, k);
  add_refit_effect(model, folds, name, k);
}

json with_aggregates(const json& results) {
  json r = results;
  if (!r.contains("models") || !r["models"].is_object()) return r;
  for (auto& [name, model] : r["models"].items())
    if (!model.contains("ua_mean") && model.contains("folds") && model["folds"].is_array() && !model["folds"].empty())
      aggregate_model(model, name);
  return r;
}

ModelList models_in_order(const json& results) {
  ModelList out;
  if (!results.contains("models") || !results["models"].is_object()) return out;
  const json& models = results["models"];
  std::vector<std::string> seen;
  if (results.contains("model_order") && results["model_order"].is_array())
    for (const json& n : results["model_order"])
      if (n.is_string() && models.contains(n.get<std::string>()) && std::find(seen.begin(), seen.end(), n.get<std::string>()) == seen.end()) {
        seen.push_back(n.get<std::string>());
        out.emplace_back(n.get<std::string>(), models[n.get<std::string>()]);
      }
  for (const auto& [name, model] : models.items())
    if (std::find(seen.begin(), seen.end(), name) == seen.end()) out.emplace_back(name, model);
  return out;
}

std::string best_model_by_ua(const json& results) {
  std::string best;
  double best_ua = -1;
  if (!results.contains("models") || !results["models"].is_object()) return best;
  for (const auto& [name, model] : models_in_order(results)) {  // ties go to the first in display order
    const auto it = model.find("ua_mean");
    if (it != model.end() && it->is_number() && it->get<double>() > best_ua) {
      best_ua = it->get<double>();
      best = name;
    }
  }
  return best;
}

namespace {

}  // namespace

void add_significance(json& results, const std::string& baseline, const std::string& metric) {
  const json& models = results.at("models");
  if (!models.contains(baseline))
    throw Error(cat("results: baseline model \"", baseline, "\" is not among the models"));

  // (seed, fold) -> metric value, one map per model.
  using Key = std::pair<long long, long long>;
  auto runs_of = [&](const std::string& name) {
    std::map<Key, double> m;
    for (const json& f : models.at(name).at("folds")) {
      if (!f.contains("seed") || !f.contains("fold") || !f["seed"].is_number_integer() || !f["fold"].is_number_integer())
        throw Error(cat("results: model \"", name, "\": a run lacks an integer \"seed\" or \"fold\""));
      const Key key{f["seed"].get<long long>(), f["fold"].get<long long>()};
      if (!m.emplace(key, number_field(f, metric.c_str(), name)).second)
        throw Error(cat("results: model \"", name, "\" has two runs for ", run_name(f)));
    }
    return m;
  };
  const std::map<Key, double> base = runs_of(baseline);
  const auto base_predictions = predictions_of(models.at(baseline).at("folds"), baseline);  // parsed once

  json out = json::array();
  for (const auto& [name, model] : models_in_order(results)) {
    if (name == baseline) continue;
    const std::map<Key, double> runs = runs_of(name);
    auto missing = [&](const std::string& lacking, const std::string& having, const Key& key) {
      return Error(cat("results: model \"", lacking, "\" has no run for seed ", std::to_string(key.first), " fold ",
                       std::to_string(key.second), ", which \"", having, "\" has; the paired tests need every pair"));
    };
    for (const auto& [key, v] : base)
      if (!runs.count(key)) throw missing(name, baseline, key);
    for (const auto& [key, v] : runs)
      if (!base.count(key)) throw missing(baseline, name, key);

    std::vector<double> a, b;  // model, baseline; ordered by (seed, fold)
    int wins = 0, losses = 0, ties = 0;
    for (const auto& [key, v] : runs) {
      a.push_back(v);
      b.push_back(base.at(key));
      const double d = v - base.at(key);
      if (std::fabs(d) <= kTieTolerance) ++ties;
      else (d > 0 ? wins : losses) += 1;
    }
    std::vector<double> diff(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) diff[i] = a[i] - b[i];

    const TestResult w = wilcoxon_signed_rank(a, b);
    const TestResult t = paired_t_test(a, b);
    json wj{{"statistic", w.statistic}, {"p_value", w.valid ? json(w.p_value) : json(nullptr)},
            {"method", w.method}, {"n", w.n}, {"zeros_dropped", w.zeros_dropped}};
    if (!w.valid) wj["reason"] = w.reason;
    json tj{{"statistic", t.valid ? json(t.statistic) : json(nullptr)}, {"df", t.df},
            {"p_value", t.valid ? json(t.p_value) : json(nullptr)}};
    if (!t.valid) tj["reason"] = t.reason;
    out.push_back({{"model", name}, {"baseline", baseline}, {"metric", metric},
                   {"pairs", static_cast<int>(a.size())}, {"mean_difference", mean_std(diff).mean},
                   {"wins", wins}, {"losses", losses}, {"ties", ties}, {"wilcoxon", wj}, {"paired_t", tj},
                   {"per_utterance", compare_predictions(predictions_of(models.at(name).at("folds"), name), name, base_predictions, baseline)}});
  }
  results["significance"] = out;
}

}  // namespace ser::report
