// src/experiment/runner.cpp — `ser experiment`: caches → folds → every model x fold x seed →
// results.json, results.md and report.html in runs/NAME/, rewritten after every finished run so an
// interrupted experiment loses nothing (finished runs are reused when it is started again).
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "experiment/experiment_config.hpp"
#include "experiment/feature_sets.hpp"
#include "experiment/fold_plan.hpp"
#include "experiment/fold_runner.hpp"
#include "experiment/progress.hpp"
#include "experiment/run_claim.hpp"
#include "experiment/run_context.hpp"
#include "experiment/run_queue.hpp"
#include "report/aggregate.hpp"
#include "report/report_html.hpp"
#include "report/results_markdown.hpp"
#include "ser/build_info.hpp"
#include "ser/corpus.hpp"
#include "ser/device.hpp"
#include "ser/error.hpp"
#include "ser/experiment.hpp"
#include "util/atomic_file.hpp"
#include "util/wall_clock.hpp"

namespace ser {
namespace fs = std::filesystem;
using namespace experiment;

namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s.append(s.empty() ? "" : sep).append(x);
  return s;
}

// The class set both corpora have, in the first corpus's canonical order.
std::string shared_classes(const std::string& a, const std::string& b) {
  const auto cb = corpus_classes(b);
  std::vector<std::string> shared;
  for (const auto& c : corpus_classes(a))
    if (std::find(cb.begin(), cb.end(), c) != cb.end()) shared.push_back(c);
  if (shared.size() < 2) throw Error("corpora " + a + " and " + b + " share fewer than 2 classes");
  return join(shared, ",");
}

std::string machine_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) { model = line.substr(line.find(':') + 2); break; }
  return (model.empty() ? std::string("unknown CPU") : model) + ", " + std::to_string(std::thread::hardware_concurrency()) +
         " cores";
}

// Claims of --worker runs: refreshed ten times per timeout, at most every 15 s.
ClaimTiming claim_timing(const ExperimentOptions& o) {
  return ClaimTiming{o.claim_timeout_seconds, std::min(15.0, o.claim_timeout_seconds / 10)};
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Aggregates, significance, and the three output files, each written atomically.
void write_outputs(const nlohmann::json& raw, const std::string& baseline, const fs::path& out) {
  nlohmann::json r = raw;
  for (auto& [name, m] : r["models"].items())
    if (!m["folds"].empty()) report::aggregate_model(m, name);
  if (!baseline.empty()) {
    try {
      report::add_significance(r, baseline, "ua");
    } catch (const Error& e) {  // incomplete pairs while the experiment is still running
      r["significance_note"] = e.what();
    }
  }
  util::write_text_atomic((out / "results.json").string(), r.dump(1) + "\n");
  util::write_text_atomic((out / "results.md").string(), report::results_markdown(r));
  util::write_text_atomic((out / "report.html").string(), report::report_html(r));
}

// Cross-corpus table: per direction and model, means over seeds and summed confusion.
nlohmann::json cross_corpus_table(const nlohmann::json& models, const std::vector<Fold>& folds,
                                  const std::vector<std::string>& names, const nlohmann::json& class_names) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& f : folds) {
    for (const auto& [name, m] : models.items()) {
      double acc = 0, ua = 0, f1 = 0;
      int n = 0;
      nlohmann::json conf;
      for (const auto& x : m["folds"]) {
        if (x["fold"].get<int>() != f.index) continue;
        acc += x["accuracy"].get<double>();
        ua += x["ua"].get<double>();
        f1 += x["macro_f1"].get<double>();
        ++n;
        if (conf.is_null()) conf = x["confusion"];
        else
          for (std::size_t i = 0; i < conf.size(); ++i)
            for (std::size_t j = 0; j < conf[i].size(); ++j) conf[i][j] = conf[i][j].get<long>() + x["confusion"][i][j].get<long>();
      }
      if (!n) continue;
      rows.push_back({{"train", names[static_cast<std::size_t>(f.index)]},
                      {"test", names[static_cast<std::size_t>(1 - f.index)]}, {"classes", class_names},
                      {"model", name}, {"runs", n}, {"accuracy", acc / n}, {"ua", ua / n}, {"macro_f1", f1 / n},
                      {"confusion", conf}});
    }
  }
  return rows;
}

// The experiment's features: the given cache, or the corpus's (and, cross-corpus, the test corpus's,
// merged) extracted into the experiment folder once; a worker extracts only under the cache's claim.
struct ExperimentFeatures {
  FeatureCache cache;
  std::string name;  // what results.json names as the cache
};

ExperimentFeatures experiment_features(const ExperimentOptions& o, const ExperimentConfig& cfg, const fs::path& out,
                                       std::ostream& log) {
  ExtractOptions ex;
  ex.path = o.frontend;
  ex.cpu_threads = o.threads;
  ex.progress = o.progress;
  ex.synthetic.n_speakers = cfg.synthetic_speakers;
  ex.synthetic.utterances_per_emotion = cfg.synthetic_per_emotion;
  const bool cross = cfg.protocol == "cross_corpus";
  const std::string classes = cross ? shared_classes(cfg.corpus, cfg.test_corpus) : cfg.classes;
  const auto obtain = [&](const std::string& corpus, const std::string& data) {
    if (corpus != "synthetic" && data.empty())
      throw Error(cfg.path + ": corpus '" + corpus + "' needs its folder (" +
                  (corpus == cfg.corpus ? "--data DIR" : "--test-data DIR") + ")");
    CacheRequest q;
    q.corpus = corpus;
    q.data = data;
    q.classes = classes;
    q.filter = cfg.filter;
    q.path = (out / ("features_" + corpus + ".h5")).string();
    q.extract = ex;
    const auto claim = o.worker ? RunClaim::acquire(q.path + ".claim", claim_timing(o)) : nullptr;
    return obtain_cache(q, log);
  };
  ExperimentFeatures f;
  if (!o.cache.empty()) {
    f.cache = read_cache(o.cache);
    if (f.cache.corpus != cfg.corpus)
      throw file_error(o.cache, "holds corpus '" + f.cache.corpus + "', the experiment is on '" + cfg.corpus + "'");
    f.name = o.cache;
    log << "features: using " << o.cache << " (" << f.cache.n_utterances() << " utterances)\n";
  } else {
    f.name = (out / ("features_" + cfg.corpus + ".h5")).string();
    f.cache = obtain(cfg.corpus, o.data);
  }
  if (cross) {
    f.cache = merge_caches(f.cache, cfg.corpus, obtain(cfg.test_corpus, o.test_data), cfg.test_corpus);
    f.name += " + " + cfg.test_corpus;
  }
  return f;
}

// How the experiment evaluates, as results.json states it.
nlohmann::json protocol_record(const ExperimentConfig& cfg, const FoldPlan& plan) {
  nlohmann::json protocol{{"kind", cfg.protocol}, {"folds", plan.folds.size()}, {"seeds", cfg.seeds},
                          {"validation", cfg.protocol == "predefined"
                                             ? "the corpus's partition '" + cfg.validation_partition +
                                                   "'; model selection and early stopping on it only"
                                             : std::to_string(cfg.validation_speakers) +
                                                   " speaker(s) from the training side of every fold, chosen so that "
                                                   "every class has validation utterances where the corpus allows "
                                                   "(docs/experiments.md); model selection and early stopping on "
                                                   "them only"},
                          {"engine_models", cfg.engine_refit
                                                ? "refit: after selection on the validation speakers, retrained on "
                                                  "training + validation speakers for the chosen epoch count; the "
                                                  "refit model is tested"
                                                : "the model selected on the validation speakers is tested"},
                          {"fold_details", plan.details},
                          {"notes", plan.notes},
                          {"normalisation", cfg.normalisation == "speaker"
                                                ? "per speaker (explicit option; uses the test speakers' unlabelled features)"
                                                : "training statistics only"}};
  if (!cfg.filter.empty()) protocol["filter"] = cfg.filter;
  if (cfg.protocol == "predefined")
    protocol["partitions"] = {{"train", cfg.train_partition}, {"validation", cfg.validation_partition},
                              {"test", cfg.test_partition}};
  return protocol;
}

// results.json before any run: what, on which data, by which command, commit, machine and device.
nlohmann::json results_skeleton(const ExperimentOptions& o, const ExperimentConfig& cfg, const FoldPlan& plan,
                                const FeatureCache& cache, const std::string& cache_name) {
  const bool cross = cfg.protocol == "cross_corpus";
  nlohmann::json results;
  results["experiment"] = cfg.name;
  results["title"] = cfg.title;
  results["corpus"] = cross ? cfg.corpus + " -> " + cfg.test_corpus : cfg.corpus;
  results["synthetic"] = cfg.corpus == "synthetic" || cfg.test_corpus == "synthetic";
  results["data"] = o.data;
  results["cache"] = cache_name;
  results["command"] = run_context::command_line();
  results["commit"] = build_commit();
  results["machine"] = machine_description();
  const CudaProbe& gpu = probe_cuda();
  results["device"] = o.device != "cpu" && gpu.usable ? "GPU (" + gpu.name + ")"
                                                       : "CPU" + std::string(o.device == "cpu" ? "" : " (" + gpu.reason + ")");
  results["started"] = utc_now();
  results["protocol"] = protocol_record(cfg, plan);
  results["class_names"] = cache.class_names;
  if (!cfg.baseline.empty()) results["baseline"] = cfg.baseline;
  results["models"] = nlohmann::json::object();
  results["attention_examples"] = nlohmann::json::array();
  std::vector<std::string> order;
  for (const auto& m : cfg.models) {
    order.push_back(m.name);
    results["models"][m.name] = {{"approach", m.approach}, {"kind", m.kind}, {"description", m.description},
                                 {"folds", nlohmann::json::array()}};
    if (m.kind == "engine") results["models"][m.name]["config"] = m.config;
  }
  results["model_order"] = order;
  return results;
}

// The skeleton filled with the finished runs in plan order (whichever process computed them).
nlohmann::json results_of(nlohmann::json r, const std::deque<PlannedRun>& runs,
                          const std::vector<std::optional<nlohmann::json>>& entries, int computed_here) {
  int finished = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (!entries[i]) continue;
    nlohmann::json f = *entries[i];
    ++finished;
    for (const auto& e : f.value("attention_examples", nlohmann::json::array())) r["attention_examples"].push_back(e);
    f.erase("digest");
    f.erase("attention_examples");
    auto& model_json = r["models"][runs[i].entry.name];
    if (f.contains("parameters")) model_json["parameters"] = f["parameters"];
    model_json["folds"].push_back(std::move(f));
  }
  r["runs"] = finished;
  r["runs_reused"] = finished - computed_here;  // finished before this process started, or by other workers
  return r;
}

}  // namespace

std::string run_experiment(const ExperimentOptions& o, std::ostream& log) {
  const double t_start = now_seconds();
  ExperimentConfig cfg = load_experiment_config(o.config);
  if (!o.seeds.empty()) cfg.seeds = o.seeds;
  const fs::path out = fs::path(o.runs_dir) / cfg.name;
  if (o.fresh && o.worker)
    throw Error("--fresh cannot be combined with --worker: other workers may be using " + (out / "models").string());
  if (o.fresh && fs::exists(out / "models")) fs::remove_all(out / "models");
  fs::create_directories(out);
  if (o.worker) log << "ser experiment: worker " << worker_name() << " on " << out.string() << "\n";

  ExperimentFeatures features_in = experiment_features(o, cfg, out, log);
  const std::string& cache_name = features_in.name;
  FoldPlan plan = plan_folds(cfg, features_in.cache);
  FeatureCache cache = std::move(plan.cache);
  const std::vector<Fold>& folds = plan.folds;
  for (const auto& note : plan.notes) log << "folds: " << note << "\n";
  if (cfg.normalisation == "speaker") {
    log << "normalisation: per speaker, with each speaker's own statistics (test speakers' unlabelled features "
           "included: transductive)\n";
    cache = speaker_normalised(cache);
  }
  // The classic baselines' feature vectors, made once (engine models whose run config reads
  // functionals = "utterance" get the same vectors from the trainer).
  bool need_features = false;
  for (const auto& m : cfg.models) need_features |= m.kind != "engine";
  classic::FeatureMatrix features;
  if (need_features) features = classic::utterance_features(cache);

  const nlohmann::json results = results_skeleton(o, cfg, plan, cache, cache_name);
  log << "ser experiment " << cfg.name << ": " << cfg.models.size() << " models x " << folds.size() << " folds x "
      << cfg.seeds.size() << " seeds on " << cache.n_utterances() << " utterances of " << results["corpus"].get<std::string>()
      << (results["synthetic"].get<bool>() ? " (SYNTHETIC)" : "") << ", " << cache.class_names.size()
      << " classes; protocol " << cfg.protocol << "\n";
  for (const auto& f : folds)
    log << "  fold " << f.index << ": test " << speakers_text(f.test) << " | validation " << speakers_text(f.validation)
        << " | train " << f.train.size() << " speakers\n";

  const std::deque<PlannedRun> runs = plan_runs(cfg, folds, o, out, cache);
  const std::vector<std::string> corpus_names{cfg.corpus, cfg.test_corpus};
  auto publish = [&](const std::vector<std::optional<nlohmann::json>>& entries, int computed_here) {
    nlohmann::json r = results_of(results, runs, entries, computed_here);
    r["seconds"] = now_seconds() - t_start;
    if (cfg.protocol == "cross_corpus")
      r["cross_corpus"] = cross_corpus_table(r["models"], folds, corpus_names, cache.class_names);
    write_outputs(r, cfg.baseline, out);
  };
  const RunInputs inputs{cache, cache_name, features, publish};
  ExperimentProgress progress(static_cast<int>(cfg.models.size()), static_cast<int>(folds.size() * cfg.seeds.size()));
  // Both publish after their last run, so the files on disk are final when they return.
  const RunCounts counts = o.worker ? run_as_worker(runs, inputs, claim_timing(o), out / "results.claim", progress, log)
                                    : run_in_order(runs, inputs, progress, log);
  if (o.worker)
    log << "ser experiment " << cfg.name << " (worker " << worker_name() << "): computed " << counts.computed << " of "
        << counts.finished << " runs\n";
  log << "ser experiment " << cfg.name << ": done in " << clock_text(now_seconds() - t_start) << "; "
      << (out / "results.md").string() << ", " << (out / "report.html").string() << "\n";
  return (out / "results.json").string();
}

}  // namespace ser
