// src/report/confusion_heat_map.cpp — a confusion matrix as a heat map with counts in the cells.
#include <algorithm>
#include <cmath>

#include "report/colormap.hpp"
#include "report/format.hpp"
#include "report/svg_basics.hpp"
#include "report/svg_charts.hpp"

namespace ser::report::svg {

std::string confusion_heat_map(const ConfusionHeatMap& m) {
  const std::size_t k = m.classes.size();
  const double cell = k <= 4 ? 64 : k <= 8 ? 54 : std::max(22.0, 440.0 / static_cast<double>(k));
  std::size_t longest = 1;
  for (const std::string& c : m.classes) longest = std::max(longest, std::min<std::size_t>(c.size(), 14));
  const double char_w = 6.6;
  const double label_w = 14 + char_w * static_cast<double>(longest);  // truth names, left of the grid
  const double left = 22 + label_w, top = 30;
  const double grid = cell * static_cast<double>(k);
  const double below = 14 + char_w * 0.77 * static_cast<double>(longest) + 22;  // names rotated by 40 degrees
  const double width = left + grid + 86, height = top + grid + below;

  std::string s = open(width, height, m.title, "chart heat-map");
  s += text(4, 16, m.title, "class=\"chart-title\"");
  for (std::size_t i = 0; i < k; ++i) {
    double row = 0;
    for (std::size_t j = 0; j < k; ++j) row += i < m.counts.size() && j < m.counts[i].size() && std::isfinite(m.counts[i][j]) ? m.counts[i][j] : 0;
    for (std::size_t j = 0; j < k; ++j) {
      const double count = i < m.counts.size() && j < m.counts[i].size() && std::isfinite(m.counts[i][j]) ? m.counts[i][j] : 0;
      const double frac = row > 0 ? count / row : 0;
      const Rgb fill = blues(frac);
      const double x = left + cell * static_cast<double>(j), y = top + cell * static_cast<double>(i);
      s += cat("<rect class=\"cm-cell\" x=\"", n(x), "\" y=\"", n(y), "\" width=\"", n(cell), "\" height=\"", n(cell), "\" fill=\"", css(fill),
               "\"><title>", html_escape(cat("true ", m.classes[i], ", predicted ", m.classes[j], ": ", fixed(count, 0), " (", percent(frac), " % of the row)")),
               "</title></rect>\n");
      const std::string ink = luminance(fill) < 0.5 ? "#ffffff" : "#1a1a1a";
      const std::string weight = i == j ? " font-weight=\"bold\"" : "";
      if (cell >= 44) {
        s += text(x + cell / 2, y + cell / 2 + 1, fixed(count, 0), cat("text-anchor=\"middle\" class=\"cell-count\" fill=\"", ink, "\"", weight));
        s += text(x + cell / 2, y + cell / 2 + 14, cat(percent(frac), "%"), cat("text-anchor=\"middle\" class=\"cell-pct\" fill=\"", ink, "\""));
      } else {
        s += text(x + cell / 2, y + cell / 2 + 4, fixed(count, 0), cat("text-anchor=\"middle\" class=\"cell-pct\" fill=\"", ink, "\"", weight));
      }
    }
  }
  s += cat("<rect x=\"", n(left), "\" y=\"", n(top), "\" width=\"", n(grid), "\" height=\"", n(grid), "\" class=\"plot-frame\"/>\n");
  // Axis names cut to 14 characters; the cell tooltips carry the full names.
  for (std::size_t i = 0; i < k; ++i) {
    const double c = top + cell * (static_cast<double>(i) + 0.5);
    s += text(left - 6, c + 4, shorten(m.classes[i], 14), "text-anchor=\"end\" class=\"class-label\"");
    const double x = left + cell * (static_cast<double>(i) + 0.5);
    s += cat("<text transform=\"translate(", n(x + 4), ",", n(top + grid + 10), ") rotate(-40)\" text-anchor=\"end\" class=\"class-label\">",
             html_escape(shorten(m.classes[i], 14)), "</text>\n");
  }
  s += cat("<text transform=\"translate(12,", n(top + grid / 2), ") rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">true class</text>\n");
  s += text(left + grid / 2, height - 6, "predicted class", "text-anchor=\"middle\" class=\"axis-label\"");

  // Colour scale: 0 % at the bottom, 100 % at the top, in 20 steps.
  const double lx = left + grid + 16, lw = 14;
  const int steps = 20;
  for (int t = 0; t < steps; ++t) {
    const double frac = (t + 0.5) / steps;
    const double y = top + grid - grid * (t + 1) / steps;
    s += cat("<rect x=\"", n(lx), "\" y=\"", n(y), "\" width=\"", n(lw), "\" height=\"", n(grid / steps + 0.5), "\" fill=\"", css(blues(frac)), "\"/>\n");
  }
  s += cat("<rect x=\"", n(lx), "\" y=\"", n(top), "\" width=\"", n(lw), "\" height=\"", n(grid), "\" class=\"plot-frame\"/>\n");
  for (int p = 0; p <= 100; p += 25) {
    const double y = top + grid - grid * p / 100.0;
    s += cat("<line x1=\"", n(lx + lw), "\" y1=\"", n(y), "\" x2=\"", n(lx + lw + 3), "\" y2=\"", n(y), "\" class=\"axis\"/>\n");
    s += text(lx + lw + 5, y + 4, cat(std::to_string(p), "%"), "class=\"tick\"");
  }
  s += cat("<text transform=\"translate(", n(lx + lw + 50), ",", n(top + grid / 2), ") rotate(-90)\" text-anchor=\"middle\" class=\"tick\">share of the true class</text>\n");
  return s + close();
}

}  // namespace ser::report::svg
