// src/experiment/runner.cpp — `ser experiment`: caches → folds → every model x fold x seed →
// results.json, results.md and report.html in runs/NAME/, rewritten after every finished run so an
// interrupted experiment loses nothing (finished runs are reused when it is started again).
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "experiment/aggregate.hpp"
#include "experiment/experiment_config.hpp"
#include "experiment/feature_sets.hpp"
#include "experiment/fold_plan.hpp"
#include "experiment/fold_runner.hpp"
#include "experiment/progress.hpp"
#if __has_include("experiment/report_html.hpp") && __has_include("experiment/results_markdown.hpp")
#define SER_HAVE_REPORT 1
#include "experiment/report_html.hpp"
#include "experiment/results_markdown.hpp"
#endif
#include "experiment/run_context.hpp"
#include "ser/build_info.hpp"
#include "ser/corpus.hpp"
#include "ser/device.hpp"
#include "ser/error.hpp"
#include "ser/experiment.hpp"
#include "train/run_files.hpp"
#include "nn/wall_clock.hpp"

namespace ser {
namespace fs = std::filesystem;
using namespace experiment;

namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s.append(s.empty() ? "" : sep).append(x);
  return s;
}

// A fold side for the log: the speakers, or their count where a list would fill the screen.
std::string speaker_list(const std::vector<std::string>& v) {
  return v.size() <= 20 ? join(v, ",") : std::to_string(v.size()) + " speakers";
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

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Aggregates, significance, and the three output files, each written atomically.
void write_outputs(const nlohmann::json& raw, const std::string& baseline, const fs::path& out, std::ostream& log) {
  nlohmann::json r = raw;
  for (auto& [name, m] : r["models"].items())
    if (!m["folds"].empty()) aggregate_model(m, name);
  if (!baseline.empty()) {
    try {
      add_significance(r, baseline, "ua");
    } catch (const Error& e) {  // incomplete pairs while the experiment is still running
      r["significance_note"] = e.what();
    }
  }
  train::write_text_atomic((out / "results.json").string(), r.dump(1) + "\n");
#ifdef SER_HAVE_REPORT
  train::write_text_atomic((out / "results.md").string(), results_markdown(r));
  train::write_text_atomic((out / "report.html").string(), report_html(r));
#endif
  (void)log;
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

}  // namespace

std::string run_experiment(const ExperimentOptions& o, std::ostream& log) {
  const double t_start = now_seconds();
  ExperimentConfig cfg = load_experiment_config(o.config);
  if (!o.seeds.empty()) cfg.seeds = o.seeds;
  const fs::path out = fs::path(o.runs_dir) / cfg.name;
  if (o.fresh && fs::exists(out / "models")) fs::remove_all(out / "models");
  fs::create_directories(out);

  // ---- features -------------------------------------------------------------------------------------
  ExtractOptions ex;
  ex.path = o.frontend;
  ex.cpu_threads = o.threads;
  ex.progress = o.progress;
  ex.synthetic.n_speakers = cfg.synthetic_speakers;
  ex.synthetic.utterances_per_emotion = cfg.synthetic_per_emotion;
  auto request = [&](const std::string& corpus, const std::string& data, const std::string& classes,
                     const std::string& file) {
    if (corpus != "synthetic" && data.empty())
      throw Error(cfg.path + ": corpus '" + corpus + "' needs its folder (" +
                  (corpus == cfg.corpus ? "--data DIR" : "--test-data DIR") + ")");
    CacheRequest q;
    q.corpus = corpus;
    q.data = data;
    q.classes = classes;
    q.filter = cfg.filter;
    q.path = (out / file).string();
    q.extract = ex;
    return q;
  };
  const bool cross = cfg.protocol == "cross_corpus";
  const std::string classes = cross ? shared_classes(cfg.corpus, cfg.test_corpus) : cfg.classes;
  FeatureCache cache;
  std::string cache_name;
  if (!o.cache.empty()) {
    cache = read_cache(o.cache);
    if (cache.corpus != cfg.corpus)
      throw file_error(o.cache, "holds corpus '" + cache.corpus + "', the experiment is on '" + cfg.corpus + "'");
    cache_name = o.cache;
    log << "features: using " << o.cache << " (" << cache.n_utterances() << " utterances)\n";
  } else {
    cache_name = (out / ("features_" + cfg.corpus + ".h5")).string();
    cache = obtain_cache(request(cfg.corpus, o.data, classes, "features_" + cfg.corpus + ".h5"), log);
  }
  std::vector<std::string> corpus_names{cfg.corpus, cfg.test_corpus};
  if (cross) {
    const FeatureCache other =
        obtain_cache(request(cfg.test_corpus, o.test_data, classes, "features_" + cfg.test_corpus + ".h5"), log);
    cache = merge_caches(cache, cfg.corpus, other, cfg.test_corpus);
    cache_name += " + " + cfg.test_corpus;
  }
  FoldPlan plan = plan_folds(cfg, cache);
  cache = std::move(plan.cache);
  const std::vector<Fold>& folds = plan.folds;
  for (const auto& note : plan.notes) log << "folds: " << note << "\n";
  if (cfg.normalisation == "speaker") {
    log << "normalisation: per speaker, with each speaker's own statistics (test speakers' unlabelled features "
           "included: transductive)\n";
    cache = speaker_normalised(cache);
  }
  const int k = static_cast<int>(cache.class_names.size());

  // The classic baselines' feature vectors, made once (engine models whose run config reads
  // functionals = "utterance" get the same vectors from the trainer).
  bool need_features = false;
  for (const auto& m : cfg.models) need_features |= m.kind != "engine";
  classic::FeatureMatrix features;
  if (need_features) features = classic::utterance_features(cache);

  // ---- the results skeleton ----------------------------------------------------------------------
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
  nlohmann::json protocol{{"kind", cfg.protocol}, {"folds", folds.size()}, {"seeds", cfg.seeds},
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
  results["protocol"] = protocol;
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
  log << "ser experiment " << cfg.name << ": " << cfg.models.size() << " models x " << folds.size() << " folds x "
      << cfg.seeds.size() << " seeds on " << cache.n_utterances() << " utterances of " << results["corpus"].get<std::string>()
      << (results["synthetic"].get<bool>() ? " (SYNTHETIC)" : "") << ", " << k << " classes; protocol " << cfg.protocol
      << "\n";
  for (const auto& f : folds)
    log << "  fold " << f.index << ": test " << speaker_list(f.test) << " | validation " << speaker_list(f.validation)
        << " | train " << f.train.size() << " speakers\n";

  int runs_reused = 0, runs_total = 0;
  ExperimentProgress progress(static_cast<int>(cfg.models.size()), static_cast<int>(folds.size() * cfg.seeds.size()));
  const bool tty = o.progress && isatty(STDERR_FILENO);
  for (std::size_t si = 0; si < cfg.seeds.size(); ++si) {
    for (const auto& fold : folds) {
      for (std::size_t mi = 0; mi < cfg.models.size(); ++mi) {
        const ModelEntry& m = cfg.models[mi];
        ModelEntry entry = m;
        if (o.epochs > 0 && m.kind == "engine") entry.epochs = o.epochs;
        FoldRun run;
        run.model = &entry;
        run.fold = fold;
        run.seed = cfg.seeds[si];
        run.dir = (out / "models" / m.name / ("seed" + std::to_string(run.seed)) / ("fold" + std::to_string(fold.index))).string();
        run.device = o.device;
        run.kernels = o.kernels;
        run.progress = tty;
        run.attention_examples = (si == 0 && fold.index == 0) ? cfg.attention_examples : 0;
        run.refit = cfg.engine_refit && m.kind == "engine";
        const std::string digest = run_digest(run, cache, cfg.normalisation + "|" + std::to_string(run.attention_examples) +
                                                              (run.refit ? "|refit" : ""));
        const fs::path done = fs::path(run.dir) / "fold.json";
        log << progress.start(m.name, static_cast<int>(mi), fold.index, static_cast<int>(folds.size()), run.seed,
                              speaker_list(fold.test)) << "\n" << std::flush;
        nlohmann::json f;
        double seconds = 0;
        if (fs::exists(done)) {
          std::ifstream in(done.string());
          const auto j = nlohmann::json::parse(in, nullptr, false);
          if (!j.is_discarded() && j.value("digest", "") == digest) f = j;
        }
        ++runs_total;
        if (!f.is_null()) {
          ++runs_reused;
          log << "  reusing the finished run in " << run.dir << "\n";
          for (const auto& e : f.value("attention_examples", nlohmann::json::array())) results["attention_examples"].push_back(e);
        } else {
          const double t0 = now_seconds();
          fs::create_directories(run.dir);
          nlohmann::json examples = nlohmann::json::array();
          if (m.kind == "engine") {
            std::ofstream train_log((fs::path(run.dir) / "train.log").string(), std::ios::app);
            f = run_engine_fold(run, cache, cache_name, examples, train_log);
          } else {
            f = run_classic_fold(run, cache, features);
          }
          seconds = now_seconds() - t0;
          f["digest"] = digest;
          f["commit"] = build_commit();  // the binary that computed this run
          f["attention_examples"] = examples;
          train::write_text_atomic(done.string(), f.dump() + "\n");
          for (const auto& e : examples) results["attention_examples"].push_back(e);
        }
        char line[256];
        std::snprintf(line, sizeof line, "  %s fold %d seed %llu: test UA %.3f acc %.3f macro-F1 %.3f (%.1f s)\n",
                      m.name.c_str(), fold.index, static_cast<unsigned long long>(run.seed), f["ua"].get<double>(),
                      f["accuracy"].get<double>(), f["macro_f1"].get<double>(), f["train_seconds"].get<double>());
        log << line << std::flush;
        progress.finish(m.name, seconds);
        f.erase("digest");
        f.erase("attention_examples");
        auto& model_json = results["models"][m.name];
        if (f.contains("parameters")) model_json["parameters"] = f["parameters"];
        model_json["folds"].push_back(f);
        results["seconds"] = now_seconds() - t_start;
        results["runs"] = runs_total;
        results["runs_reused"] = runs_reused;
        if (cross) results["cross_corpus"] = cross_corpus_table(results["models"], folds, corpus_names, cache.class_names);
        write_outputs(results, cfg.baseline, out, log);
      }
    }
  }
  results["seconds"] = now_seconds() - t_start;
  write_outputs(results, cfg.baseline, out, log);
  log << "ser experiment " << cfg.name << ": done in " << clock_text(now_seconds() - t_start) << "; "
      << (out / "results.md").string() << ", " << (out / "report.html").string() << "\n";
  return (out / "results.json").string();
}

}  // namespace ser
