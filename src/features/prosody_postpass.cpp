// The prosody post-pass (CPU, cheap): frame measures (n_frames, kFrameMeasures) + log-mel ->
// per-frame prosody columns (n_frames, kProsodyColumns). docs/prosody.md defines every column.
//  1. levels: rms_db, loudness from the mel power, zcr;
//  2. voicing: CMND < voicing_threshold and rms_db within silence_db of the utterance's loudest
//     frame, then smoothed (one-frame gaps bridged, runs shorter than kMinVoicedRun dropped);
//  3. F0 = sample_rate / period, octave jumps folded back towards the running median of the run;
//  4. jitter, shimmer, HNR on voiced frames.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ser/error.hpp"
#include "ser/prosody.hpp"

namespace ser {

namespace {

constexpr double kDbFloor = 1e-10;    // rms_db = 20 log10(rms + kDbFloor)
constexpr double kHnrClamp = 1e-4;    // periodicity clamped to [kHnrClamp, 1 - kHnrClamp] for HNR
constexpr int kMinVoicedRun = 2;      // voiced runs shorter than this are dropped
constexpr double kBridgeTolerance = 0.2;  // a one-frame gap is bridged when its F0 is within 20 % ...
constexpr double kBridgeCmnd = 0.8;       // ... of its neighbours' mean and its CMND is below this
constexpr int kMedianHalfWidth = 4;       // octave check: running median over +-4 frames of the run

double median_of(std::vector<double> v) {
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  double m = v[mid];
  if (v.size() % 2 == 0) m = 0.5 * (m + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)));
  return m;
}

// Voicing decision before smoothing.
std::vector<char> raw_voicing(const float* measures, const std::vector<double>& rms_db, std::int64_t n_frames,
                              const ProsodyConfig& pc) {
  double max_db = -1e300;
  for (double v : rms_db) max_db = std::max(max_db, v);
  std::vector<char> voiced(static_cast<std::size_t>(n_frames), 0);
  for (std::int64_t t = 0; t < n_frames; ++t) {
    const float* m = measures + t * kFrameMeasures;
    voiced[t] = m[kMeasurePeriod] > 0.0f && m[kMeasureCmnd] < pc.voicing_threshold &&
                rms_db[t] >= max_db + pc.silence_db;
  }
  return voiced;
}

// Bridges one-frame unvoiced gaps whose period continues the neighbours', drops short voiced runs.
void smooth_voicing(const float* measures, const std::vector<double>& rms_db, const ProsodyConfig& pc,
                    std::vector<char>& voiced) {
  const auto n = static_cast<std::int64_t>(voiced.size());
  double max_db = -1e300;
  for (double v : rms_db) max_db = std::max(max_db, v);
  std::vector<char> bridged = voiced;
  for (std::int64_t t = 1; t + 1 < n; ++t) {
    if (voiced[t] || !voiced[t - 1] || !voiced[t + 1]) continue;
    const float* m = measures + t * kFrameMeasures;
    const double p = m[kMeasurePeriod];
    const double around = 0.5 * (measures[(t - 1) * kFrameMeasures + kMeasurePeriod] +
                                 measures[(t + 1) * kFrameMeasures + kMeasurePeriod]);
    if (p > 0.0 && m[kMeasureCmnd] < kBridgeCmnd && rms_db[t] >= max_db + pc.silence_db &&
        std::fabs(p - around) <= kBridgeTolerance * around)
      bridged[t] = 1;
  }
  voiced.swap(bridged);
  for (std::int64_t t = 0; t < n;) {
    if (!voiced[t]) {
      ++t;
      continue;
    }
    std::int64_t end = t;
    while (end < n && voiced[end]) ++end;
    if (end - t < kMinVoicedRun) std::fill(voiced.begin() + t, voiced.begin() + end, 0);
    t = end;
  }
}

// f0: (n,) Hz on voiced frames. Within each voiced run, a frame more than half an octave from the
// running median of its run is moved by octaves towards it (when that stays within [f0_min, f0_max]).
void fix_octave_jumps(const std::vector<char>& voiced, const ProsodyConfig& pc, std::vector<double>& f0) {
  const auto n = static_cast<std::int64_t>(voiced.size());
  const std::vector<double> original = f0;
  std::vector<double> window;
  for (std::int64_t t = 0; t < n;) {
    if (!voiced[t]) {
      ++t;
      continue;
    }
    std::int64_t end = t;
    while (end < n && voiced[end]) ++end;
    for (std::int64_t i = t; i < end; ++i) {
      window.clear();
      for (std::int64_t k = std::max(t, i - kMedianHalfWidth); k < std::min(end, i + kMedianHalfWidth + 1); ++k)
        window.push_back(original[k]);
      const double ref = median_of(window);
      double best = original[i];
      for (double factor : {0.5, 2.0, 1.0 / 3.0, 3.0}) {
        const double cand = original[i] * factor;
        if (cand < pc.f0_min || cand > pc.f0_max) continue;
        if (std::fabs(std::log(cand / ref)) < std::fabs(std::log(best / ref))) best = cand;
      }
      if (std::fabs(std::log(original[i] / ref)) > std::log(1.5)) f0[i] = best;
    }
    t = end;
  }
}

double relative_change(double a, double b) {
  const double mean = 0.5 * (a + b);
  return mean > 0.0 ? std::fabs(a - b) / mean : 0.0;
}

}  // namespace

const std::vector<std::string>& prosody_names() {
  static const std::vector<std::string> names = {"f0_hz", "voiced", "periodicity", "rms_db", "loudness",
                                                 "zcr", "jitter_local", "shimmer_local", "hnr_db"};
  return names;
}

int prosody_column(const std::string& name) {
  const auto& names = prosody_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  std::string known;
  for (const auto& k : names) known += (known.empty() ? "" : ", ") + k;
  throw Error("prosody: unknown column '" + name + "' (known: " + known + ")");
}

void prosody_from_measures(const float* measures, const float* logmel, std::int64_t n_frames,
                           const FeatureConfig& cfg, float* prosody) {
  if (n_frames <= 0) return;
  if (!measures || !prosody) throw Error("prosody_from_measures: null measures or output");
  const ProsodyConfig& pc = cfg.prosody;
  const int n_mels = cfg.logmel.n_mels;
  const double sr = cfg.logmel.sample_rate, log_offset = cfg.logmel.log_offset;
  const auto n = static_cast<std::size_t>(n_frames);

  std::vector<double> rms_db(n);  // (n_frames,)
  for (std::size_t t = 0; t < n; ++t)
    rms_db[t] = 20.0 * std::log10(static_cast<double>(measures[t * kFrameMeasures + kMeasureRms]) + kDbFloor);

  std::vector<char> voiced = raw_voicing(measures, rms_db, n_frames, pc);  // (n_frames,)
  smooth_voicing(measures, rms_db, pc, voiced);
  std::vector<double> f0(n, 0.0);  // (n_frames,) Hz
  for (std::size_t t = 0; t < n; ++t)
    if (voiced[t]) f0[t] = sr / measures[t * kFrameMeasures + kMeasurePeriod];
  fix_octave_jumps(voiced, pc, f0);

  for (std::size_t t = 0; t < n; ++t) {
    const float* m = measures + t * kFrameMeasures;  // (kFrameMeasures,)
    float* row = prosody + t * kProsodyColumns;       // (kProsodyColumns,)
    double loud = 0.0;
    if (logmel) {
      const float* lm = logmel + t * static_cast<std::size_t>(n_mels);
      for (int k = 0; k < n_mels; ++k)
        loud += std::pow(std::max(std::exp(static_cast<double>(lm[k])) - log_offset, 0.0), pc.loudness_exponent);
    }
    const bool v = voiced[t] != 0, pair = v && t > 0 && voiced[t - 1];
    double hnr = 0.0;
    if (v) {
      const double r = std::clamp(static_cast<double>(m[kMeasurePeriodicity]), kHnrClamp, 1.0 - kHnrClamp);
      hnr = 10.0 * std::log10(r / (1.0 - r));
    }
    row[kProsodyF0] = static_cast<float>(f0[t]);
    row[kProsodyVoiced] = v ? 1.0f : 0.0f;
    row[kProsodyPeriodicity] = m[kMeasurePeriodicity];
    row[kProsodyRmsDb] = static_cast<float>(rms_db[t]);
    row[kProsodyLoudness] = static_cast<float>(loud);
    row[kProsodyZcr] = m[kMeasureZcr];
    row[kProsodyJitter] = pair ? static_cast<float>(relative_change(sr / f0[t], sr / f0[t - 1])) : 0.0f;
    row[kProsodyShimmer] =
        pair ? static_cast<float>(relative_change(m[kMeasurePeak], measures[(t - 1) * kFrameMeasures + kMeasurePeak]))
             : 0.0f;
    row[kProsodyHnrDb] = static_cast<float>(hnr);
  }
}

}  // namespace ser
