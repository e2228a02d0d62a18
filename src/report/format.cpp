// src/report/format.cpp — number formatting, escaping and report sentences.
#include "report/format.hpp"

#include <cmath>
#include <cstdio>

namespace ser::report {

using nlohmann::json;

namespace {

bool finite_number(const json& v) { return v.is_number() && std::isfinite(v.get<double>()); }

std::string printf_text(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return kMissing;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.rfind("-0", 0) == 0 && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);  // no "-0.0"
  return s;
}

std::string fixed(const json& v, int decimals) { return finite_number(v) ? fixed(v.get<double>(), decimals) : kMissing; }

std::string percent(const json& v) { return finite_number(v) ? fixed(100 * v.get<double>(), 1) : kMissing; }

std::string percent_pm(const json& mean, const json& std) {
  if (!finite_number(mean)) return kMissing;
  if (!finite_number(std)) return percent(mean);
  return cat(percent(mean), " \u00b1 ", percent(std));
}

std::string grouped_count(const json& v) {
  if (!finite_number(v) || v.get<double>() <= 0) return kMissing;
  const std::string digits = std::to_string(std::llround(v.get<double>()));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string p_value_text(const json& p) {
  if (!finite_number(p)) return kMissing;
  const double v = p.get<double>();
  if (v < 0.001) return "< 0.001";
  if (v >= 0.1) return printf_text("%.2f", v);
  return printf_text("%.2g", v);
}

std::string duration_text(const json& seconds) {
  if (!finite_number(seconds)) return kMissing;
  const double s = seconds.get<double>();
  if (s < 60) return cat(fixed(s, 1), " s");
  const long long whole = std::llround(s);
  char buf[64];
  if (whole < 3600) std::snprintf(buf, sizeof buf, "%lld min %02lld s", whole / 60, whole % 60);
  else std::snprintf(buf, sizeof buf, "%lld h %02lld min", whole / 3600, (whole % 3600) / 60);
  return buf;
}

std::string points_text(double difference) {
  if (!std::isfinite(difference)) return kMissing;
  const std::string s = fixed(100 * difference, 1);
  return s[0] == '-' || s == "0.0" ? s : cat("+", s);
}

std::string metric_label(const std::string& metric) {
  if (metric == "ua") return "UA";
  if (metric == "accuracy") return "accuracy";
  if (metric == "macro_f1") return "macro F1";
  if (metric == "macro_precision") return "macro precision";
  if (metric == "macro_recall") return "macro recall";
  return metric;
}

std::string reused_note(const nlohmann::json& r) {
  const auto& reused = field(r, "runs_reused");
  const auto& total = field(r, "runs");
  if (!reused.is_number_integer() || reused.get<long>() <= 0) return "";
  std::string s = " (";
  s.append(std::to_string(reused.get<long>()));
  if (total.is_number_integer()) s.append(" of ").append(std::to_string(total.get<long>()));
  return s.append(" runs computed by an earlier invocation or another worker; their time is not in it)");
}

const nlohmann::json& field(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json null_value = nullptr;
  if (!obj.is_object()) return null_value;
  const auto it = obj.find(key);
  return it == obj.end() ? null_value : *it;
}

std::string text_field(const json& obj, const char* key, const std::string& fallback) {
  if (!obj.is_object()) return fallback;
  const auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return fallback;
}

std::string protocol_text(const json& results) {
  const json p = results.value("protocol", json::object());
  const std::string kind = text_field(p, "kind");
  std::string s = kind == "loso"         ? "leave-one-speaker-out"
                  : kind == "logo"       ? "leave-one-group-out (every speaker of one fold group, e.g. an IEMOCAP session)"
                  : kind == "kfold"      ? "k-fold over speakers"
                  : kind == "predefined" ? "the corpus's predefined partition"
                  : kind.empty()         ? "protocol not recorded"
                                         : kind;
  if (p.contains("partitions") && p["partitions"].is_object())
    s.append(" (train '").append(text_field(p["partitions"], "train")).append("', validation '")
        .append(text_field(p["partitions"], "validation")).append("', test '").append(text_field(p["partitions"], "test")).append("')");
  if (!text_field(p, "filter").empty()) s.append(", utterances with ").append(text_field(p, "filter"));
  if (p.contains("folds") && p["folds"].is_number()) s.append(", ").append(p["folds"].dump()).append(" folds");
  if (p.contains("seeds") && p["seeds"].is_array()) {
    std::string list;
    for (const json& seed : p["seeds"]) list.append(list.empty() ? "" : ", ").append(seed.dump());
    s.append(" \u00d7 ").append(std::to_string(p["seeds"].size())).append(p["seeds"].size() == 1 ? " seed (" : " seeds (").append(list).append(")");
  }
  const std::string validation = text_field(p, "validation"), normalisation = text_field(p, "normalisation");
  if (!validation.empty()) s.append("; validation: ").append(validation);
  if (!normalisation.empty()) s.append("; normalisation: ").append(normalisation);
  if (!text_field(p, "engine_models").empty()) s.append("; engine models: ").append(text_field(p, "engine_models"));
  return s;
}

std::array<std::string, 3> per_utterance_texts(const json& pu) {
  if (!pu.is_object() || !pu.value("p_value", json(nullptr)).is_number())
    return {kMissing, kMissing, pu.is_object() ? text_field(pu, "reason", kMissing) : kMissing};
  const json ci = pu.value("ci95", json::array());
  const bool has_ci = ci.is_array() && ci.size() == 2 && ci[0].is_number() && ci[1].is_number();
  return {points_text(pu["difference"].get<double>()),
          has_ci ? cat("[", points_text(ci[0].get<double>()), ", ", points_text(ci[1].get<double>()), "]") : kMissing,
          p_value_text(pu["p_value"])};
}

std::string significance_sentence(const json& e) {
  const std::string metric = text_field(e, "metric", "ua");
  std::string s = cat(text_field(e, "model", "?"), " vs ", text_field(e, "baseline", "?"), ": ", metric_label(metric), " ",
                      points_text(e.value("mean_difference", json(nullptr)).is_number() ? e["mean_difference"].get<double>() : NAN),
                      " points");
  auto p_clause = [](const json& p) {
    const std::string t = p_value_text(p);
    return t[0] == '<' ? cat("p ", t) : cat("p = ", t);
  };
  const json w = e.value("wilcoxon", json::object());
  if (w.value("p_value", json(nullptr)).is_number()) {
    s.append(", Wilcoxon ").append(p_clause(w["p_value"])).append(" (").append(text_field(w, "method"));
    s.append(", n = ").append(text_field(w, "n", text_field(e, "pairs", "?")));
    const int zeros = w.value("zeros_dropped", 0);
    if (zeros > 0) s.append("; ").append(std::to_string(zeros)).append(zeros == 1 ? " zero difference dropped" : " zero differences dropped");
    s.append(")");
  } else {
    s.append(", Wilcoxon not computed (").append(text_field(w, "reason", "no result")).append(")");
  }
  const json t = e.value("paired_t", json::object());
  if (t.value("p_value", json(nullptr)).is_number()) {
    s.append(", paired t ").append(p_clause(t["p_value"])).append(" (t = ").append(fixed(t.value("statistic", json(nullptr)), 2));
    s.append(", df = ").append(text_field(t, "df", "?")).append(")");
  } else {
    s.append(", paired t not computed (").append(text_field(t, "reason", "no result")).append(")");
  }
  const json pu = e.value("per_utterance", json(nullptr));
  if (pu.is_object() && pu.value("p_value", json(nullptr)).is_number()) {
    const auto cells = per_utterance_texts(pu);
    s.append("; pooled UA ").append(cells[0]).append(" points, 95 % CI ").append(cells[1]);
    s.append(", per-utterance ").append(p_clause(pu["p_value"])).append(" (approximate randomisation, ");
    s.append(text_field(pu, "method")).append(", ").append(text_field(pu, "discordant", "?")).append(" of ");
    s.append(text_field(pu, "utterances", "?")).append(" utterances discordant)");
  }
  const int wins = e.value("wins", 0), losses = e.value("losses", 0), ties = e.value("ties", 0);
  s.append("; ").append(std::to_string(wins)).append(wins == 1 ? " win, " : " wins, ");
  s.append(std::to_string(losses)).append(losses == 1 ? " loss, " : " losses, ");
  s.append(std::to_string(ties)).append(ties == 1 ? " tie." : " ties.");
  return s;
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string markdown_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

}  // namespace ser::report
