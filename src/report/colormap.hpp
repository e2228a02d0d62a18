// src/report/colormap.hpp — colour scales of the report: a sequential blue for confusion
// matrices, a dark-to-bright scale for spectrograms, and the categorical colours of the models.
#pragma once
#include <cstdint>
#include <string>

namespace ser::report {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

// t in [0, 1] (clamped; NaN reads as 0). White-ish at 0, dark blue at 1.
Rgb blues(double t);
// t in [0, 1] (clamped; NaN reads as 0). Near-black at 0 through purple and orange to pale yellow.
Rgb magma(double t);
// Relative luminance in [0, 1]: text on a cell is drawn white above about 0.45 darkness.
double luminance(Rgb c);
// "#rrggbb".
std::string css(Rgb c);
// Colour of the i-th model in every chart (cycles after ten).
std::string series_color(std::size_t i);

}  // namespace ser::report
