// src/report/report_html.cpp — report.html: the page and its sections.
#include "report/report_html.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <vector>

#include "report/aggregate.hpp"
#include "report/colormap.hpp"
#include "report/format.hpp"
#include "report/svg_charts.hpp"

namespace ser::report {

using nlohmann::json;

namespace {

const json kNull = nullptr;  // the missing value of field()


bool finite_number(const json& v) { return v.is_number() && std::isfinite(v.get<double>()); }

std::string esc(const std::string& s) { return html_escape(s); }

std::vector<std::string> string_list(const json& a) {
  std::vector<std::string> out;
  if (!a.is_array()) return out;
  for (const json& v : a) out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

std::string class_name(const std::vector<std::string>& names, const json& index) {
  if (!index.is_number_integer()) return kMissing;
  const long long i = index.get<long long>();
  return i >= 0 && static_cast<std::size_t>(i) < names.size() ? names[static_cast<std::size_t>(i)] : cat("class ", index.dump());
}

// A (k, k) matrix of numbers from JSON; empty when the shape is wrong.
std::vector<std::vector<double>> square_matrix(const json& m, std::size_t k) {
  std::vector<std::vector<double>> out;
  if (!m.is_array() || m.size() != k) return {};
  for (const json& row : m) {
    if (!row.is_array() || row.size() != k) return {};
    std::vector<double> r;
    for (const json& v : row) r.push_back(finite_number(v) ? v.get<double>() : 0.0);
    out.push_back(r);
  }
  return out;
}

// ---- header ----------------------------------------------------------------------------------------

void header(std::ostringstream& h, const json& r) {
  h << "<header>\n<h1>" << esc(text_field(r, "title", text_field(r, "experiment", "Experiment"))) << "</h1>\n<dl class=\"meta\">\n";
  auto row = [&](const char* label, const std::string& value_html) { h << "<dt>" << label << "</dt><dd>" << value_html << "</dd>\n"; };
  row("Experiment", cat("<code>", esc(text_field(r, "experiment", kMissing)), "</code>"));
  auto code_row = [&](const char* label, const char* key) {  // only fields that are present and not empty
    const std::string v = text_field(r, key);
    if (!v.empty()) row(label, cat("<code>", esc(v), "</code>"));
  };
  if (!text_field(r, "corpus").empty()) row("Corpus", esc(text_field(r, "corpus")));
  code_row("Data", "data");
  code_row("Feature cache", "cache");
  code_row("Command", "command");
  row("Commit", cat("<code>", esc(text_field(r, "commit", kMissing)), "</code>"));
  row("Machine", esc(cat(text_field(r, "machine", kMissing), " (device: ", text_field(r, "device", kMissing), ")")));
  row("Started", esc(cat(text_field(r, "started", kMissing), "; wall time ", duration_text(field(r, "seconds")),
                         reused_note(r))));
  row("Protocol", esc(protocol_text(r)));
  const std::vector<std::string> names = string_list(field(r, "class_names"));
  if (!names.empty()) {
    std::string list;
    for (const std::string& c : names) list.append(list.empty() ? "" : ", ").append(c);
    row("Classes", esc(cat(std::to_string(names.size()), ": ", list)));
  }
  if (r.contains("baseline")) row("Baseline", cat("<code>", esc(text_field(r, "baseline")), "</code>"));
  h << "</dl>\n<nav><a href=\"#comparison\">Comparison</a><a href=\"#learning-curves\">Learning curves</a>"
       "<a href=\"#confusion\">Confusion matrices</a><a href=\"#per-class\">Per-class recall</a>"
       "<a href=\"#significance\">Significance</a><a href=\"#attention\">Attention maps</a>"
       "<a href=\"#cross-corpus\">Cross-corpus</a></nav>\n</header>\n";
}

// ---- comparison table --------------------------------------------------------------------------------

void comparison(std::ostringstream& h, const ModelList& models) {
  h << "<section id=\"comparison\">\n<h2>Comparison</h2>\n";
  if (models.empty()) {
    h << "<p class=\"note\">No models in these results.</p>\n</section>\n";
    return;
  }
  std::map<std::string, double> best;  // metric -> highest mean
  for (const char* metric : kRunMetrics)
    for (const auto& [name, m] : models)
      if (finite_number(field(m, cat(metric, "_mean").c_str())))
        best[metric] = std::max(best.count(metric) ? best[metric] : -1.0, field(m, cat(metric, "_mean").c_str()).get<double>());
  h << "<table class=\"comparison\">\n<thead><tr><th class=\"name\">Model</th><th class=\"name\">Approach</th><th>Accuracy %</th>"
       "<th>UA %</th><th>Macro P %</th><th>Macro R %</th><th>Macro F1 %</th><th>Pooled UA %</th><th>Validation UA %</th><th>Parameters</th>"
       "<th>Train time / run</th><th>Inference utt/s</th><th>Runs</th></tr></thead>\n<tbody>\n";
  for (const auto& [name, m] : models) {
    h << "<tr><td class=\"name\"><b>" << esc(name) << "</b>";
    if (!text_field(m, "description").empty()) h << "<span class=\"desc\">" << esc(text_field(m, "description")) << "</span>";
    h << "</td><td class=\"name\">" << esc(text_field(m, "approach", kMissing)) << "</td>";
    for (const char* metric : kRunMetrics) {
      const json& mean = field(m, cat(metric, "_mean").c_str());
      const json& sd = field(m, cat(metric, "_std").c_str());
      const bool is_best = finite_number(mean) && best.count(metric) && mean.get<double>() >= best[metric] - 1e-12 && models.size() > 1;
      h << "<td" << (is_best ? " class=\"best\"" : "") << ">" << percent(mean);
      if (finite_number(mean) && finite_number(sd)) h << " <span class=\"pm\">\u00b1 " << percent(sd) << "</span>";
      h << "</td>";
    }
    h << "<td>" << percent(field(m, "pooled_ua")) << "</td><td>" << percent(field(m, "validation_ua_mean"));
    if (finite_number(field(m, "validation_ua_mean")) && finite_number(field(m, "validation_ua_std")))
      h << " <span class=\"pm\">\u00b1 " << percent(field(m, "validation_ua_std")) << "</span>";
    h << "</td>";
    h << "<td>" << grouped_count(field(m, "parameters")) << "</td><td>" << esc(duration_text(field(m, "train_seconds_mean"))) << "</td><td>"
      << grouped_count(field(m, "inference_utterances_per_second")) << "</td><td>" << text_field(m, "runs", kMissing) << "</td></tr>\n";
  }
  h << "</tbody>\n</table>\n";
  bool any_ensemble = false;
  for (const auto& [name, m] : models) any_ensemble |= finite_number(field(m, "seed_ensemble_ua"));
  if (any_ensemble) {
    h << "<p class=\"note\">Seed ensembles (each fold's posteriors averaged over the seeds, then the argmax), pooled UA:";
    for (const auto& [name, m] : models)
      if (finite_number(field(m, "seed_ensemble_ua")))
        h << " <b>" << esc(name) << "</b> " << percent(field(m, "seed_ensemble_ua")) << " % over "
          << esc(text_field(m, "seed_ensemble_seeds", "?")) << " seeds (single seeds pooled: " << percent(field(m, "pooled_ua")) << " %);";
    h << "</p>\n";
  }
  h << "<p class=\"note\">Mean \u00b1 sample standard deviation over runs (folds \u00d7 seeds); bold: the highest mean "
       "in the column. UA: unweighted average recall, the mean of the per-class recalls; pooled UA: UA over every test "
       "utterance of every run at once; validation UA: of the selected model on the validation speakers, which alone drive "
       "model selection and recipe choices. Train time: mean wall time of one run "
       "(training and validation); inference: test utterances per second.</p>\n</section>\n";
}

// ---- learning curves -----------------------------------------------------------------------------------

bool has_learning_curve(const json& model) {
  for (const json& f : field(model, "folds"))
    if (field(f, "learning_curve").is_array() && !field(f, "learning_curve").empty()) return true;
  return false;
}

// One faint line per run and the mean over the runs that reached each epoch (drawn while at least
// half of the runs have that epoch, so the tail of a few long runs does not pose as the mean).
void add_runs(svg::LineChart& chart, const json& folds, const char* key, const std::string& color) {
  std::map<double, std::pair<double, int>> by_epoch;  // epoch -> (sum, count)
  int curves = 0;
  for (const json& f : folds) {
    const json& lc = field(f, "learning_curve");
    if (!lc.is_array() || lc.empty()) continue;
    ++curves;
    svg::Line line;
    line.color = color;
    line.width = 1;
    line.opacity = 0.22;
    for (const json& e : lc) {
      const json& x = field(e, "epoch");
      const json& y = field(e, key);
      if (!finite_number(x)) continue;
      line.points.push_back({x.get<double>(), finite_number(y) ? y.get<double>() : NAN});
      if (finite_number(y)) {
        auto& acc = by_epoch[x.get<double>()];
        acc.first += y.get<double>();
        acc.second += 1;
      }
    }
    chart.lines.push_back(line);
  }
  svg::Line mean;
  mean.color = color;
  mean.width = 2.4;
  for (const auto& [epoch, acc] : by_epoch)
    if (2 * acc.second >= curves) mean.points.push_back({epoch, acc.first / acc.second});
  chart.lines.push_back(mean);
}

void learning_curves(std::ostringstream& h, const ModelList& models) {
  h << "<section id=\"learning-curves\">\n<h2>Learning curves</h2>\n";
  std::vector<std::string> without;
  bool any = false;
  std::ostringstream cards;
  for (const auto& [name, m] : models) {
    if (!has_learning_curve(m)) {
      without.push_back(name);
      continue;
    }
    any = true;
    const json& folds = m.at("folds");
    svg::LineChart loss;  // two charts of 296 px side by side: two model cards fit a row
    loss.width = 296;
    loss.title = "Loss";
    loss.x_integer = true;
    loss.x_label = "epoch";
    loss.y_label = "cross-entropy";
    loss.legend = {{"train", "#1f77b4", false}, {"validation", "#e4572e", false}};
    add_runs(loss, folds, "train_loss", "#1f77b4");
    add_runs(loss, folds, "val_loss", "#e4572e");
    svg::LineChart ua;
    ua.width = 296;
    ua.title = "Validation UA";
    ua.x_integer = true;
    ua.x_label = "epoch";
    ua.y_label = "UA (%)";
    ua.y_percent = true;
    ua.legend = {{"validation UA", "#2ca02c", false}};
    add_runs(ua, folds, "val_ua", "#2ca02c");
    cards << "<div class=\"card\"><h3>" << esc(name) << "</h3>";
    if (!text_field(m, "description").empty()) cards << "<p class=\"desc\">" << esc(text_field(m, "description")) << "</p>";
    cards << "<div class=\"figures\">" << svg::line_chart(loss) << svg::line_chart(ua) << "</div></div>\n";
  }
  if (any) {
    h << "<p class=\"note\">Thin lines: one per run (fold \u00d7 seed); thick line: the mean over the runs that reached the epoch, "
         "drawn while at least half of the runs have it (early stopping ends runs at different epochs).</p>\n";
    h << "<div class=\"figures\">\n" << cards.str() << "</div>\n";
  }
  if (!without.empty()) {
    std::string list;
    for (const std::string& n : without) list.append(list.empty() ? "" : ", ").append(n);
    h << "<p class=\"note\">No learning curves for " << esc(list) << " (models trained without epochs, or curves not recorded).</p>\n";
  }
  h << "</section>\n";
}

// ---- confusion matrices -------------------------------------------------------------------------------

void confusion_maps(std::ostringstream& h, const ModelList& models, const std::vector<std::string>& names) {
  h << "<section id=\"confusion\">\n<h2>Confusion matrices</h2>\n";
  if (names.empty()) {
    h << "<p class=\"note\">No class names in these results.</p>\n</section>\n";
    return;
  }
  h << "<p class=\"note\">Counts summed over all runs (every test utterance of every fold and seed); rows are the true class, "
       "colour is the share of the row.</p>\n<div class=\"figures\">\n";
  for (const auto& [name, m] : models) {
    svg::ConfusionHeatMap map;
    map.classes = names;
    map.counts = square_matrix(field(m, "confusion"), names.size());
    if (map.counts.empty()) continue;
    map.title = cat(name, " \u00b7 UA ", percent(field(m, "ua_mean")), " %");
    h << "<figure>" << svg::confusion_heat_map(map) << "</figure>\n";
  }
  h << "</div>\n</section>\n";
}

// ---- per-class recall ------------------------------------------------------------------------------------

void per_class(std::ostringstream& h, const ModelList& models, const std::vector<std::string>& names) {
  h << "<section id=\"per-class\">\n<h2>Per-class recall</h2>\n";
  if (names.empty() || models.empty()) {
    h << "<p class=\"note\">No per-class results.</p>\n</section>\n";
    return;
  }
  svg::GroupedBarChart chart;
  chart.title = "Recall per class (mean \u00b1 std over runs)";
  chart.y_label = "recall (%)";
  chart.groups = names;
  std::size_t i = 0;
  for (const auto& [name, m] : models) {
    if (!m.contains("per_class_recall_mean")) continue;  // no finished runs yet
    svg::BarSeries s;
    s.label = name;
    s.color = series_color(i++);
    const json& mean = field(m, "per_class_recall_mean");
    const json& sd = field(m, "per_class_recall_std");
    for (std::size_t c = 0; c < names.size(); ++c) {
      const json& v = mean.is_array() && c < mean.size() ? mean[c] : kNull;
      const json& e = sd.is_array() && c < sd.size() ? sd[c] : kNull;
      s.value.push_back(finite_number(v) ? std::optional<double>(v.get<double>()) : std::nullopt);
      s.error.push_back(finite_number(e) ? std::optional<double>(e.get<double>()) : std::nullopt);
    }
    chart.series.push_back(s);
  }
  chart.width = std::clamp(160.0 + 34.0 * static_cast<double>(names.size() * std::max<std::size_t>(1, models.size())), 700.0, 1280.0);
  h << "<figure>" << svg::grouped_bar_chart(chart) << "</figure>\n";
  h << "<table>\n<thead><tr><th class=\"name\">Model</th>";
  for (const std::string& c : names) h << "<th>" << esc(c) << "</th>";
  h << "</tr></thead>\n<tbody>\n";
  for (const auto& [name, m] : models) {
    h << "<tr><td class=\"name\">" << esc(name) << "</td>";
    const json& mean = field(m, "per_class_recall_mean");
    const json& sd = field(m, "per_class_recall_std");
    for (std::size_t c = 0; c < names.size(); ++c) {
      const json& v = mean.is_array() && c < mean.size() ? mean[c] : kNull;
      const json& e = sd.is_array() && c < sd.size() ? sd[c] : kNull;
      h << "<td>" << percent(v);
      if (finite_number(v) && finite_number(e)) h << " <span class=\"pm\">\u00b1 " << percent(e) << "</span>";
      h << "</td>";
    }
    h << "</tr>\n";
  }
  h << "</tbody>\n</table>\n<p class=\"note\">Percent; mean \u00b1 std over the runs whose test speakers include the class ("
    << kMissing << ": never tested).</p>\n</section>\n";
}

// ---- significance ---------------------------------------------------------------------------------------

void significance(std::ostringstream& h, const json& r) {
  h << "<section id=\"significance\">\n<h2>Significance</h2>\n";
  const json& sig = field(r, "significance");
  if (r.contains("significance_note")) h << "<p class=\"note\">" << esc(text_field(r, "significance_note")) << "</p>\n";
  if (!sig.is_array() || sig.empty()) {
    h << "<p class=\"note\">No significance tests in these results" << (r.contains("baseline") ? "" : " (no baseline model named)")
      << ".</p>\n</section>\n";
    return;
  }
  const std::string metric = text_field(sig[0], "metric", "ua");
  h << "<p class=\"note\">Every model against the baseline <b>" << esc(text_field(sig[0], "baseline", "?")) << "</b> on "
    << esc(metric_label(metric)) << ", runs paired by (seed, fold). Wilcoxon signed-rank test, two-sided; zero differences are dropped "
       "(Wilcoxon's convention); exact p-value for up to 25 non-zero differences without tied ranks, otherwise the normal "
       "approximation with tie and continuity correction. Paired t-test, two-sided. Per utterance: pooled UA difference, "
       "approximate randomisation test (each utterance's two predictions swapped at random; exact over every swap pattern "
       "for up to 20 discordant utterances), two-sided, and its 95 % paired bootstrap interval.</p>\n";
  h << "<table>\n<thead><tr><th class=\"name\">Model</th><th class=\"name\">Baseline</th><th>Pairs</th><th>\u0394 " << esc(metric_label(metric))
    << " (points)</th><th>Wins / losses / ties</th><th>Wilcoxon W</th><th>Wilcoxon p</th><th class=\"name\">Method</th><th>t</th>"
       "<th>df</th><th>t-test p</th><th>\u0394 pooled UA (points)</th><th>95 % CI</th><th>Per-utterance p</th></tr></thead>\n<tbody>\n";
  for (const json& e : sig) {
    const json& w = field(e, "wilcoxon");
    const json& t = field(e, "paired_t");
    const bool w_ok = field(w, "p_value").is_number(), t_ok = field(t, "p_value").is_number();
    h << "<tr><td class=\"name\">" << esc(text_field(e, "model", "?")) << "</td><td class=\"name\">" << esc(text_field(e, "baseline", "?"))
      << "</td><td>" << esc(text_field(e, "pairs", kMissing)) << "</td><td>"
      << (finite_number(field(e, "mean_difference")) ? points_text(field(e, "mean_difference").get<double>()) : kMissing) << "</td><td>"
      << esc(cat(text_field(e, "wins", "0"), " / ", text_field(e, "losses", "0"), " / ", text_field(e, "ties", "0"))) << "</td><td>"
      << (w_ok ? fixed(field(w, "statistic"), 1) : kMissing) << "</td><td>" << esc(p_value_text(field(w, "p_value")))
      << "</td><td class=\"name\">" << esc(w_ok ? text_field(w, "method", kMissing) : text_field(w, "reason", kMissing)) << "</td><td>"
      << (t_ok ? fixed(field(t, "statistic"), 2) : kMissing) << "</td><td>" << (t_ok ? esc(text_field(t, "df", kMissing)) : kMissing)
      << "</td><td>" << esc(t_ok ? p_value_text(field(t, "p_value")) : text_field(t, "reason", kMissing)) << "</td>";
    for (const std::string& cell : per_utterance_texts(field(e, "per_utterance"))) h << "<td>" << esc(cell) << "</td>";
    h << "</tr>\n";
  }
  h << "</tbody>\n</table>\n<ul class=\"sentences\">\n";
  for (const json& e : sig) h << "<li>" << esc(significance_sentence(e)) << "</li>\n";
  h << "</ul>\n</section>\n";
}

// ---- attention maps -----------------------------------------------------------------------------------

std::vector<double> numbers(const json& a) {
  std::vector<double> out;
  if (!a.is_array()) return out;
  for (const json& v : a) out.push_back(finite_number(v) ? v.get<double>() : NAN);
  return out;
}

void attention(std::ostringstream& h, const json& r, const std::vector<std::string>& names) {
  h << "<section id=\"attention\">\n<h2>Attention maps</h2>\n";
  const json& examples = field(r, "attention_examples");
  if (!examples.is_array() || examples.empty()) {
    h << "<p class=\"note\">No attention examples in these results.</p>\n</section>\n";
    return;
  }
  h << "<p class=\"note\">Log-mel spectrogram of a test utterance (time left to right, low mel bands at the bottom) with the "
       "model's attention-pooling weights over time: the cyan curve over the spectrogram and the strip under it (darker = more "
       "weight). Where recorded, the dashed white curve is the attention each frame receives in self-attention (mean over "
       "heads and queries).</p>\n";
  std::size_t index = 0;
  for (const json& e : examples) {
    ++index;
    const json& logmel = field(e, "logmel");
    svg::AttentionFigure fig;
    bool ok = logmel.is_array() && !logmel.empty() && logmel[0].is_array() && !logmel[0].empty();
    if (ok) {
      fig.frames = static_cast<int>(logmel.size());
      fig.mels = static_cast<int>(logmel[0].size());
      for (const json& row : logmel) {
        if (!row.is_array() || row.size() != static_cast<std::size_t>(fig.mels)) { ok = false; break; }
        for (const json& v : row) fig.logmel.push_back(finite_number(v) ? v.get<float>() : NAN);
      }
    }
    const std::string model = text_field(e, "model", "?"), path = text_field(e, "path", "?");
    if (!ok) {
      h << "<p class=\"note\">Example " << index << " (" << esc(model) << ", " << esc(path) << ") left out: its log-mel is not a frames \u00d7 mels array.</p>\n";
      continue;
    }
    fig.hop_seconds = finite_number(field(e, "hop_seconds")) ? field(e, "hop_seconds").get<double>() : 0.01;
    fig.attention = numbers(field(e, "attention"));
    fig.self_attention = numbers(field(e, "self_attention"));
    const std::string truth = class_name(names, field(e, "label")), predicted = class_name(names, field(e, "predicted"));
    const bool correct = field(e, "label").is_number_integer() && field(e, "label") == field(e, "predicted");
    fig.label = cat("attention of ", model, " on ", path);
    h << "<figure class=\"card\"><figcaption><b>" << esc(model) << "</b> <span class=\"muted\">\u00b7</span> <code>" << esc(path)
      << "</code> <span class=\"muted\">\u00b7 speaker " << esc(text_field(e, "speaker", kMissing)) << " \u00b7 true</span> " << esc(truth)
      << " <span class=\"muted\">\u2192 predicted</span> " << esc(predicted) << " "
      << (correct ? "<span class=\"ok\">(correct)</span>" : "<span class=\"wrong\">(wrong)</span>") << "</figcaption>\n";
    if (fig.attention.empty()) h << "<p class=\"note\">No attention weights recorded for this example.</p>\n";
    h << svg::attention_figure(fig) << "</figure>\n";
  }
  h << "</section>\n";
}

// ---- cross-corpus ---------------------------------------------------------------------------------------

void cross_corpus(std::ostringstream& h, const json& r) {
  h << "<section id=\"cross-corpus\">\n<h2>Cross-corpus</h2>\n";
  const json& cc = field(r, "cross_corpus");
  if (!cc.is_array() || cc.empty()) {
    h << "<p class=\"note\">No cross-corpus results in these results.</p>\n</section>\n";
    return;
  }
  h << "<table>\n<thead><tr><th class=\"name\">Model</th><th class=\"name\">Train</th><th class=\"name\">Test</th><th class=\"name\">Classes</th>"
       "<th>Accuracy %</th><th>UA %</th><th>Macro F1 %</th></tr></thead>\n<tbody>\n";
  for (const json& e : cc) {
    std::string classes;
    for (const std::string& c : string_list(field(e, "classes"))) classes.append(classes.empty() ? "" : ", ").append(c);
    h << "<tr><td class=\"name\">" << esc(text_field(e, "model", "?")) << "</td><td class=\"name\">" << esc(text_field(e, "train", "?"))
      << "</td><td class=\"name\">" << esc(text_field(e, "test", "?")) << "</td><td class=\"name\">" << esc(classes.empty() ? kMissing : classes)
      << "</td><td>" << percent(field(e, "accuracy")) << "</td><td>" << percent(field(e, "ua")) << "</td><td>" << percent(field(e, "macro_f1"))
      << "</td></tr>\n";
  }
  h << "</tbody>\n</table>\n<div class=\"figures\">\n";
  for (const json& e : cc) {
    svg::ConfusionHeatMap map;
    map.classes = string_list(field(e, "classes"));
    map.counts = square_matrix(field(e, "confusion"), map.classes.size());
    if (map.classes.empty() || map.counts.empty()) continue;
    map.title = cat(text_field(e, "model", "?"), ": ", text_field(e, "train", "?"), " \u2192 ", text_field(e, "test", "?"));
    h << "<figure>" << svg::confusion_heat_map(map) << "</figure>\n";
  }
  h << "</div>\n</section>\n";
}

}  // namespace

std::string report_html(const json& results) {
  const json r = with_aggregates(results);
  const ModelList models = models_in_order(r);
  const std::vector<std::string> names = string_list(field(r, "class_names"));
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
    << esc(text_field(r, "title", text_field(r, "experiment", "Experiment"))) << " \u2014 ser report</title>\n<style>" << report_css()
    << "</style>\n</head>\n<body>\n<main>\n";
  header(h, r);
  comparison(h, models);
  learning_curves(h, models);
  confusion_maps(h, models, names);
  per_class(h, models, names);
  significance(h, r);
  attention(h, r, names);
  cross_corpus(h, r);
  h << "<footer>Written by ser " << SER_VERSION << " from results.json";
  if (r.contains("commit")) h << " at commit " << esc(text_field(r, "commit"));
  h << ".</footer>\n</main>\n</body>\n</html>\n";
  return h.str();
}

}  // namespace ser::report
