// src/experiment/fold_runner.cpp — running one (model, fold, seed) of an experiment.
#include "experiment/fold_runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "ser/error.hpp"
#include "ser/metrics.hpp"
#include "ser/model_config.hpp"
#include "ser/train.hpp"
#include "engine/dataset.hpp"
#include "util/atomic_file.hpp"

namespace ser::experiment {
namespace fs = std::filesystem;

namespace {

nlohmann::json learning_curve(const std::string& metrics_path) {
  nlohmann::json curve = nlohmann::json::array();
  std::ifstream in(metrics_path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) throw file_error(metrics_path, "holds a line that is not JSON");
    curve.push_back({{"epoch", j.at("epoch")}, {"train_loss", j.at("train_loss")}, {"val_loss", j.at("val_loss")},
                     {"train_accuracy", j.at("train_accuracy")}, {"val_ua", j.at("val_ua")}});
  }
  return curve;
}

double round2(double v) { return std::round(v * 100.0) / 100.0; }

// The report's view of one utterance: its log-mel (time-strided to at most 400 frames) and the
// attention weights spread over the frames each pooled step covers, summing to 1.
nlohmann::json example_entry(const std::string& model, const FeatureCache& c, const AttentionExample& e) {
  const auto u = static_cast<std::size_t>(e.utterance);
  const std::int64_t t0 = c.offsets[u], frames = c.offsets[u + 1] - t0;
  const int m = c.n_mels();
  const std::int64_t stride = std::max<std::int64_t>(1, (frames + 399) / 400);
  std::vector<double> per_frame(static_cast<std::size_t>(frames), 0.0);
  for (std::int64_t t = 0; t < frames; ++t) {
    // Frames past the last whole pooled step (pooling floors the length) take the last step's weight.
    const std::size_t step = std::min(static_cast<std::size_t>(t / e.frames_per_step), e.weights.size() - 1);
    if (!e.weights.empty()) per_frame[static_cast<std::size_t>(t)] = e.weights[step] / e.frames_per_step;
  }
  nlohmann::json logmel = nlohmann::json::array(), attention = nlohmann::json::array();
  double total = 0;
  std::vector<double> att;
  for (std::int64_t t = 0; t < frames; t += stride) {
    nlohmann::json row = nlohmann::json::array();
    for (int k = 0; k < m; ++k) row.push_back(round2(c.logmel[static_cast<std::size_t>((t0 + t) * m + k)]));
    logmel.push_back(std::move(row));
    double a = 0;
    for (std::int64_t s = t; s < std::min(frames, t + stride); ++s) a += per_frame[static_cast<std::size_t>(s)];
    att.push_back(a);
    total += a;
  }
  for (double a : att) attention.push_back(total > 0 ? a / total : 0.0);
  const double hop = double(c.config.logmel.hop_length) / c.config.logmel.sample_rate;
  return {{"model", model}, {"path", c.paths[u]}, {"speaker", c.speakers[u]}, {"label", c.labels[u]},
          {"predicted", e.predicted}, {"hop_seconds", hop * static_cast<double>(stride)},
          {"logmel", std::move(logmel)}, {"attention", std::move(attention)}};
}

// Every test utterance's path, true and predicted class, in evaluation order, and (engine models)
// its posteriors (n, classes): what the pooled UA, the per-utterance paired tests and the seed
// ensembles of aggregate.cpp read.
nlohmann::json fold_predictions(const FeatureCache& cache, const std::vector<int>& utterances,
                                const std::vector<int>& truth, const std::vector<int>& predicted,
                                const std::vector<float>& probs = {}) {
  nlohmann::json paths = nlohmann::json::array();
  for (int u : utterances) paths.push_back(cache.paths[static_cast<std::size_t>(u)]);
  nlohmann::json out{{"paths", paths}, {"truth", truth}, {"predicted", predicted}};
  const std::size_t k = cache.class_names.size();
  if (!probs.empty() && probs.size() == utterances.size() * k) {
    nlohmann::json post = nlohmann::json::array();
    for (std::size_t i = 0; i < utterances.size(); ++i)
      post.push_back(std::vector<float>(probs.begin() + static_cast<std::ptrdiff_t>(i * k),
                                        probs.begin() + static_cast<std::ptrdiff_t>((i + 1) * k)));
    out["posteriors"] = post;
  }
  return out;
}

nlohmann::json fold_header(const FoldRun& r) {
  return {{"fold", r.fold.index}, {"seed", r.seed}, {"test_speakers", r.fold.test},
          {"validation_speakers", r.fold.validation}};
}

}  // namespace

RunConfig effective_run_config(const FoldRun& r) {
  RunConfig rc = load_run_config(r.model->config);
  if (r.model->epochs > 0) rc.train.epochs = r.model->epochs;
  if (r.model->attention_after >= 0) {
    if (r.model->attention_after > static_cast<int>(rc.model.conv_channels.size()))
      throw Error("model '" + r.model->name + "': attention_after " + std::to_string(r.model->attention_after) +
                  " exceeds the " + std::to_string(rc.model.conv_channels.size()) + " blocks of " + r.model->config);
    rc.model.attention_after = r.model->attention_after;
    rc.model.name = r.model->name;
  }
  rc.train.seed = r.seed;
  return rc;
}

nlohmann::json fold_metrics(const std::vector<int>& truth, const std::vector<int>& predicted, int k) {
  const ClassMetrics m = compute_metrics(truth, predicted, k);
  nlohmann::json recall = nlohmann::json::array();
  for (int c = 0; c < k; ++c) {
    std::int64_t row = 0;
    for (auto v : m.confusion[static_cast<std::size_t>(c)]) row += v;
    if (row > 0) recall.push_back(m.recall[static_cast<std::size_t>(c)]);
    else recall.push_back(nullptr);
  }
  return {{"accuracy", m.accuracy}, {"ua", m.ua}, {"macro_precision", m.macro_precision},
          {"macro_recall", m.macro_recall}, {"macro_f1", m.macro_f1}, {"per_class_recall", recall},
          {"confusion", m.confusion}, {"test_utterances", m.total}};
}

namespace {

// An interrupted training run of the same config in `dir` continues where it stopped (true);
// anything else there starts over.
bool resume_if_interrupted(const std::string& dir, const RunConfig& rc, std::ostream& log) {
  const std::string last = (fs::path(dir) / "last.h5").string();
  if (!fs::exists(last)) return false;
  std::ifstream in((fs::path(dir) / "config.toml").string());
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str() == to_toml(rc)) {
    log << "  resuming the interrupted run in " << dir << "\n";
    return true;
  }
  fs::remove(last);
  return false;
}

// The summary of a training run in `dir` that finished with this config on this fold's speakers
// (its summary.json, written last, carries the run config, the split and every test posterior), so
// that a fold interrupted after it — during the refit, or before fold.json was written — does not
// train it again. nullopt when there is none or it does not match.
std::optional<TrainSummary> finished_training(const std::string& dir, const RunConfig& rc, const Fold& fold,
                                              const FeatureCache& cache, std::ostream& log) {
  const fs::path path = fs::path(dir) / "summary.json";
  if (!fs::exists(path) || fs::exists(fs::path(dir) / "last.h5")) return std::nullopt;
  std::ifstream in(path.string());
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || j.value("run_config", "") != to_toml(rc) || !j.contains("test_predictions") ||
      !j["best_val_ua"].is_number())
    return std::nullopt;
  auto sorted = [](std::vector<std::string> v) {  // the trainer's split lists speakers in sorted order
    std::sort(v.begin(), v.end());
    return v;
  };
  if (j["split"]["test"].get<std::vector<std::string>>() != sorted(fold.test) ||
      j["split"]["validation"].get<std::vector<std::string>>() != sorted(fold.validation))
    return std::nullopt;
  const std::size_t k = cache.class_names.size();
  TrainSummary s;
  s.best_epoch = j["best_epoch"].get<int>();
  s.best_val_ua = j["best_val_ua"].get<double>();
  s.parameters = j["parameters"].get<std::int64_t>();
  s.seconds = j["seconds"].get<double>();
  for (const auto& p : j["test_predictions"]) {
    const int u = p.value("index", -1);
    if (u < 0 || static_cast<std::size_t>(u) >= cache.paths.size() ||
        cache.paths[static_cast<std::size_t>(u)] != p["path"].get<std::string>() || p["probabilities"].size() != k)
      return std::nullopt;  // another cache, or a summary of an older ser without posteriors
    s.test_utterances.push_back(u);
    s.test_truth.push_back(p["label"].get<int>());
    s.test_predicted.push_back(p["predicted"].get<int>());
    for (const auto& v : p["probabilities"]) s.test_probs.push_back(v.get<float>());
  }
  s.has_test = !s.test_utterances.empty();
  log << "  reusing the finished training run in " << dir << "\n";
  return s;
}

}  // namespace

nlohmann::json run_engine_fold(const FoldRun& r, const FeatureCache& cache, const std::string& cache_name,
                               nlohmann::json& examples, std::ostream& log) {
  const ModelEntry& m = *r.model;
  TrainOptions o;
  o.cache = cache_name;
  o.config = m.config;
  o.out_dir = r.dir;
  o.test_speakers = r.fold.test;
  o.validation_speakers = r.fold.validation;
  o.device = r.device;
  o.kernels = r.kernels;
  o.epochs = m.epochs;
  o.seed = static_cast<std::int64_t>(r.seed);
  o.progress = r.progress;
  o.attention_examples = r.refit ? 0 : r.attention_examples;  // of the model that is tested
  const RunConfig rc = effective_run_config(r);
  if (m.attention_after >= 0) {  // the overridden config is the run's own file
    fs::create_directories(r.dir);
    o.config = (fs::path(r.dir) / "run_config.toml").string();
    util::write_text_atomic(o.config, to_toml(rc));
  }
  // The validation run: reused when it finished before an interruption (attention maps are not
  // kept in its summary, so a run that must give them trains again).
  std::optional<TrainSummary> finished =
      o.attention_examples == 0 ? finished_training(r.dir, rc, r.fold, cache, log) : std::nullopt;
  if (!finished) {
    o.resume = resume_if_interrupted(r.dir, rc, log);
    finished = run_training(o, cache, log);
    fs::remove(fs::path(r.dir) / "last.h5");  // Adam moments are only needed to resume; best.h5 stays for export and predict
  }
  const TrainSummary& selected = *finished;

  // The refit: every non-test speaker, for the epoch count validation chose. Its folder is named by
  // that count, so a rerun that chose another count never resumes it.
  TrainSummary refit;
  if (r.refit) {
    TrainOptions ro = o;
    ro.out_dir = (fs::path(r.dir) / ("refit_e" + std::to_string(selected.best_epoch))).string();
    ro.validation_speakers.clear();
    ro.refit_epochs = selected.best_epoch;
    ro.attention_examples = r.attention_examples;
    ro.resume = resume_if_interrupted(ro.out_dir, rc, log);
    refit = run_training(ro, cache, log);
    fs::remove(fs::path(ro.out_dir) / "last.h5");
  }
  const TrainSummary& tested = r.refit ? refit : selected;
  const int k = static_cast<int>(cache.class_names.size());
  nlohmann::json f = fold_header(r);
  f.update(fold_metrics(tested.test_truth, tested.test_predicted, k));
  f["predictions"] = fold_predictions(cache, tested.test_utterances, tested.test_truth, tested.test_predicted, tested.test_probs);
  f["train_seconds"] = selected.seconds + (r.refit ? refit.seconds : 0.0);
  f["inference_utterances_per_second"] = tested.test_utterances.size() / std::max(tested.test_seconds, 1e-9);
  f["best_epoch"] = selected.best_epoch;
  f["validation_ua"] = selected.best_val_ua;
  f["parameters"] = tested.parameters;
  f["learning_curve"] = learning_curve((fs::path(r.dir) / "metrics.jsonl").string());
  if (r.refit) {
    f["refit_epochs"] = selected.best_epoch;
    nlohmann::json s = fold_metrics(selected.test_truth, selected.test_predicted, k);
    s["predictions"] = fold_predictions(cache, selected.test_utterances, selected.test_truth, selected.test_predicted,
                                        selected.test_probs);
    f["validation_selected"] = std::move(s);  // what the refit replaced, on the same test utterances
  }
  for (const auto& e : tested.attention) examples.push_back(example_entry(m.name, cache, e));
  return f;
}

nlohmann::json run_classic_fold(const FoldRun& r, const FeatureCache& cache, const classic::FeatureMatrix& x) {
  // The fold's other speakers are its training speakers, as in the engine's split.
  const engine::Split sp = engine::split_by_speakers(cache, r.fold.test, r.fold.validation);
  const std::vector<int>& train = sp.train;
  const std::vector<int>& val = sp.validation;
  const std::vector<int>& test = sp.test;
  std::vector<int> labels(cache.labels.begin(), cache.labels.end());
  const int k = static_cast<int>(cache.class_names.size());
  const auto t0 = std::chrono::steady_clock::now();
  const classic::ClassicResult c = classic::run_classic(r.model->kind, x, labels, k, train, val, test, r.seed);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<int> truth;
  for (int u : test) truth.push_back(labels[static_cast<std::size_t>(u)]);
  nlohmann::json f = fold_header(r);
  f.update(fold_metrics(truth, c.predicted, k));
  f["predictions"] = fold_predictions(cache, test, truth, c.predicted);
  f["train_seconds"] = std::max(wall - c.predict_seconds, 0.0);  // the grid search on validation and the final fit
  f["inference_utterances_per_second"] = test.size() / std::max(c.predict_seconds, 1e-9);
  f["chosen"] = c.chosen;
  f["validation_ua"] = c.validation_ua;
  f["parameters"] = c.parameters;
  return f;
}

std::string run_digest(const FoldRun& r, const FeatureCache& cache, const std::string& extra) {
  std::ostringstream os;
  const ModelEntry& m = *r.model;
  os << m.name << '|' << m.kind << '|' << m.epochs << '|' << r.seed << '|' << extra << '|';
  if (m.kind == "engine") os << to_toml(effective_run_config(r));
  for (const auto* side : {&r.fold.test, &r.fold.validation, &r.fold.train})
    for (const auto& s : *side) os << s << ',';
  os << '|' << cache.corpus << '|' << cache.n_utterances() << '|' << cache.total_frames() << '|' << cache.config.to_json();
  // FNV-1a, 64 bit: a content digest, not a security measure.
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : os.str()) { h ^= ch; h *= 1099511628211ULL; }
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace ser::experiment
