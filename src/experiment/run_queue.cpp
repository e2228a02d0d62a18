// src/experiment/run_queue.cpp — the runs of an experiment and the two ways through them (run_queue.hpp).
#include "experiment/run_queue.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <thread>

#include "util/wall_clock.hpp"
#include "ser/build_info.hpp"
#include "util/atomic_file.hpp"

namespace ser::experiment {
namespace fs = std::filesystem;

namespace {

// Trains or fits the run, writes its fold.json atomically and returns the entry.
nlohmann::json compute_run(const PlannedRun& p, const RunInputs& in) {
  fs::create_directories(p.run.dir);
  const double t0 = now_seconds();
  nlohmann::json f;
  nlohmann::json examples = nlohmann::json::array();
  if (p.entry.kind == "engine") {
    std::ofstream train_log((fs::path(p.run.dir) / "train.log").string(), std::ios::app);
    f = run_engine_fold(p.run, in.cache, in.cache_name, examples, train_log);
  } else {
    f = run_classic_fold(p.run, in.cache, in.features);
  }
  f["digest"] = p.digest;
  f["commit"] = build_commit();  // the binary that computed this run
  f["attention_examples"] = examples;
  f["compute_seconds"] = now_seconds() - t0;
  util::write_text_atomic(p.done.string(), f.dump() + "\n");
  return f;
}

std::string result_line(const PlannedRun& p, const nlohmann::json& f) {
  char line[256];
  std::snprintf(line, sizeof line, "  %s fold %d seed %llu: test UA %.3f acc %.3f macro-F1 %.3f (%.1f s)\n",
                p.entry.name.c_str(), p.run.fold.index, static_cast<unsigned long long>(p.run.seed),
                f["ua"].get<double>(), f["accuracy"].get<double>(), f["macro_f1"].get<double>(),
                f["train_seconds"].get<double>());
  return line;
}

std::string start_line(const PlannedRun& p, ExperimentProgress& progress, int folds) {
  return progress.start(p.entry.name, p.model_index, p.run.fold.index, folds, p.run.seed, speakers_text(p.run.fold.test));
}

int fold_count(const std::deque<PlannedRun>& runs) {
  int n = 0;
  for (const auto& p : runs) n = std::max(n, p.run.fold.index + 1);
  return n;
}

}  // namespace

std::string speakers_text(const std::vector<std::string>& v) {
  if (v.size() > 20) return std::to_string(v.size()) + " speakers";
  std::string s;
  for (const auto& x : v) s.append(s.empty() ? "" : ",").append(x);
  return s;
}

std::deque<PlannedRun> plan_runs(const ExperimentConfig& cfg, const std::vector<Fold>& folds,
                                 const ExperimentOptions& o, const fs::path& out, const FeatureCache& cache) {
  std::deque<PlannedRun> runs;
  for (std::size_t si = 0; si < cfg.seeds.size(); ++si)
    for (const auto& fold : folds)
      for (std::size_t mi = 0; mi < cfg.models.size(); ++mi) {
        const ModelEntry& m = cfg.models[mi];
        PlannedRun& p = runs.emplace_back();
        p.entry = m;
        if (o.epochs > 0 && m.kind == "engine") p.entry.epochs = o.epochs;
        p.model_index = static_cast<int>(mi);
        FoldRun& run = p.run;
        run.model = &p.entry;
        run.fold = fold;
        run.seed = cfg.seeds[si];
        run.dir = (out / "models" / m.name / ("seed" + std::to_string(run.seed)) / ("fold" + std::to_string(fold.index))).string();
        run.device = o.device;
        run.kernels = o.kernels;
        run.progress = o.progress && isatty(STDERR_FILENO);  // training progress bars on a terminal only
        run.attention_examples = (si == 0 && fold.index == 0) ? cfg.attention_examples : 0;
        run.refit = cfg.engine_refit && m.kind == "engine";
        p.digest = run_digest(run, cache, cfg.normalisation + "|" + std::to_string(run.attention_examples) +
                                              (run.refit ? "|refit" : ""));
        p.done = fs::path(run.dir) / "fold.json";
      }
  return runs;
}

std::optional<nlohmann::json> finished_run(const PlannedRun& p) {
  if (!fs::exists(p.done)) return std::nullopt;
  std::ifstream in(p.done.string());
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || j.value("digest", "") != p.digest) return std::nullopt;
  return j;
}

RunCounts run_in_order(const std::deque<PlannedRun>& runs, const RunInputs& in, ExperimentProgress& progress,
                       std::ostream& log) {
  RunCounts counts;
  const int folds = fold_count(runs);
  std::vector<std::optional<nlohmann::json>> entries(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const PlannedRun& p = runs[i];
    log << start_line(p, progress, folds) << "\n" << std::flush;
    std::optional<nlohmann::json> f = finished_run(p);
    double seconds = 0;
    if (f) {
      log << "  reusing the finished run in " << p.run.dir << "\n";
    } else {
      f = compute_run(p, in);
      seconds = (*f)["compute_seconds"].get<double>();
      ++counts.computed;
    }
    ++counts.finished;
    log << result_line(p, *f) << std::flush;
    progress.finish(p.entry.name, seconds);
    entries[i] = std::move(f);
    in.publish(entries, counts.computed);
  }
  return counts;
}

RunCounts run_as_worker(const std::deque<PlannedRun>& runs, const RunInputs& in, const ClaimTiming& timing,
                        const fs::path& results_claim, ExperimentProgress& progress, std::ostream& log) {
  RunCounts counts;
  const int folds = fold_count(runs);
  auto publish_from_disk = [&] {
    const auto lock = RunClaim::acquire(results_claim, timing);
    std::vector<std::optional<nlohmann::json>> entries;
    counts.finished = 0;
    for (const auto& p : runs) {
      entries.push_back(finished_run(p));
      counts.finished += entries.back().has_value();
    }
    in.publish(entries, counts.computed);
  };
  std::vector<std::size_t> open;  // runs not known to be finished, in plan order
  for (std::size_t i = 0; i < runs.size(); ++i) open.push_back(i);
  bool waiting_noted = false;
  while (!open.empty()) {
    std::vector<std::size_t> still_open;
    bool progressed = false;
    for (const std::size_t i : open) {
      const PlannedRun& p = runs[i];
      if (finished_run(p)) {
        progressed = true;
        continue;
      }
      fs::create_directories(p.run.dir);
      std::string previous_owner;
      const auto claim = RunClaim::try_acquire(fs::path(p.run.dir) / "claim", timing, &previous_owner);
      if (!claim) {  // another worker is computing it
        still_open.push_back(i);
        continue;
      }
      if (finished_run(p)) {  // finished between the check and the claim
        progressed = true;
        continue;
      }
      log << start_line(p, progress, folds) << "\n";
      if (!previous_owner.empty())
        log << "  taking over from " << previous_owner << " (its claim was not refreshed for "
            << timing.timeout_seconds << " s); resuming from what it left\n";
      log << std::flush;
      const nlohmann::json f = compute_run(p, in);
      ++counts.computed;
      log << result_line(p, f) << std::flush;
      progress.finish(p.entry.name, f["compute_seconds"].get<double>());
      progressed = true;
      publish_from_disk();
    }
    open = std::move(still_open);
    if (!open.empty() && !progressed) {
      if (!waiting_noted)
        log << "  waiting for " << open.size() << " run(s) other workers hold\n" << std::flush;
      waiting_noted = true;
      std::this_thread::sleep_for(std::chrono::duration<double>(std::min(1.0, timing.heartbeat_seconds)));
    }
  }
  publish_from_disk();
  return counts;
}

}  // namespace ser::experiment
