// src/report/format.hpp — text pieces shared by results.md and report.html: numbers as the
// report prints them (NaN-free: anything missing or non-finite prints as an em dash), escaping,
// and the sentences that describe the protocol and a significance test.
#pragma once
#include <array>
#include <string>

#include <nlohmann/json.hpp>

namespace ser::report {

// Concatenates strings and literals (GCC 12 misreports "literal" + std::string under -Werror=restrict).
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  (s.append(parts), ...);
  return s;
}

inline constexpr const char* kMissing = "\u2014";  // em dash

// Fixed-point number with `decimals` digits; kMissing unless v is a finite number.
std::string fixed(const nlohmann::json& v, int decimals);
std::string fixed(double v, int decimals);
// A fraction in [0, 1] as a percentage with one decimal ("78.3"); kMissing when absent.
std::string percent(const nlohmann::json& v);
// "78.3 ± 4.1" from a fraction mean and std; kMissing when the mean is absent.
std::string percent_pm(const nlohmann::json& mean, const nlohmann::json& std);
// Integer with thousands separators ("1,234,567"); kMissing when absent or not positive.
std::string grouped_count(const nlohmann::json& v);
// "0.04", "0.0012", "< 0.001"; kMissing when null.
std::string p_value_text(const nlohmann::json& p);
// "20 min 34 s", "12.3 s", "2 h 05 min".
std::string duration_text(const nlohmann::json& seconds);
// A signed difference of fractions in percentage points: "+3.0", "-1.2".
std::string points_text(double difference);

// Display name of a metric key ("ua" -> "UA", "macro_f1" -> "macro F1").
std::string metric_label(const std::string& metric);
// "leave-one-speaker-out, 10 folds x 2 seeds (1, 2); validation: ...; normalisation: ...".
std::string protocol_text(const nlohmann::json& results);
// "cnn_attn vs cnn: UA +3.0 points, Wilcoxon p = 0.04 (exact, n = 10), paired t p = 0.05 (t = 2.30,
// df = 9); 7 wins, 2 losses, 1 tie." — one entry of results["significance"].
std::string significance_sentence(const nlohmann::json& entry);
// The three cells of a significance entry's "per_utterance" test: the pooled UA difference in
// points, its 95 % interval "[-1.2, +4.0]", and p (the reason instead when there is no test).
std::array<std::string, 3> per_utterance_texts(const nlohmann::json& per_utterance);

// " (N of M runs computed by an earlier invocation or another worker)" when results["runs_reused"] > 0,
// else "": the wall time then covers only this process's runs.
std::string reused_note(const nlohmann::json& results);
// obj[key], or a JSON null when obj is not an object or lacks the key (never throws).
const nlohmann::json& field(const nlohmann::json& obj, const char* key);
// String value of a JSON field, or `fallback` when absent or not a string/number.
std::string text_field(const nlohmann::json& obj, const char* key, const std::string& fallback = "");

std::string html_escape(const std::string& s);
// A Markdown table cell: pipes escaped, line breaks flattened.
std::string markdown_cell(const std::string& s);

}  // namespace ser::report
