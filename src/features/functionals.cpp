// Utterance functionals of the prosody columns (the cache's functional_names):
// for every column except `voiced`: mean, std (population), p10, p50, p90 (linear interpolation
// between order statistics, numpy's default), range (p90 - p10) and slope (least squares against
// time in seconds, frame t at t * hop / sample_rate); the pitch and voice-quality columns use
// voiced frames only, the others every frame. Then voiced_fraction and duration_s. An empty set
// gives 0 for every statistic, never NaN.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ser/error.hpp"
#include "ser/prosody.hpp"

namespace ser {

namespace {

constexpr const char* kStats[] = {"mean", "std", "p10", "p50", "p90", "range", "slope"};
constexpr int kNumStats = 7;

bool voiced_only(int column) {
  return column == kProsodyF0 || column == kProsodyPeriodicity || column == kProsodyJitter ||
         column == kProsodyShimmer || column == kProsodyHnrDb;
}

// sorted: ascending, non-empty. numpy.percentile(..., method="linear").
double percentile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// values/times: (k,). Writes kNumStats statistics to out.
void stats(const std::vector<double>& values, const std::vector<double>& times, float* out) {
  std::fill(out, out + kNumStats, 0.0f);
  const std::size_t k = values.size();
  if (k == 0) return;
  double mean = 0.0, tmean = 0.0;
  for (std::size_t i = 0; i < k; ++i) {
    mean += values[i];
    tmean += times[i];
  }
  mean /= static_cast<double>(k);
  tmean /= static_cast<double>(k);
  double var = 0.0, stt = 0.0, sty = 0.0;
  for (std::size_t i = 0; i < k; ++i) {
    const double dv = values[i] - mean, dt = times[i] - tmean;
    var += dv * dv;
    stt += dt * dt;
    sty += dt * dv;
  }
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const double p10 = percentile(sorted, 0.10), p50 = percentile(sorted, 0.50), p90 = percentile(sorted, 0.90);
  out[0] = static_cast<float>(mean);
  out[1] = static_cast<float>(std::sqrt(var / static_cast<double>(k)));
  out[2] = static_cast<float>(p10);
  out[3] = static_cast<float>(p50);
  out[4] = static_cast<float>(p90);
  out[5] = static_cast<float>(p90 - p10);
  out[6] = stt > 0.0 ? static_cast<float>(sty / stt) : 0.0f;
}

}  // namespace

const std::vector<std::string>& functional_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    const auto& cols = prosody_names();
    for (int c = 0; c < static_cast<int>(cols.size()); ++c) {
      if (c == kProsodyVoiced) continue;
      for (const char* s : kStats) v.push_back(cols[c] + "_" + s);
    }
    v.push_back("voiced_fraction");
    v.push_back("duration_s");
    return v;
  }();
  return names;
}

void utterance_functionals(const float* prosody, std::int64_t n_frames, const FeatureConfig& cfg, float* out) {
  if (!out) throw Error("utterance_functionals: null output");
  if (n_frames < 0) throw Error("utterance_functionals: negative frame count");
  if (n_frames > 0 && !prosody) throw Error("utterance_functionals: null prosody");
  const double frame_s = static_cast<double>(cfg.logmel.hop_length) / cfg.logmel.sample_rate;
  std::int64_t n_voiced = 0;
  for (std::int64_t t = 0; t < n_frames; ++t) n_voiced += prosody[t * kProsodyColumns + kProsodyVoiced] > 0.5f ? 1 : 0;

  std::vector<double> values, times;
  float* o = out;
  for (int c = 0; c < kProsodyColumns; ++c) {
    if (c == kProsodyVoiced) continue;
    values.clear();
    times.clear();
    for (std::int64_t t = 0; t < n_frames; ++t) {
      const float* row = prosody + t * kProsodyColumns;
      if (voiced_only(c) && !(row[kProsodyVoiced] > 0.5f)) continue;
      values.push_back(row[c]);
      times.push_back(static_cast<double>(t) * frame_s);
    }
    stats(values, times, o);
    o += kNumStats;
  }
  *o++ = n_frames > 0 ? static_cast<float>(static_cast<double>(n_voiced) / static_cast<double>(n_frames)) : 0.0f;
  *o++ = static_cast<float>(static_cast<double>(n_frames) * frame_s);
}

}  // namespace ser
