// src/report/svg_basics.cpp — number printing, ticks, svg open tag, text elements.
#include "report/svg_basics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "report/format.hpp"

namespace ser::report::svg {

std::string n(double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  if (buf[0] == '-' && std::string(buf) == "-0.0") return "0.0";
  return buf;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
  if (hi < lo) std::swap(lo, hi);
  double span = hi - lo;
  if (span <= 0) span = std::fabs(hi) > 0 ? std::fabs(hi) : 1;
  const double raw = span / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / mag;
  const double step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
  std::vector<double> ticks;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step && ticks.size() < 50; v += step)
    ticks.push_back(std::fabs(v) < 1e-12 * step ? 0.0 : v);
  return ticks;
}

std::string tick_label(double v, double step) {
  int decimals = 0;
  if (std::isfinite(step) && step > 0)
    while (decimals < 6 && std::fabs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-6) ++decimals;
  return fixed(v, decimals);
}

std::string open(double width, double height, const std::string& label, const std::string& css_class) {
  return cat("<svg class=\"", css_class, "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"", n(width), "\" height=\"", n(height),
             "\" viewBox=\"0 0 ", n(width), " ", n(height), "\" role=\"img\" aria-label=\"", html_escape(label), "\">\n");
}

std::string shorten(const std::string& s, std::size_t max_chars) {
  if (s.size() <= max_chars) return s;
  std::size_t cut = max_chars > 1 ? max_chars - 1 : 0;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
  return cat(s.substr(0, cut), "\u2026");
}

std::string text(double x, double y, const std::string& content, const std::string& extra) {
  return cat("<text x=\"", n(x), "\" y=\"", n(y), "\"", extra.empty() ? "" : " ", extra, ">", html_escape(content), "</text>\n");
}

}  // namespace ser::report::svg
