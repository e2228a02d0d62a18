// src/report/svg_basics.hpp — the pieces every chart of the report is drawn with: coordinates
// printed NaN-free, "nice" axis ticks, and the open/close of an inline <svg>.
#pragma once
#include <string>
#include <vector>

namespace ser::report::svg {

// A coordinate or length with one decimal; 0 for a non-finite value, so no "nan" ever reaches the file.
std::string n(double v);
// About `target` round tick values (steps of 1, 2 or 5 x 10^k) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// Tick label: as few decimals as the step needs ("0.5", "10", "0.25").
std::string tick_label(double v, double step);
// <svg ...> with a viewBox of the given size; role="img" and the aria label.
std::string open(double width, double height, const std::string& label, const std::string& css_class = "chart");
inline std::string close() { return "</svg>\n"; }
// s cut to at most max_chars bytes (whole UTF-8 characters) with an ellipsis when longer.
std::string shorten(const std::string& s, std::size_t max_chars);
// <text> with escaped content; extra: further attributes (already escaped).
std::string text(double x, double y, const std::string& content, const std::string& extra = "");

}  // namespace ser::report::svg
