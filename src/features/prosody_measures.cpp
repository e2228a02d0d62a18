// The CPU twin of the prosody kernel (kernels/prosody.cu): per frame, YIN pitch period and its CMND,
// normalised autocorrelation at that period, RMS, zero-crossing rate and peak amplitude.
// docs/prosody.md describes every convention; the kernel follows the same steps:
//  1. frame samples x_j = s[c - L/2 + j], j < L = W + tau_max (zero outside the signal);
//  2. d(tau) = sum_{j<W} (x_j - x_{j+tau})^2, float, j ascending (bit-identical to the kernel:
//     vectors run across lags, so no sum is reassociated);
//  3. CMND d'(tau) = d(tau) tau / sum_{k=1..tau} d(k) in double (1 where the sum is 0);
//  4. first tau >= tau_min with d' < yin_threshold, walked down to its local minimum, else the global
//     minimum over [tau_min, tau_max] (first one on ties); parabolic refinement on d'.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ser/error.hpp"
#include "ser/prosody.hpp"

namespace ser {

namespace {

// Frame geometry shared by every frame of an utterance.
struct YinGeometry {
  int W = 0;         // integration window
  int tau_min = 0;
  int tau_max = 0;
  int L = 0;         // W + tau_max samples read per frame
  int win = 0;       // rms / zcr window (win_length)
};

YinGeometry make_geometry(const LogMelConfig& lm, const ProsodyConfig& pc) {
  YinGeometry g;
  g.W = pc.yin_window;
  g.tau_min = pc.tau_min(lm.sample_rate);
  g.tau_max = pc.tau_max(lm.sample_rate);
  g.L = g.W + g.tau_max;
  g.win = lm.win_length;
  if (g.W < 1 || g.tau_min < 1 || g.tau_max < g.tau_min + 1)
    throw Error("prosody: invalid YIN geometry (yin_window " + std::to_string(g.W) + ", tau " +
                std::to_string(g.tau_min) + ".." + std::to_string(g.tau_max) + ")");
  return g;
}

// dst[j] = s[first + j] for j < count, zero outside [0, n).
void copy_span(const float* s, std::int64_t n, std::int64_t first, int count, float* dst) {
  if (first >= 0 && first + count <= n) {  // every frame but those at the edges
    std::copy_n(s + first, count, dst);
    return;
  }
  for (int j = 0; j < count; ++j) {
    const std::int64_t i = first + j;
    dst[j] = (i >= 0 && i < n) ? s[i] : 0.0f;
  }
}

// Lags per register tile of the difference function, and the zero padding x and xr carry past L
// so that a tile's last lanes (computed, then dropped) read inside the buffers.
constexpr int kLagTile = 16;
constexpr int kFramePad = kLagTile;

// 16 floats: one AVX-512 register, two AVX2 ones, four SSE ones (GCC lowers the generic vector to
// what the target has).
typedef float LagVector __attribute__((vector_size(kLagTile * sizeof(float))));

// d: (tau_max + 1,) float; x: (L + kFramePad,) frame samples, zero past L; xr: (L + kFramePad,)
// scratch.
// d(tau) = sum_{j<W} (x[j0 + j] - x[j0 + j + tau])^2 with j0 = (tau_max - tau) / 2, so every lag's
// pair of windows is centred on the frame. Summed in float over j ascending, as the kernel does.
// Vectorised over lags: with q = tau_max - tau = 2r (+1), x[j0 + j] = x[r + j] runs forward in r and
// x[j0 + j + tau] = xr[W - 1 - j + r] (+1) runs forward in the reversed copy xr[k] = x[L - 1 - k].
// A tile of kLagTile values of r (both parities) stays in registers for the whole j loop, so each
// step loads three vectors and touches no accumulator memory. Every lane keeps its own j-ascending
// sum, so the bits do not depend on the tiling or the vector width: compiled for AVX-512, AVX2 and
// baseline x86-64, picked at load time, all give the same d (no FMA: none of these targets has it,
// and ser_core builds with -ffp-contract=off).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void difference_function(const float* __restrict x, const YinGeometry& g, float* __restrict xr,
                         float* __restrict d) {
  const int tmax = g.tau_max, L = g.L, W = g.W;
  for (int k = 0; k < L; ++k) xr[k] = x[L - 1 - k];
  const int n_even = (tmax - 1) / 2 + 1;  // r = 0 .. (tmax - 1) / 2: tau = tmax - 2r >= 1
  const int n_odd = (tmax - 2) / 2 + 1;   // r = 0 .. (tmax - 2) / 2: tau = tmax - 2r - 1 >= 1
  d[0] = 0.0f;
  for (int r0 = 0; r0 < n_even; r0 += kLagTile) {
    // Reads reach x[W - 1 + r0 + kLagTile - 1] and xr[W + r0 + kLagTile - 1]: inside L + kFramePad
    // because r0 < n_even <= tau_max / 2 + 1.
    LagVector even = {}, odd = {};
    for (int j = 0; j < W; ++j) {
      LagVector a, be, bo;  // unaligned loads (a function returning a vector would change the ABI)
      std::memcpy(&a, x + j + r0, sizeof a);
      std::memcpy(&be, xr + (W - 1 - j) + r0, sizeof be);
      std::memcpy(&bo, xr + (W - j) + r0, sizeof bo);
      const LagVector de = a - be, dd = a - bo;
      even += de * de;
      odd += dd * dd;
    }
    for (int q = 0; q < kLagTile && r0 + q < n_even; ++q) d[tmax - 2 * (r0 + q)] = even[q];
    for (int q = 0; q < kLagTile && r0 + q < n_odd; ++q) d[tmax - 2 * (r0 + q) - 1] = odd[q];
  }
}

// The double sums below keep four interleaved partial sums, added pairwise at the end: a fixed
// order, and four dependency chains instead of one (one running sum waits on every add).
constexpr int kSumLanes = 4;

// Sum over `count` samples starting at `first` of x^2 (double), for rms.
double sum_squares(const float* s, std::int64_t n, std::int64_t first, int count) {
  const std::int64_t lo = std::max<std::int64_t>(first, 0), hi = std::min<std::int64_t>(first + count, n);
  double acc[kSumLanes] = {};
  std::int64_t i = lo;
  for (; i + kSumLanes <= hi; i += kSumLanes)
    for (int k = 0; k < kSumLanes; ++k) acc[k] += static_cast<double>(s[i + k]) * s[i + k];
  for (int k = 0; i < hi; ++i, ++k) acc[k] += static_cast<double>(s[i]) * s[i];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

// r = Σ a_j b_j, e0 = Σ a_j^2, e1 = Σ b_j^2 over j < count, in double.
void correlation_sums(const float* a, const float* b, int count, double& r, double& e0, double& e1) {
  double ab[kSumLanes] = {}, aa[kSumLanes] = {}, bb[kSumLanes] = {};
  int j = 0;
  for (; j + kSumLanes <= count; j += kSumLanes)
    for (int k = 0; k < kSumLanes; ++k) {
      const double x = a[j + k], y = b[j + k];
      ab[k] += x * y;
      aa[k] += x * x;
      bb[k] += y * y;
    }
  for (int k = 0; j < count; ++j, ++k) {
    const double x = a[j], y = b[j];
    ab[k] += x * y;
    aa[k] += x * x;
    bb[k] += y * y;
  }
  r = (ab[0] + ab[1]) + (ab[2] + ab[3]);
  e0 = (aa[0] + aa[1]) + (aa[2] + aa[3]);
  e1 = (bb[0] + bb[1]) + (bb[2] + bb[3]);
}

// Sign changes between consecutive samples (x < 0 vs x >= 0; zero outside the signal).
int zero_crossings(const float* s, std::int64_t n, std::int64_t first, int count) {
  int crossings = 0;
  auto at = [&](std::int64_t i) { return (i >= 0 && i < n) ? s[i] : 0.0f; };
  bool prev_neg = at(first) < 0.0f;
  for (int j = 1; j < count; ++j) {
    const bool neg = at(first + j) < 0.0f;
    crossings += neg != prev_neg ? 1 : 0;
    prev_neg = neg;
  }
  return crossings;
}

float peak_abs(const float* s, std::int64_t n, std::int64_t first, int count) {
  float peak = 0.0f;
  const std::int64_t lo = std::max<std::int64_t>(first, 0), hi = std::min<std::int64_t>(first + count, n);
  for (std::int64_t i = lo; i < hi; ++i) peak = std::max(peak, std::fabs(s[i]));
  return peak;
}

}  // namespace

std::int64_t prosody_frame_centre(std::int64_t t, const LogMelConfig& lm) {
  return t * lm.hop_length + (lm.center ? 0 : lm.n_fft / 2);
}

std::vector<float> yin_difference_cpu(const float* samples, std::int64_t n, std::int64_t t,
                                      const LogMelConfig& lm, const ProsodyConfig& pc) {
  const YinGeometry g = make_geometry(lm, pc);
  std::vector<float> x(static_cast<std::size_t>(g.L + kFramePad)), xr(x.size());  // (L + pad,) each
  copy_span(samples, n, prosody_frame_centre(t, lm) - g.L / 2, g.L, x.data());
  std::vector<float> d(static_cast<std::size_t>(g.tau_max) + 1);  // (tau_max + 1,)
  difference_function(x.data(), g, xr.data(), d.data());
  return d;
}

void prosody_measures_cpu(const float* samples, std::int64_t n, std::int64_t n_frames,
                          const LogMelConfig& lm, const ProsodyConfig& pc, float* out) {
  if (n_frames <= 0) return;
  if (n < 0 || (n > 0 && !samples) || !out) throw Error("prosody_measures_cpu: null samples or output");
  const YinGeometry g = make_geometry(lm, pc);
  const double threshold = pc.yin_threshold, voicing = pc.voicing_threshold;

  // (L + kFramePad,) frame samples and their reversal, zero past L.
  std::vector<float> x(static_cast<std::size_t>(g.L + kFramePad)), xr(x.size());
  std::vector<float> d(static_cast<std::size_t>(g.tau_max) + 1);  // (tau_max + 1,) difference
  std::vector<double> cmnd(static_cast<std::size_t>(g.tau_max) + 1);  // (tau_max + 1,) d'(tau)

  for (std::int64_t t = 0; t < n_frames; ++t) {
    const std::int64_t c = prosody_frame_centre(t, lm);
    const std::int64_t x0 = c - g.L / 2;  // sample index of x_0
    copy_span(samples, n, x0, g.L, x.data());
    difference_function(x.data(), g, xr.data(), d.data());

    // CMND, cumulative sum in double.
    double cum = 0.0;
    cmnd[0] = 1.0;
    for (int tau = 1; tau <= g.tau_max; ++tau) {
      cum += static_cast<double>(d[tau]);
      cmnd[tau] = cum > 0.0 ? static_cast<double>(d[tau]) * tau / cum : 1.0;
    }

    float* row = out + t * kFrameMeasures;  // (kFrameMeasures,)
    int best = -1;
    if (cum > 0.0) {
      for (int tau = g.tau_min; tau <= g.tau_max; ++tau) {
        if (cmnd[tau] < threshold) {
          best = tau;
          while (best + 1 <= g.tau_max && cmnd[best + 1] < cmnd[best]) ++best;
          break;
        }
      }
      if (best < 0) {
        best = g.tau_min;
        for (int tau = g.tau_min + 1; tau <= g.tau_max; ++tau)
          if (cmnd[tau] < cmnd[best]) best = tau;
      }
    }

    if (best < 0) {  // silent or constant frame: no lag qualified
      row[kMeasurePeriod] = 0.0f;
      row[kMeasureCmnd] = 1.0f;
      row[kMeasurePeriodicity] = 0.0f;
    } else {
      double delta = 0.0;
      if (best < g.tau_max) {
        const double a = cmnd[best - 1], b = cmnd[best], cc = cmnd[best + 1];
        const double den = a - 2.0 * b + cc;
        if (den > 0.0) delta = std::clamp(0.5 * (a - cc) / den, -1.0, 1.0);
      }
      row[kMeasurePeriod] = static_cast<float>(best + delta);
      row[kMeasureCmnd] = static_cast<float>(cmnd[best]);
      double r = 0.0, e0 = 0.0, e1 = 0.0;
      const int j0 = (g.tau_max - best) / 2;  // the lag's centred windows, as in d(tau)
      correlation_sums(x.data() + j0, x.data() + j0 + best, g.W, r, e0, e1);
      const double den = std::sqrt(e0 * e1);
      row[kMeasurePeriodicity] = den > 0.0 ? static_cast<float>(std::clamp(r / den, -1.0, 1.0)) : 0.0f;
    }

    const std::int64_t w0 = c - g.win / 2;
    row[kMeasureRms] = static_cast<float>(std::sqrt(sum_squares(samples, n, w0, g.win) / g.win));
    row[kMeasureZcr] = g.win > 1 ? static_cast<float>(zero_crossings(samples, n, w0, g.win)) / (g.win - 1) : 0.0f;
    const bool periodic = best > 0 && cmnd[best] < voicing;
    const int span = periodic ? best : g.W;
    row[kMeasurePeak] = peak_abs(samples, n, c - span / 2, span);
  }
}

}  // namespace ser
