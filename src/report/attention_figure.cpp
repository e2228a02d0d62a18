// src/report/attention_figure.cpp — a log-mel spectrogram with the model's attention over time.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "report/colormap.hpp"
#include "report/format.hpp"
#include "report/png_image.hpp"
#include "report/svg_basics.hpp"
#include "report/svg_charts.hpp"
#include "ser/error.hpp"

namespace ser::report::svg {

namespace {

// Value at quantile q of the finite values (for a colour range that a few outliers do not wash out).
double quantile(std::vector<float> v, double q) {
  v.erase(std::remove_if(v.begin(), v.end(), [](float x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return 0;
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

double finite_max(const std::vector<double>& v) {
  double m = 0;
  for (double x : v)
    if (std::isfinite(x)) m = std::max(m, x);
  return m;
}

// Weights as a polyline over the plot: weight i sits at the centre of its share of the time axis,
// height relative to the largest weight.
std::string weight_curve(const std::vector<double>& w, double left, double top, double width, double height, const std::string& style) {
  const double peak = finite_max(w);
  if (w.empty() || !(peak > 0)) return "";
  std::string pts;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w[i])) continue;
    const double x = left + width * (static_cast<double>(i) + 0.5) / static_cast<double>(w.size());
    const double y = top + height - 0.92 * height * std::max(0.0, w[i]) / peak;
    pts.append(pts.empty() ? "" : " ").append(n(x)).append(",").append(n(y));
  }
  return cat("<polyline points=\"", pts, "\" fill=\"none\" ", style, "/>\n");
}

// Where the parts of the figure go, in SVG user units.
struct Layout {
  double plot_w, plot_h;               // the spectrogram
  double left = 58, top = 12;          // its top-left corner
  double strip_h = 16, strip_top = 0;  // the attention strip under it
  double width = 0, height = 0;        // the whole figure
};

Layout layout_of(const AttentionFigure& a) {
  Layout L{std::clamp(4.0 * a.frames, 640.0, 1040.0), std::clamp(3.0 * a.mels, 160.0, 260.0)};
  const double strip_gap = 6;
  L.width = L.left + L.plot_w + 84;
  L.strip_top = L.top + L.plot_h + strip_gap;
  L.height = L.strip_top + L.strip_h + 62;
  return L;
}

// The log-mel as an embedded PNG, coloured from lo to hi.
std::string spectrogram_image(const AttentionFigure& a, const Layout& L, double lo, double hi) {
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(a.frames) * static_cast<std::size_t>(a.mels) * 3);  // (mels, frames, 3), top row = highest mel
  for (int m = 0; m < a.mels; ++m)
    for (int t = 0; t < a.frames; ++t) {
      const float v = a.logmel[static_cast<std::size_t>(t) * static_cast<std::size_t>(a.mels) + static_cast<std::size_t>(m)];
      const Rgb c = magma(std::isfinite(v) ? (v - lo) / (hi - lo) : 0.0);
      const std::size_t px = (static_cast<std::size_t>(a.mels - 1 - m) * static_cast<std::size_t>(a.frames) + static_cast<std::size_t>(t)) * 3;
      rgb[px] = c.r;
      rgb[px + 1] = c.g;
      rgb[px + 2] = c.b;
    }
  const std::string png = base64_encode(encode_png_rgb(a.frames, a.mels, rgb));
  return cat("<image x=\"", n(L.left), "\" y=\"", n(L.top), "\" width=\"", n(L.plot_w), "\" height=\"", n(L.plot_h),
             "\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,", png, "\"/>\n");
}

// Self-attention first (under), then the attention-pooling weights, each with a dark halo; the frame.
std::string weight_curves(const AttentionFigure& a, const Layout& L) {
  std::string s;
  if (!a.self_attention.empty()) {
    s += weight_curve(a.self_attention, L.left, L.top, L.plot_w, L.plot_h, "stroke=\"#000000\" stroke-opacity=\"0.55\" stroke-width=\"4\"");
    s += weight_curve(a.self_attention, L.left, L.top, L.plot_w, L.plot_h, "stroke=\"#ffffff\" stroke-width=\"1.6\" stroke-dasharray=\"5 3\"");
  }
  s += weight_curve(a.attention, L.left, L.top, L.plot_w, L.plot_h, "stroke=\"#000000\" stroke-opacity=\"0.6\" stroke-width=\"4.5\"");
  s += weight_curve(a.attention, L.left, L.top, L.plot_w, L.plot_h, "stroke=\"#2ee6ff\" stroke-width=\"2\"");
  s += cat("<rect x=\"", n(L.left), "\" y=\"", n(L.top), "\" width=\"", n(L.plot_w), "\" height=\"", n(L.plot_h), "\" class=\"plot-frame\"/>\n");
  return s;
}

// Mel axis: band index, 0 at the bottom.
std::string mel_axis(const AttentionFigure& a, const Layout& L) {
  std::string s;
  for (double v : nice_ticks(0, a.mels - 1, 4)) {
    const double y = L.top + L.plot_h - L.plot_h * (v + 0.5) / a.mels;
    s += cat("<line x1=\"", n(L.left - 4), "\" y1=\"", n(y), "\" x2=\"", n(L.left), "\" y2=\"", n(y), "\" class=\"axis\"/>\n");
    s += text(L.left - 7, y + 4, fixed(v, 0), "text-anchor=\"end\" class=\"tick\"");
  }
  return s + cat("<text transform=\"translate(16,", n(L.top + L.plot_h / 2), ") rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">mel band</text>\n");
}

// Attention strip under the spectrogram: one cell per weight, opacity relative to the peak.
std::string attention_strip(const AttentionFigure& a, const Layout& L, double peak) {
  std::string s;
  if (!a.attention.empty() && peak > 0) {
    const double cw = L.plot_w / static_cast<double>(a.attention.size());
    for (std::size_t i = 0; i < a.attention.size(); ++i) {
      const double w = std::isfinite(a.attention[i]) ? std::max(0.0, a.attention[i]) / peak : 0;
      if (w < 0.01) continue;
      s += cat("<rect x=\"", n(L.left + cw * static_cast<double>(i)), "\" y=\"", n(L.strip_top), "\" width=\"", n(cw + 0.4), "\" height=\"",
               n(L.strip_h), "\" fill=\"#0086a8\" fill-opacity=\"", fixed(w, 2), "\"/>\n");
    }
  }
  s += cat("<rect x=\"", n(L.left), "\" y=\"", n(L.strip_top), "\" width=\"", n(L.plot_w), "\" height=\"", n(L.strip_h), "\" class=\"plot-frame\"/>\n");
  return s + text(L.left - 7, L.strip_top + 12, "attn", "text-anchor=\"end\" class=\"tick\"");
}

// Time axis in seconds, under the strip.
std::string time_axis(const AttentionFigure& a, const Layout& L) {
  const double hop = a.hop_seconds > 0 && std::isfinite(a.hop_seconds) ? a.hop_seconds : 0.01;
  const double duration = hop * a.frames;
  const std::vector<double> xt = nice_ticks(0, duration, 8);
  const double step = xt.size() >= 2 ? xt[1] - xt[0] : duration;
  const double axis_y = L.strip_top + L.strip_h;
  std::string s;
  for (double v : xt) {
    const double x = L.left + L.plot_w * v / duration;
    s += cat("<line x1=\"", n(x), "\" y1=\"", n(axis_y), "\" x2=\"", n(x), "\" y2=\"", n(axis_y + 4), "\" class=\"axis\"/>\n");
    s += text(x, axis_y + 16, tick_label(v, step), "text-anchor=\"middle\" class=\"tick\"");
  }
  return s + text(L.left + L.plot_w / 2, axis_y + 32, "time (s)", "text-anchor=\"middle\" class=\"axis-label\"");
}

// Legend of the curves, bottom left.
std::string legend(const AttentionFigure& a, const Layout& L, double peak) {
  const double ly = L.height - 8;
  auto swatch = [&](double x, const std::string& style) {
    return cat("<line x1=\"", n(x), "\" y1=\"", n(ly - 4), "\" x2=\"", n(x + 24), "\" y2=\"", n(ly - 4), "\" ", style, "/>\n");
  };
  std::string s = swatch(L.left, "stroke=\"#000000\" stroke-opacity=\"0.6\" stroke-width=\"4.5\"") +
                  swatch(L.left, "stroke=\"#2ee6ff\" stroke-width=\"2\"");
  s += text(L.left + 30, ly, cat("attention-pooling weight (curve scaled to its peak, ", fixed(100 * peak, 2), " % of the total)"), "class=\"legend\"");
  if (!a.self_attention.empty()) {
    s += swatch(L.left + 440, "stroke=\"#000000\" stroke-opacity=\"0.55\" stroke-width=\"4\"") +
         swatch(L.left + 440, "stroke=\"#ffffff\" stroke-width=\"1.6\" stroke-dasharray=\"5 3\"");
    s += text(L.left + 470, ly, "self-attention received (scaled to its peak)", "class=\"legend\"");
  }
  return s;
}

// Colour bar of the log-mel values from lo to hi, right of the spectrogram.
std::string colour_bar(const Layout& L, double lo, double hi) {
  const double bx = L.left + L.plot_w + 14, bw = 12;
  const int steps = 32;
  std::string s;
  for (int t = 0; t < steps; ++t) {
    const double y = L.top + L.plot_h - L.plot_h * (t + 1) / steps;
    s += cat("<rect x=\"", n(bx), "\" y=\"", n(y), "\" width=\"", n(bw), "\" height=\"", n(L.plot_h / steps + 0.5), "\" fill=\"",
             css(magma((t + 0.5) / steps)), "\"/>\n");
  }
  s += cat("<rect x=\"", n(bx), "\" y=\"", n(L.top), "\" width=\"", n(bw), "\" height=\"", n(L.plot_h), "\" class=\"plot-frame\"/>\n");
  const std::vector<double> ct = nice_ticks(lo, hi, 4);
  const double cstep = ct.size() >= 2 ? ct[1] - ct[0] : 1;
  for (double v : ct) {
    const double y = L.top + L.plot_h - L.plot_h * (v - lo) / (hi - lo);
    s += cat("<line x1=\"", n(bx + bw), "\" y1=\"", n(y), "\" x2=\"", n(bx + bw + 3), "\" y2=\"", n(y), "\" class=\"axis\"/>\n");
    s += text(bx + bw + 5, y + 4, tick_label(v, cstep), "class=\"tick\"");
  }
  return s + cat("<text transform=\"translate(", n(bx + bw + 46), ",", n(L.top + L.plot_h / 2), ") rotate(-90)\" text-anchor=\"middle\" class=\"tick\">log-mel value</text>\n");
}

}  // namespace

std::string attention_figure(const AttentionFigure& a) {
  if (a.frames <= 0 || a.mels <= 0 || a.logmel.size() != static_cast<std::size_t>(a.frames) * static_cast<std::size_t>(a.mels))
    throw Error("attention example: log-mel is not frames x mels");
  const Layout L = layout_of(a);
  // Colour range from the 2nd to the 99.5th percentile of the log-mel values.
  const double lo = quantile(a.logmel, 0.02), hi_raw = quantile(a.logmel, 0.995);
  const double hi = hi_raw > lo ? hi_raw : lo + 1;
  const double peak = finite_max(a.attention);
  return open(L.width, L.height, a.label, "chart attention") + spectrogram_image(a, L, lo, hi) + weight_curves(a, L) +
         mel_axis(a, L) + attention_strip(a, L, peak) + time_axis(a, L) + legend(a, L, peak) + colour_bar(L, lo, hi) +
         close();
}

}  // namespace ser::report::svg
