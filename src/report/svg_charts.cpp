// src/report/svg_charts.cpp — line charts and grouped bar charts.
#include "report/svg_charts.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "report/format.hpp"
#include "report/svg_basics.hpp"

namespace ser::report::svg {

namespace {

// Maps data coordinates into the plot rectangle.
struct Frame {
  double left, top, width, height;  // plot rectangle in pixels
  double x0, x1, y0, y1;            // data range
  double px(double x) const { return left + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * width; }
  double py(double y) const { return top + height - (y1 > y0 ? (y - y0) / (y1 - y0) : 0.5) * height; }
};

std::string axis_label_y(double x, double y, const std::string& label) {
  return cat("<text transform=\"translate(", n(x), ",", n(y), ") rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">",
             html_escape(label), "</text>\n");
}

std::string legend_row(double right, double y, const std::vector<LegendEntry>& entries) {
  // Laid out right to left so the legend ends at the chart's right edge.
  std::string out;
  double x = right;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    const double text_w = 6.2 * static_cast<double>(it->label.size());
    x -= text_w;
    out += text(x, y + 4, it->label, "class=\"legend\"");
    x -= 22;
    out += cat("<line x1=\"", n(x), "\" y1=\"", n(y), "\" x2=\"", n(x + 18), "\" y2=\"", n(y), "\" stroke=\"", it->color,
               "\" stroke-width=\"2.5\"", it->dashed ? " stroke-dasharray=\"4 3\"" : "", "/>\n");
    x -= 12;
  }
  return out;
}

}  // namespace

std::string line_chart(const LineChart& c) {
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const Line& l : c.lines)
    for (const Point& p : l.points) {
      if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
      xmin = std::min(xmin, p.x);
      xmax = std::max(xmax, p.x);
      ymin = std::min(ymin, p.y);
      ymax = std::max(ymax, p.y);
    }
  const bool empty = !std::isfinite(xmin);
  if (empty) { xmin = 0; xmax = 1; ymin = 0; ymax = 1; }
  if (xmax == xmin) xmax = xmin + 1;
  if (c.y_min) ymin = *c.y_min;
  if (c.y_max) ymax = *c.y_max;
  if (ymax <= ymin) { ymin -= 0.5; ymax += 0.5; }
  std::vector<double> yt = nice_ticks(ymin, ymax, 4);
  if (!c.y_min && yt.size() >= 2 && yt.front() > ymin) yt.insert(yt.begin(), yt.front() - (yt[1] - yt[0]));
  if (!c.y_max && yt.size() >= 2 && yt.back() < ymax) yt.push_back(yt.back() + (yt[1] - yt[0]));
  if (!c.y_min && !yt.empty()) ymin = yt.front();
  if (!c.y_max && !yt.empty()) ymax = yt.back();

  const Frame f{50, 34, c.width - 62, c.height - 34 - 40, xmin, xmax, ymin, ymax};
  std::string s = open(c.width, c.height, c.title);
  s += text(4, 14, c.title, "class=\"chart-title\"");
  s += legend_row(c.width - 6, 25, c.legend);
  s += cat("<rect x=\"", n(f.left), "\" y=\"", n(f.top), "\" width=\"", n(f.width), "\" height=\"", n(f.height), "\" class=\"plot-bg\"/>\n");
  const double ystep = yt.size() >= 2 ? yt[1] - yt[0] : 1;
  for (double v : yt) {
    if (v < ymin - 1e-9 || v > ymax + 1e-9) continue;
    s += cat("<line x1=\"", n(f.left), "\" y1=\"", n(f.py(v)), "\" x2=\"", n(f.left + f.width), "\" y2=\"", n(f.py(v)), "\" class=\"grid\"/>\n");
    s += text(f.left - 5, f.py(v) + 4, c.y_percent ? tick_label(100 * v, 100 * ystep) : tick_label(v, ystep), "text-anchor=\"end\" class=\"tick\"");
  }
  std::vector<double> xt = nice_ticks(xmin, xmax, 6);
  if (c.x_integer && xt.size() >= 2 && xt[1] - xt[0] < 1) {
    xt.clear();
    for (double v = std::ceil(xmin); v <= xmax; v += 1) xt.push_back(v);
  }
  const double xstep = xt.size() >= 2 ? xt[1] - xt[0] : 1;
  for (double v : xt) {
    s += cat("<line x1=\"", n(f.px(v)), "\" y1=\"", n(f.top + f.height), "\" x2=\"", n(f.px(v)), "\" y2=\"", n(f.top + f.height + 4), "\" class=\"axis\"/>\n");
    s += text(f.px(v), f.top + f.height + 16, tick_label(v, xstep), "text-anchor=\"middle\" class=\"tick\"");
  }
  s += cat("<rect x=\"", n(f.left), "\" y=\"", n(f.top), "\" width=\"", n(f.width), "\" height=\"", n(f.height), "\" class=\"plot-frame\"/>\n");
  s += text(f.left + f.width / 2, c.height - 6, c.x_label, "text-anchor=\"middle\" class=\"axis-label\"");
  s += axis_label_y(12, f.top + f.height / 2, c.y_label);
  if (empty) s += text(f.left + f.width / 2, f.top + f.height / 2, "no data", "text-anchor=\"middle\" class=\"tick\"");

  for (const Line& l : c.lines) {
    // Runs of consecutive finite points become one polyline each.
    std::string pts;
    auto flush = [&] {
      if (!pts.empty())
        s += cat("<polyline points=\"", pts, "\" fill=\"none\" stroke=\"", l.color, "\" stroke-width=\"", fixed(l.width, 2),
                 "\" stroke-opacity=\"", fixed(l.opacity, 2), "\" stroke-linejoin=\"round\"", l.dashed ? " stroke-dasharray=\"5 3\"" : "", "/>\n");
      pts.clear();
    };
    for (const Point& p : l.points) {
      const bool inside = std::isfinite(p.x) && std::isfinite(p.y);
      if (!inside) { flush(); continue; }
      const double y = std::clamp(p.y, ymin, ymax);
      pts.append(pts.empty() ? "" : " ").append(n(f.px(p.x))).append(",").append(n(f.py(y)));
    }
    flush();
  }
  return s + close();
}

std::string grouped_bar_chart(const GroupedBarChart& c) {
  // Legend under the title: swatch + name per series, wrapped into rows by the names' estimated widths.
  std::vector<Point> legend_at;
  double lx = 56, rows = 1;
  for (const BarSeries& se : c.series) {
    const double w = 19 + 6.4 * static_cast<double>(se.label.size()) + 28;
    if (lx + w > c.width && lx > 56) { lx = 56; rows += 1; }
    legend_at.push_back({lx, 30 + 20 * (rows - 1)});
    lx += w;
  }
  const double legend_h = 20 * rows;
  const Frame f{56, 28 + legend_h, c.width - 70, c.height - 28 - legend_h - 44, 0, 1, 0, 1};
  std::string s = open(c.width, c.height, c.title);
  s += text(4, 16, c.title, "class=\"chart-title\"");
  for (std::size_t i = 0; i < c.series.size(); ++i) {
    const Point p = legend_at[i];
    s += cat("<rect x=\"", n(p.x), "\" y=\"", n(p.y - 9), "\" width=\"14\" height=\"11\" fill=\"", c.series[i].color, "\"/>\n");
    s += text(p.x + 19, p.y + 1, c.series[i].label, "class=\"legend\"");
  }
  s += cat("<rect x=\"", n(f.left), "\" y=\"", n(f.top), "\" width=\"", n(f.width), "\" height=\"", n(f.height), "\" class=\"plot-bg\"/>\n");
  for (int t = 0; t <= 10; t += 2) {
    const double v = t / 10.0;
    s += cat("<line x1=\"", n(f.left), "\" y1=\"", n(f.py(v)), "\" x2=\"", n(f.left + f.width), "\" y2=\"", n(f.py(v)), "\" class=\"grid\"/>\n");
    s += text(f.left - 5, f.py(v) + 4, std::to_string(t * 10), "text-anchor=\"end\" class=\"tick\"");
  }
  s += axis_label_y(14, f.top + f.height / 2, c.y_label);

  const double groups = static_cast<double>(std::max<std::size_t>(1, c.groups.size()));
  const double group_w = f.width / groups;
  const double bar_w = group_w * 0.8 / static_cast<double>(std::max<std::size_t>(1, c.series.size()));
  for (std::size_t g = 0; g < c.groups.size(); ++g) {
    const double gx = f.left + static_cast<double>(g) * group_w;
    for (std::size_t k = 0; k < c.series.size(); ++k) {
      const BarSeries& se = c.series[k];
      if (g >= se.value.size() || !se.value[g] || !std::isfinite(*se.value[g])) continue;  // class never tested
      const double v = std::clamp(*se.value[g], 0.0, 1.0);
      const double x = gx + group_w * 0.1 + static_cast<double>(k) * bar_w;
      s += cat("<rect x=\"", n(x), "\" y=\"", n(f.py(v)), "\" width=\"", n(bar_w * 0.92), "\" height=\"", n(f.py(0) - f.py(v)),
               "\" fill=\"", se.color, "\"><title>", html_escape(cat(se.label, " \u00b7 ", c.groups[g], ": ", percent(v), " %")),
               "</title></rect>\n");
      if (g < se.error.size() && se.error[g] && std::isfinite(*se.error[g]) && *se.error[g] > 0) {
        const double cx = x + bar_w * 0.46, lo = std::clamp(v - *se.error[g], 0.0, 1.0), hi = std::clamp(v + *se.error[g], 0.0, 1.0);
        s += cat("<path d=\"M", n(cx), " ", n(f.py(lo)), "V", n(f.py(hi)), "M", n(cx - 3), " ", n(f.py(hi)), "h6M", n(cx - 3), " ",
                 n(f.py(lo)), "h6\" class=\"error-bar\"/>\n");
      }
    }
    // Group names cut to the group's width; the full name is in the tooltip.
    const auto max_chars = static_cast<std::size_t>(std::max(3.0, group_w / 7.0));
    s += cat("<text x=\"", n(gx + group_w / 2), "\" y=\"", n(f.top + f.height + 18), "\" text-anchor=\"middle\" class=\"group-label\"><title>",
             html_escape(c.groups[g]), "</title>", html_escape(shorten(c.groups[g], max_chars)), "</text>\n");
  }
  s += cat("<rect x=\"", n(f.left), "\" y=\"", n(f.top), "\" width=\"", n(f.width), "\" height=\"", n(f.height), "\" class=\"plot-frame\"/>\n");
  return s + close();
}

}  // namespace ser::report::svg
