// src/report/svg_charts.hpp — the figures of report.html, each an inline <svg> string: line
// charts (learning curves), grouped bars (per-class recall), confusion heat maps, and a log-mel
// spectrogram with the attention weights over it. All text is HTML-escaped here.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace ser::report::svg {

struct Point {
  double x = 0, y = 0;
};

struct Line {
  std::vector<Point> points;  // drawn in order; non-finite points split the line
  std::string color = "#000000";
  double width = 1.5, opacity = 1.0;
  bool dashed = false;
};

struct LegendEntry {
  std::string label, color;
  bool dashed = false;
};

struct LineChart {
  std::string title, x_label, y_label;
  double width = 340, height = 230;
  bool y_percent = false;  // y values are fractions, labelled as percentages
  bool x_integer = false;  // x values are counts (epochs): ticks only at whole numbers
  std::optional<double> y_min, y_max;  // fixed y range; otherwise from the data
  std::vector<Line> lines;
  std::vector<LegendEntry> legend;
};
std::string line_chart(const LineChart& chart);

struct BarSeries {
  std::string label, color;
  std::vector<std::optional<double>> value, error;  // one per group; fractions in [0, 1]
};
struct GroupedBarChart {
  std::string title, y_label;
  std::vector<std::string> groups;
  std::vector<BarSeries> series;
  double width = 1100, height = 340;
};
// y axis 0-100 %, a bar per series in each group, error bars of +-error.
std::string grouped_bar_chart(const GroupedBarChart& chart);

struct ConfusionHeatMap {
  std::string title;
  std::vector<std::string> classes;            // k names
  std::vector<std::vector<double>> counts;     // (k, k), rows = truth, cols = predicted
};
// Cells coloured by the row-normalised fraction, each labelled with its count and row percentage;
// class names on both axes; a colour scale legend. Every cell is a <rect class="cm-cell">.
std::string confusion_heat_map(const ConfusionHeatMap& map);

struct AttentionFigure {
  std::string label;                           // aria label
  int frames = 0, mels = 0;
  std::vector<float> logmel;                   // (frames, mels), row-major
  double hop_seconds = 0.01;
  std::vector<double> attention;               // attention-pooling weight per frame (any length: spread over time)
  std::vector<double> self_attention;          // optional: attention each frame receives
};
// The log-mel spectrogram (time left to right, low mel at the bottom) as an inline PNG with a colour
// bar, the attention weights as a curve over it and as a strip under it, a time axis in seconds.
std::string attention_figure(const AttentionFigure& figure);

}  // namespace ser::report::svg
