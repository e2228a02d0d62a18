// src/report/report_html.hpp — report.html of an experiment: one self-contained file (inline CSS
// and SVG, the spectrograms as inline data: PNGs, no scripts, nothing fetched) with the metadata, the
// comparison table, learning curves, confusion heat maps, per-class recall, significance tests,
// attention maps and cross-corpus results. Every text taken from the results is HTML-escaped.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace ser::report {

// Accepts results before or after aggregate_model; optional parts (learning curves, significance,
// attention examples, cross-corpus) are left out, with a line saying so, when absent.
std::string report_html(const nlohmann::json& results);

// The report's style sheet (report_style.cpp).
const char* report_css();

}  // namespace ser::report
