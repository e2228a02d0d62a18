// src/report/colormap.cpp — piecewise-linear colour scales through a few anchor colours.
#include "report/colormap.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace ser::report {

namespace {

template <std::size_t N>
Rgb interpolate(const std::array<Rgb, N>& anchors, double t) {
  if (!std::isfinite(t)) t = 0;
  t = std::clamp(t, 0.0, 1.0) * static_cast<double>(N - 1);
  const std::size_t i = std::min(static_cast<std::size_t>(t), N - 2);
  const double f = t - static_cast<double>(i);
  auto mix = [f](std::uint8_t a, std::uint8_t b) { return static_cast<std::uint8_t>(std::lround(a + f * (b - a))); };
  return {mix(anchors[i].r, anchors[i + 1].r), mix(anchors[i].g, anchors[i + 1].g), mix(anchors[i].b, anchors[i + 1].b)};
}

// Anchors of the ColorBrewer "Blues" sequential scale.
constexpr std::array<Rgb, 9> kBlues{{{247, 251, 255}, {222, 235, 247}, {198, 219, 239}, {158, 202, 225}, {107, 174, 214},
                                    {66, 146, 198}, {33, 113, 181}, {8, 81, 156}, {8, 48, 107}}};
// Anchors of the "magma" perceptual scale, sampled at nine even steps.
constexpr std::array<Rgb, 9> kMagma{{{0, 0, 4}, {28, 16, 68}, {79, 18, 123}, {129, 37, 129}, {181, 54, 122},
                                    {229, 80, 100}, {251, 135, 97}, {254, 194, 135}, {252, 253, 191}}};
// Categorical colours, distinguishable side by side and in print.
constexpr std::array<const char*, 10> kSeries{"#1f77b4", "#e4572e", "#2ca02c", "#9467bd", "#f0a202",
                                              "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};

}  // namespace

Rgb blues(double t) { return interpolate(kBlues, t); }
Rgb magma(double t) { return interpolate(kMagma, t); }

double luminance(Rgb c) { return (0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b) / 255.0; }

std::string css(Rgb c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

std::string series_color(std::size_t i) { return kSeries[i % kSeries.size()]; }

}  // namespace ser::report
