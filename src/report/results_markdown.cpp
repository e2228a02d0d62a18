// src/report/results_markdown.cpp — results.md.
#include "report/results_markdown.hpp"

#include <sstream>
#include <vector>

#include "report/aggregate.hpp"
#include "report/format.hpp"

namespace ser::report {

using nlohmann::json;

namespace {

const json kNull = nullptr;  // the missing value of field()


std::vector<std::string> class_names(const json& r) {
  std::vector<std::string> names;
  for (const json& c : field(r, "class_names"))
    if (c.is_string()) names.push_back(c.get<std::string>());
  return names;
}

void header(std::ostringstream& md, const json& r) {
  md << "# " << markdown_cell(text_field(r, "title", text_field(r, "experiment", "Experiment"))) << "\n\n";
  md << "- Experiment: `" << text_field(r, "experiment", "?") << "`";
  if (!text_field(r, "corpus").empty()) md << ", corpus " << text_field(r, "corpus");
  if (!text_field(r, "data").empty()) md << ", data `" << text_field(r, "data") << "`";
  if (!text_field(r, "cache").empty()) md << ", feature cache `" << text_field(r, "cache") << "`";
  md << "\n";
  if (!text_field(r, "command").empty()) md << "- Command: `" << text_field(r, "command") << "`\n";
  md << "- Commit " << text_field(r, "commit", kMissing) << "; machine: " << text_field(r, "machine", kMissing)
     << "; device: " << text_field(r, "device", kMissing) << "\n";
  md << "- Started " << text_field(r, "started", kMissing) << "; wall time " << duration_text(field(r, "seconds"))
     << reused_note(r) << "\n";
  md << "- Protocol: " << protocol_text(r) << "\n";
  const std::vector<std::string> names = class_names(r);
  if (!names.empty()) {
    md << "- Classes (" << names.size() << "):";
    for (std::size_t i = 0; i < names.size(); ++i) md << (i ? ", " : " ") << markdown_cell(names[i]);
    md << "\n";
  }
  md << "\n";
}

void comparison_table(std::ostringstream& md, const ModelList& models) {
  md << "## Comparison\n\n";
  md << "| Model | Approach | Accuracy % | UA % | Macro P % | Macro R % | Macro F1 % | Pooled UA % | Validation UA % | Parameters | Train time / run | Inference utt/s |\n";
  md << "|:--|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
  int runs = -1;
  bool same_runs = true;
  for (const auto& [name, m] : models) {
    md << "| " << markdown_cell(name) << " | " << markdown_cell(text_field(m, "approach", kMissing));
    for (const char* metric : kRunMetrics)
      md << " | " << percent_pm(field(m, cat(metric, "_mean").c_str()), field(m, cat(metric, "_std").c_str()));
    md << " | " << percent(field(m, "pooled_ua")) << " | " << percent_pm(field(m, "validation_ua_mean"), field(m, "validation_ua_std"));
    md << " | " << grouped_count(field(m, "parameters")) << " | " << duration_text(field(m, "train_seconds_mean")) << " | "
       << grouped_count(field(m, "inference_utterances_per_second")) << " |\n";
    const int n = field(m, "runs").is_number() ? field(m, "runs").get<int>() : 0;
    if (runs >= 0 && n != runs) same_runs = false;
    runs = n;
  }
  md << "\nMean \u00b1 sample standard deviation over ";
  if (same_runs && runs >= 0) md << "the " << runs << (runs == 1 ? " run" : " runs");
  else md << "each model's runs";
  md << " (folds \u00d7 seeds). UA: unweighted average recall (mean of the per-class recalls). "
        "Pooled UA: UA over every test utterance of every run at once. Validation UA: of the selected model on the "
        "validation speakers, which alone drive model selection and recipe choices. "
        "Train time: mean wall time of one run; inference: test utterances per second.\n\n";
  bool any_ensemble = false;
  for (const auto& [name, m] : models) any_ensemble |= field(m, "seed_ensemble_ua").is_number();
  if (any_ensemble) {
    md << "Seed ensembles (each fold's posteriors averaged over the seeds, then the argmax), pooled UA:";
    for (const auto& [name, m] : models)
      if (field(m, "seed_ensemble_ua").is_number())
        md << " `" << name << "` " << percent(field(m, "seed_ensemble_ua")) << " % over " << text_field(m, "seed_ensemble_seeds", "?")
           << " seeds (single seeds pooled: " << percent(field(m, "pooled_ua")) << " %);";
    md << "\n\n";
  }
  bool any_refit = false;
  for (const auto& [name, m] : models) any_refit |= m.contains("refit_effect");
  if (any_refit) {
    md << "Refit engine models (retrained on training + validation speakers for the epoch count chosen on "
          "validation) against the validation-selected models they replaced, same test utterances:";
    for (const auto& [name, m] : models) {
      if (!m.contains("refit_effect")) continue;
      const json& r = m["refit_effect"];
      md << " `" << name << "` UA " << percent(field(m, "ua_mean")) << " vs " << percent(field(r, "validation_selected_ua_mean"))
         << " %, pooled " << percent(field(m, "pooled_ua")) << " vs " << percent(field(r, "validation_selected_pooled_ua"))
         << " %";
      const json& t = field(r, "per_utterance");
      if (field(t, "p_value").is_number()) md << " (per-utterance p = " << p_value_text(field(t, "p_value")) << ")";
      md << ";";
    }
    md << "\n\n";
  }
  bool any_description = false;
  for (const auto& [name, m] : models) any_description |= !text_field(m, "description").empty();
  if (any_description) {
    for (const auto& [name, m] : models)
      if (!text_field(m, "description").empty()) md << "- `" << name << "`: " << markdown_cell(text_field(m, "description")) << "\n";
    md << "\n";
  }
}

void per_class_table(std::ostringstream& md, const ModelList& models, const std::vector<std::string>& names) {
  if (names.empty()) return;
  md << "## Per-class recall (%)\n\n| Model |";
  for (const std::string& c : names) md << " " << markdown_cell(c) << " |";
  md << "\n|:--|";
  for (std::size_t i = 0; i < names.size(); ++i) md << "--:|";
  md << "\n";
  for (const auto& [name, m] : models) {
    md << "| " << markdown_cell(name) << " |";
    const json& mean = field(m, "per_class_recall_mean");
    const json& sd = field(m, "per_class_recall_std");
    for (std::size_t i = 0; i < names.size(); ++i)
      md << " " << percent_pm(mean.is_array() && i < mean.size() ? mean[i] : kNull, sd.is_array() && i < sd.size() ? sd[i] : kNull) << " |";
    md << "\n";
  }
  md << "\nMean \u00b1 std over the runs whose test speakers include the class (" << kMissing << ": never tested).\n\n";
}

void significance_section(std::ostringstream& md, const json& r) {
  const json& sig = field(r, "significance");
  if (!sig.is_array() || sig.empty()) {
    if (r.contains("baseline") || r.contains("significance_note")) {
      md << "## Significance\n\nNo significance tests in these results.";
      if (r.contains("significance_note")) md << " " << markdown_cell(text_field(r, "significance_note"));
      md << "\n\n";
    }
    return;
  }
  const std::string metric = text_field(sig[0], "metric", "ua");
  md << "## Significance against " << markdown_cell(text_field(sig[0], "baseline", "?")) << " (" << metric_label(metric) << ")\n\n";
  md << "Pairs matched by (seed, fold). Wilcoxon signed-rank, two-sided, zero differences dropped (Wilcoxon's convention); "
        "exact p-value for up to 25 non-zero differences without tied ranks, otherwise the normal approximation with tie "
        "and continuity correction. Paired t-test, two-sided. Per utterance: pooled UA difference, approximate randomisation "
        "test (each utterance's two predictions swapped at random; exact over every swap pattern for up to 20 discordant "
        "utterances), two-sided, and its 95 % paired bootstrap interval.\n\n";
  md << "| Model | Baseline | Pairs | \u0394 " << metric_label(metric) << " (points) | Wins / losses / ties | Wilcoxon W | Wilcoxon p | Method | t | df | t-test p "
        "| \u0394 pooled UA (points) | 95 % CI | Per-utterance p |\n";
  md << "|:--|:--|--:|--:|--:|--:|--:|:--|--:|--:|--:|--:|--:|--:|\n";
  for (const json& e : sig) {
    const json& w = field(e, "wilcoxon");
    const json& t = field(e, "paired_t");
    md << "| " << markdown_cell(text_field(e, "model", "?")) << " | " << markdown_cell(text_field(e, "baseline", "?")) << " | "
       << text_field(e, "pairs", kMissing) << " | "
       << (field(e, "mean_difference").is_number() ? points_text(field(e, "mean_difference").get<double>()) : kMissing) << " | "
       << text_field(e, "wins", "0") << " / " << text_field(e, "losses", "0") << " / " << text_field(e, "ties", "0") << " | "
       << (field(w, "p_value").is_number() ? fixed(field(w, "statistic"), 1) : kMissing) << " | " << p_value_text(field(w, "p_value")) << " | "
       << text_field(w, "method", kMissing) << " | " << fixed(field(t, "statistic"), 2) << " | "
       << (field(t, "p_value").is_number() ? text_field(t, "df", kMissing) : kMissing) << " | " << p_value_text(field(t, "p_value"));
    for (const std::string& cell : per_utterance_texts(field(e, "per_utterance"))) md << " | " << markdown_cell(cell);
    md << " |\n";
  }
  md << "\n";
  for (const json& e : sig) md << "- " << markdown_cell(significance_sentence(e)) << "\n";
  md << "\n";
}

void confusion_table(std::ostringstream& md, const std::vector<std::string>& names, const json& confusion) {
  md << "| true \\ predicted |";
  for (const std::string& c : names) md << " " << markdown_cell(c) << " |";
  md << " recall % |\n|:--|";
  for (std::size_t i = 0; i <= names.size(); ++i) md << "--:|";
  md << "\n";
  for (std::size_t i = 0; i < names.size() && i < confusion.size(); ++i) {
    md << "| " << markdown_cell(names[i]) << " |";
    double row = 0, diag = 0;
    for (std::size_t j = 0; j < names.size() && j < confusion[i].size(); ++j) {
      const double v = confusion[i][j].is_number() ? confusion[i][j].get<double>() : 0;
      row += v;
      if (i == j) diag = v;
      md << " " << fixed(v, 0) << " |";
    }
    md << " " << (row > 0 ? percent(json(diag / row)) : kMissing) << " |\n";
  }
  md << "\n";
}

void best_confusion(std::ostringstream& md, const json& r, const std::vector<std::string>& names) {
  const std::string best = best_model_by_ua(r);
  if (best.empty() || names.empty()) return;
  const json& m = r["models"][best];
  const json& confusion = field(m, "confusion");
  if (!confusion.is_array() || confusion.size() != names.size()) return;
  md << "## Confusion matrix of the best model by UA: " << markdown_cell(best) << "\n\n";
  md << "Counts summed over " << text_field(m, "runs", "all") << " runs (every test utterance of every fold and seed); rows are the true class.\n\n";
  confusion_table(md, names, confusion);
}

void cross_corpus(std::ostringstream& md, const json& r) {
  const json& cc = field(r, "cross_corpus");
  if (!cc.is_array() || cc.empty()) return;
  md << "## Cross-corpus\n\n| Model | Train | Test | Classes | Accuracy % | UA % | Macro F1 % |\n|:--|:--|:--|:--|--:|--:|--:|\n";
  for (const json& e : cc) {
    std::string classes;
    for (const json& c : field(e, "classes")) classes.append(classes.empty() ? "" : ", ").append(c.is_string() ? c.get<std::string>() : c.dump());
    md << "| " << markdown_cell(text_field(e, "model", "?")) << " | " << markdown_cell(text_field(e, "train", "?")) << " | "
       << markdown_cell(text_field(e, "test", "?")) << " | " << markdown_cell(classes.empty() ? kMissing : classes) << " | "
       << percent(field(e, "accuracy")) << " | " << percent(field(e, "ua")) << " | " << percent(field(e, "macro_f1")) << " |\n";
  }
  md << "\n";
  for (const json& e : cc) {
    std::vector<std::string> names;
    for (const json& c : field(e, "classes")) names.push_back(c.is_string() ? c.get<std::string>() : c.dump());
    const json& confusion = field(e, "confusion");
    if (names.empty() || !confusion.is_array() || confusion.size() != names.size()) continue;
    md << "Confusion of " << markdown_cell(text_field(e, "model", "?")) << ", trained on " << markdown_cell(text_field(e, "train", "?"))
       << ", tested on " << markdown_cell(text_field(e, "test", "?")) << ":\n\n";
    confusion_table(md, names, confusion);
  }
}

}  // namespace

// Every fold's sides: speakers, utterances per class (test / validation / train), speakers the test
// side shares with the others (none for a speaker-independent protocol).
void fold_table(std::ostringstream& md, const json& r, const std::vector<std::string>& names) {
  const json& details = field(field(r, "protocol"), "fold_details");
  if (!details.is_array() || details.empty()) return;
  md << "## Folds\n\nUtterances per class on each side of every fold, test / validation / train";
  for (const json& note : field(field(r, "protocol"), "notes"))
    if (note.is_string()) md << "; " << markdown_cell(note.get<std::string>());
  md << ".\n\n| Fold | Test speakers | Validation speakers | Train speakers |";
  for (const auto& c : names) md << " " << markdown_cell(c) << " |";
  md << " Shared speakers |\n|--:|:--|:--|--:|";
  for (std::size_t i = 0; i < names.size(); ++i) md << "--:|";
  md << "--:|\n";
  const auto speakers = [](const json& d, const char* list, const char* count) {
    const json& l = field(d, list);
    if (!l.is_array()) return text_field(d, count, kMissing);
    std::string s;
    for (const json& x : l) s.append(s.empty() ? "" : ", ").append(x.is_string() ? x.get<std::string>() : x.dump());
    return markdown_cell(s);
  };
  for (const json& d : details) {
    md << "| " << text_field(d, "fold", "?") << " | " << speakers(d, "test", "test_speakers") << " | "
       << speakers(d, "validation", "validation_speakers") << " | " << text_field(d, "train_speakers", kMissing) << " |";
    const json& u = field(d, "utterances");
    for (std::size_t c = 0; c < names.size(); ++c) {
      std::string cell;
      for (const char* side : {"test", "validation", "train"}) {
        const json& v = field(u, side);
        cell.append(cell.empty() ? "" : " / ").append(v.is_array() && c < v.size() ? v[c].dump() : kMissing);
      }
      md << " " << cell << " |";
    }
    const json& shared = field(d, "shared_speakers");
    md << " " << (shared.is_array() ? std::to_string(shared.size()) : kMissing);
    if (shared.is_array() && !shared.empty()) md << " (" << text_field(d, "shared_test_utterances", "?") << " test utt.)";
    md << " |\n";
  }
  md << "\n";
}

std::string results_markdown(const json& results) {
  const json r = with_aggregates(results);
  const ModelList models = models_in_order(r);
  const std::vector<std::string> names = class_names(r);
  std::ostringstream md;
  header(md, r);
  comparison_table(md, models);
  per_class_table(md, models, names);
  significance_section(md, r);
  best_confusion(md, r, names);
  cross_corpus(md, r);
  fold_table(md, r, names);
  return md.str();
}

}  // namespace ser::report
