// The CPU prosody twin (YIN frame measures), the post-pass and the utterance functionals, against
// direct formulas, constructed signals and — when SER_PRAAT_F0_DIR is set — Praat on Emo-DB.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <numbers>
#include <random>
#include <sstream>

#include "ser/audio.hpp"
#include "ser/error.hpp"
#include "ser/prosody.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

// Harmonic tone: harmonics k*f0 below 4 kHz with amplitude 0.3/k and random phases, plus Gaussian
// noise of standard deviation noise_std.
std::vector<float> harmonic(double f0, double seconds, int sr, double noise_std, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> phase(0.0, 2.0 * std::numbers::pi);
  std::normal_distribution<double> noise(0.0, noise_std);
  std::vector<double> phases;
  for (int k = 1; k * f0 < 4000.0; ++k) phases.push_back(phase(rng));
  std::vector<float> x(static_cast<std::size_t>(seconds * sr));
  for (std::size_t i = 0; i < x.size(); ++i) {
    double v = 0.0;
    for (std::size_t k = 0; k < phases.size(); ++k)
      v += 0.3 / double(k + 1) * std::sin(2.0 * std::numbers::pi * f0 * double(k + 1) * double(i) / sr + phases[k]);
    x[i] = static_cast<float>(v + noise(rng));
  }
  return x;
}

struct Analysis {
  std::int64_t n_frames = 0;
  std::vector<float> measures;  // (n_frames, kFrameMeasures)
  std::vector<float> prosody;   // (n_frames, kProsodyColumns)
  float m(std::int64_t t, int k) const { return measures[t * kFrameMeasures + k]; }
  float p(std::int64_t t, int k) const { return prosody[t * kProsodyColumns + k]; }
};

Analysis analyse(const std::vector<float>& x, const FeatureConfig& cfg = {}) {
  Analysis a;
  const auto n = static_cast<std::int64_t>(x.size());
  a.n_frames = cfg.logmel.num_frames(n);
  a.measures.assign(a.n_frames * kFrameMeasures, std::nanf(""));
  a.prosody.assign(a.n_frames * kProsodyColumns, std::nanf(""));
  prosody_measures_cpu(x.data(), n, a.n_frames, cfg.logmel, cfg.prosody, a.measures.data());
  prosody_from_measures(a.measures.data(), nullptr, a.n_frames, cfg, a.prosody.data());
  return a;
}

void expect_all_finite(const std::vector<float>& v, const char* what) {
  for (std::size_t i = 0; i < v.size(); ++i) ASSERT_TRUE(std::isfinite(v[i])) << what << " element " << i;
}

// ---- names ---------------------------------------------------------------------------------------

TEST(Prosody, NamesAndColumns) {
  ASSERT_EQ(prosody_names().size(), static_cast<std::size_t>(kProsodyColumns));
  EXPECT_EQ(prosody_column("f0_hz"), kProsodyF0);
  EXPECT_EQ(prosody_column("voiced"), kProsodyVoiced);
  EXPECT_EQ(prosody_column("hnr_db"), kProsodyHnrDb);
  EXPECT_EQ(prosody_column("shimmer_local"), kProsodyShimmer);
  EXPECT_THROW(prosody_column("pitch"), Error);
  const auto& f = functional_names();
  ASSERT_EQ(f.size(), std::size_t(8 * 7 + 2));
  EXPECT_EQ(f.front(), "f0_hz_mean");
  EXPECT_EQ(f[6], "f0_hz_slope");
  EXPECT_EQ(f[7], "periodicity_mean");
  EXPECT_EQ(f[f.size() - 2], "voiced_fraction");
  EXPECT_EQ(f.back(), "duration_s");
  EXPECT_EQ(std::count(f.begin(), f.end(), "voiced_mean"), 0);
}

// ---- frame measures ------------------------------------------------------------------------------

TEST(Prosody, YinDifferenceMatchesNaiveDouble) {
  const LogMelConfig lm;
  const ProsodyConfig pc;
  const std::vector<float> x = test::random_signal(5003, 21);
  const auto n = static_cast<std::int64_t>(x.size());
  const int W = pc.yin_window, tmax = pc.tau_max(lm.sample_rate), L = W + tmax;
  for (std::int64_t t : {std::int64_t(0), std::int64_t(1), std::int64_t(7), std::int64_t(16), lm.num_frames(n) - 1}) {
    const std::vector<float> d = yin_difference_cpu(x.data(), n, t, lm, pc);
    ASSERT_EQ(d.size(), std::size_t(tmax + 1));
    const std::int64_t x0 = t * lm.hop_length - L / 2;
    auto at = [&](std::int64_t i) { return (i >= 0 && i < n) ? double(x[i]) : 0.0; };
    EXPECT_EQ(d[0], 0.0f);
    for (int tau = 1; tau <= tmax; ++tau) {
      double want = 0.0;
      const int j0 = (tmax - tau) / 2;  // the lag's windows are centred in the frame
      for (int j = j0; j < j0 + W; ++j) {
        const double diff = at(x0 + j) - at(x0 + j + tau);
        want += diff * diff;
      }
      ASSERT_NEAR(d[tau], want, 2e-5 * want + 1e-9) << "frame " << t << " tau " << tau;
    }
  }
}

// Reference selection from the naive double difference: same rules as the twin.
double reference_period(const std::vector<float>& x, std::int64_t t, const LogMelConfig& lm, const ProsodyConfig& pc) {
  const auto n = static_cast<std::int64_t>(x.size());
  const int W = pc.yin_window, tmin = pc.tau_min(lm.sample_rate), tmax = pc.tau_max(lm.sample_rate), L = W + tmax;
  const std::int64_t x0 = t * lm.hop_length - L / 2;
  auto at = [&](std::int64_t i) { return (i >= 0 && i < n) ? double(x[i]) : 0.0; };
  std::vector<double> cm(tmax + 1, 1.0);
  double cum = 0;
  for (int tau = 1; tau <= tmax; ++tau) {
    double d = 0;
    for (int j = (tmax - tau) / 2; j < (tmax - tau) / 2 + W; ++j)
      d += (at(x0 + j) - at(x0 + j + tau)) * (at(x0 + j) - at(x0 + j + tau));
    cum += d;
    cm[tau] = cum > 0 ? d * tau / cum : 1.0;
  }
  int best = -1;
  for (int tau = tmin; tau <= tmax && best < 0; ++tau)
    if (cm[tau] < pc.yin_threshold) {
      best = tau;
      while (best < tmax && cm[best + 1] < cm[best]) ++best;
    }
  if (best < 0) best = int(std::min_element(cm.begin() + tmin, cm.end()) - cm.begin());
  double delta = 0;
  if (best < tmax) {
    const double den = cm[best - 1] - 2 * cm[best] + cm[best + 1];
    if (den > 0) delta = std::clamp(0.5 * (cm[best - 1] - cm[best + 1]) / den, -1.0, 1.0);
  }
  return best + delta;
}

TEST(Prosody, PeriodSelectionMatchesReference) {
  const FeatureConfig cfg;
  const std::vector<float> x = harmonic(173.0, 0.3, 16000, 0.02, 5);
  const Analysis a = analyse(x, cfg);
  for (std::int64_t t = 0; t < a.n_frames; t += 3)
    EXPECT_NEAR(a.m(t, kMeasurePeriod), reference_period(x, t, cfg.logmel, cfg.prosody), 1e-3) << "frame " << t;
}

TEST(Prosody, HarmonicF0WithinOnePercent) {
  const FeatureConfig cfg;
  for (double f0 : {80.0, 110.0, 150.0, 220.0, 300.0, 380.0, 450.0}) {
    const std::vector<float> x = harmonic(f0, 1.0, cfg.logmel.sample_rate, 0.02, std::uint64_t(f0));
    const Analysis a = analyse(x, cfg);
    expect_all_finite(a.prosody, "prosody");
    int voiced = 0, interior = 0;
    for (std::int64_t t = 4; t + 4 < a.n_frames; ++t) {
      ++interior;
      if (a.p(t, kProsodyVoiced) != 1.0f) continue;
      ++voiced;
      EXPECT_NEAR(a.p(t, kProsodyF0), f0, 0.01 * f0) << "F0 " << f0 << " frame " << t;
      EXPECT_GT(a.p(t, kProsodyPeriodicity), 0.9f);
      EXPECT_GT(a.p(t, kProsodyHnrDb), 5.0f);
    }
    EXPECT_EQ(voiced, interior) << "F0 " << f0;
  }
}

TEST(Prosody, SilenceIsUnvoiced) {
  const std::vector<float> x(8000, 0.0f);
  const Analysis a = analyse(x);
  expect_all_finite(a.measures, "measures");
  expect_all_finite(a.prosody, "prosody");
  for (std::int64_t t = 0; t < a.n_frames; ++t) {
    EXPECT_EQ(a.m(t, kMeasurePeriod), 0.0f);
    EXPECT_EQ(a.m(t, kMeasureCmnd), 1.0f);
    EXPECT_EQ(a.p(t, kProsodyVoiced), 0.0f);
    EXPECT_EQ(a.p(t, kProsodyF0), 0.0f);
    EXPECT_EQ(a.p(t, kProsodyHnrDb), 0.0f);
    EXPECT_NEAR(a.p(t, kProsodyRmsDb), -200.0f, 1e-3);
  }
}

TEST(Prosody, NoiseIsUnvoiced) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0.0f, 0.1f);
    std::vector<float> x(16000);
    for (auto& v : x) v = g(rng);
    const Analysis a = analyse(x);
    expect_all_finite(a.prosody, "prosody");
    int voiced = 0;
    for (std::int64_t t = 0; t < a.n_frames; ++t) voiced += a.p(t, kProsodyVoiced) == 1.0f;
    EXPECT_EQ(voiced, 0) << "seed " << seed;
  }
}

TEST(Prosody, RmsZcrPeakMatchDirectFormulas) {
  LogMelConfig lm;
  lm.win_length = 301;  // odd window: checks the centring convention
  lm.hop_length = 97;
  const ProsodyConfig pc;
  const std::vector<float> x = test::random_signal(4001, 33);
  const auto n = static_cast<std::int64_t>(x.size());
  const std::int64_t frames = lm.num_frames(n);
  std::vector<float> out(frames * kFrameMeasures);
  prosody_measures_cpu(x.data(), n, frames, lm, pc, out.data());
  auto at = [&](std::int64_t i) { return (i >= 0 && i < n) ? x[i] : 0.0f; };
  for (std::int64_t t = 0; t < frames; ++t) {
    const float* row = out.data() + t * kFrameMeasures;
    const std::int64_t first = t * lm.hop_length - lm.win_length / 2;
    double e = 0;
    int zc = 0;
    for (int j = 0; j < lm.win_length; ++j) {
      e += double(at(first + j)) * at(first + j);
      if (j > 0) zc += (at(first + j) < 0) != (at(first + j - 1) < 0);
    }
    EXPECT_NEAR(row[kMeasureRms], std::sqrt(e / lm.win_length), 1e-6) << "frame " << t;
    EXPECT_FLOAT_EQ(row[kMeasureZcr], float(zc) / float(lm.win_length - 1)) << "frame " << t;
    // Peak: over one (integer) period when the frame looks periodic, else over yin_window samples.
    const bool periodic = row[kMeasurePeriod] > 0 && row[kMeasureCmnd] < pc.voicing_threshold;
    const int span = periodic ? int(std::lround(row[kMeasurePeriod])) : pc.yin_window;
    if (!periodic) {
      float pk = 0;
      for (int j = 0; j < span; ++j) pk = std::max(pk, std::fabs(at(t * lm.hop_length - span / 2 + j)));
      EXPECT_EQ(row[kMeasurePeak], pk) << "frame " << t;
    }
    EXPECT_GE(row[kMeasurePeriodicity], -1.0f);
    EXPECT_LE(row[kMeasurePeriodicity], 1.0f);
  }
}

TEST(Prosody, PeriodicityIsNormalisedAutocorrelation) {
  const FeatureConfig cfg;
  const std::vector<float> x = harmonic(200.0, 0.2, 16000, 0.05, 9);
  const Analysis a = analyse(x, cfg);
  const auto n = static_cast<std::int64_t>(x.size());
  const int W = cfg.prosody.yin_window, tmax = cfg.prosody.tau_max(16000), L = W + tmax;
  auto at = [&](std::int64_t i) { return (i >= 0 && i < n) ? double(x[i]) : 0.0; };
  for (std::int64_t t = 0; t < a.n_frames; ++t) {
    const float period = a.m(t, kMeasurePeriod);
    ASSERT_GT(period, 0.0f);
    // The integer lag the selection settled on is within half a sample of the refined period.
    const int T = int(std::lround(period));
    const std::int64_t x0 = t * cfg.logmel.hop_length - L / 2;
    double r = 0, e0 = 0, e1 = 0;
    for (int j = (tmax - T) / 2; j < (tmax - T) / 2 + W; ++j) {
      r += at(x0 + j) * at(x0 + j + T);
      e0 += at(x0 + j) * at(x0 + j);
      e1 += at(x0 + j + T) * at(x0 + j + T);
    }
    EXPECT_NEAR(a.m(t, kMeasurePeriodicity), r / std::sqrt(e0 * e1), 1e-5) << "frame " << t;
    // Peak over that period when the frame looks periodic (CMND below voicing_threshold), else over W.
    const int span = a.m(t, kMeasureCmnd) < cfg.prosody.voicing_threshold ? T : W;
    float pk = 0;
    for (int j = 0; j < span; ++j)
      pk = std::max(pk, float(std::fabs(at(t * cfg.logmel.hop_length - span / 2 + j))));
    EXPECT_EQ(a.m(t, kMeasurePeak), pk) << "frame " << t;
  }
}

TEST(Prosody, FrameCentreFollowsLogMelFraming) {
  LogMelConfig lm;
  EXPECT_EQ(prosody_frame_centre(3, lm), 480);
  lm.center = false;
  EXPECT_EQ(prosody_frame_centre(3, lm), 480 + 256);
}

TEST(Prosody, CpuIsFastEnough) {
  const FeatureConfig cfg;
  const std::vector<float> x = harmonic(140.0, 1.0, 16000, 0.05, 3);
  const std::int64_t frames = cfg.logmel.num_frames(16000);
  std::vector<float> m(frames * kFrameMeasures), p(frames * kProsodyColumns);
  double best_ms = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    prosody_measures_cpu(x.data(), 16000, frames, cfg.logmel, cfg.prosody, m.data());
    prosody_from_measures(m.data(), nullptr, frames, cfg, p.data());
    best_ms = std::min(best_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  RecordProperty("ms_per_second_of_audio", std::to_string(best_ms));
  EXPECT_LT(best_ms, 50.0) << "CPU prosody of 1 s of audio";
}

// ---- post-pass -----------------------------------------------------------------------------------

// Hand-made measures: every frame periodic and loud unless listed in `unvoiced`.
std::vector<float> constructed_measures(const std::vector<double>& periods, const std::vector<double>& peaks,
                                        const std::vector<int>& unvoiced) {
  std::vector<float> m(periods.size() * kFrameMeasures);
  for (std::size_t t = 0; t < periods.size(); ++t) {
    float* r = m.data() + t * kFrameMeasures;
    const bool u = std::find(unvoiced.begin(), unvoiced.end(), int(t)) != unvoiced.end();
    r[kMeasurePeriod] = float(periods[t]);
    r[kMeasureCmnd] = u ? 0.9f : 0.05f;
    r[kMeasurePeriodicity] = 0.9f;
    r[kMeasureRms] = 0.1f;
    r[kMeasureZcr] = 0.25f;
    r[kMeasurePeak] = float(peaks[t]);
  }
  return m;
}

TEST(Prosody, JitterShimmerOnConstructedSequences) {
  const FeatureConfig cfg;
  const std::vector<double> periods = {100, 102, 100, 102, 101, 100, 99, 100, 100, 103};
  const std::vector<double> peaks = {0.50, 0.55, 0.50, 0.60, 0.60, 0.40, 0.45, 0.45, 0.50, 0.50};
  const std::vector<int> unvoiced = {5, 6};  // a two-frame gap: never bridged
  const std::vector<float> m = constructed_measures(periods, peaks, unvoiced);
  const std::int64_t n = std::int64_t(periods.size());
  std::vector<float> p(n * kProsodyColumns, std::nanf(""));
  prosody_from_measures(m.data(), nullptr, n, cfg, p.data());
  expect_all_finite(p, "prosody");
  auto P = [&](std::int64_t t, int k) { return p[t * kProsodyColumns + k]; };
  for (std::int64_t t = 0; t < n; ++t) {
    const bool v = t != 5 && t != 6;
    EXPECT_EQ(P(t, kProsodyVoiced), v ? 1.0f : 0.0f) << t;
    EXPECT_NEAR(P(t, kProsodyF0), v ? 16000.0 / periods[t] : 0.0, 1e-3) << t;
    const bool pair = v && t > 0 && t != 7;
    const float f_t = float(periods[t]);
    const double jit = pair ? std::fabs(periods[t] - periods[t - 1]) / (0.5 * (periods[t] + periods[t - 1])) : 0.0;
    const double shim = pair ? std::fabs(peaks[t] - peaks[t - 1]) / (0.5 * (peaks[t] + peaks[t - 1])) : 0.0;
    EXPECT_NEAR(P(t, kProsodyJitter), jit, 1e-5) << t << " period " << f_t;
    EXPECT_NEAR(P(t, kProsodyShimmer), shim, 1e-5) << t;
    EXPECT_NEAR(P(t, kProsodyHnrDb), v ? 10.0 * std::log10(0.9 / 0.1) : 0.0, 1e-4) << t;
    EXPECT_NEAR(P(t, kProsodyRmsDb), 20.0 * std::log10(0.1 + 1e-10), 1e-4);
    EXPECT_FLOAT_EQ(P(t, kProsodyZcr), 0.25f);
    EXPECT_FLOAT_EQ(P(t, kProsodyPeriodicity), 0.9f);
  }
}

TEST(Prosody, VoicingNeedsLevelAndSmoothing) {
  const FeatureConfig cfg;
  const std::size_t n = 12;
  std::vector<double> periods(n, 100.0), peaks(n, 0.5);
  // Frame 2: a lone voiced frame between unvoiced ones -> dropped. Frame 8: a one-frame gap with a
  // continuing period -> bridged.
  std::vector<float> m = constructed_measures(periods, peaks, {0, 1, 3, 4, 8});
  m[8 * kFrameMeasures + kMeasureCmnd] = 0.5f;  // above voicing_threshold, but clearly periodic
  m[10 * kFrameMeasures + kMeasureRms] = 1e-5f;  // 80 dB down: silent, so never bridged
  std::vector<float> p(n * kProsodyColumns);
  prosody_from_measures(m.data(), nullptr, std::int64_t(n), cfg, p.data());
  // Frame 11 is a lone voiced frame at the end (after the silent frame 10): dropped too.
  const std::vector<float> want = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0};
  for (std::size_t t = 0; t < n; ++t) EXPECT_EQ(p[t * kProsodyColumns + kProsodyVoiced], want[t]) << t;
}

TEST(Prosody, OctaveJumpIsFolded) {
  const FeatureConfig cfg;
  std::vector<double> periods(9, 100.0), peaks(9, 0.5);
  periods[4] = 50.0;  // YIN picked half the period: F0 an octave too high
  const std::vector<float> m = constructed_measures(periods, peaks, {});
  std::vector<float> p(9 * kProsodyColumns);
  prosody_from_measures(m.data(), nullptr, 9, cfg, p.data());
  for (int t = 0; t < 9; ++t) EXPECT_NEAR(p[t * kProsodyColumns + kProsodyF0], 160.0f, 1e-3) << t;
}

TEST(Prosody, LoudnessFromMelPower) {
  FeatureConfig cfg;
  cfg.logmel.n_mels = 3;
  const std::vector<double> periods(2, 100.0), peaks(2, 0.5);
  const std::vector<float> m = constructed_measures(periods, peaks, {});
  // (2, 3) log-mel: powers 1, 8, 0 (the last at the log offset floor) and 2, 2, 2.
  const float off = float(cfg.logmel.log_offset);
  const std::vector<float> logmel = {std::log(1.0f + off), std::log(8.0f + off), std::log(off),
                                     std::log(2.0f + off), std::log(2.0f + off), std::log(2.0f + off)};
  std::vector<float> p(2 * kProsodyColumns);
  prosody_from_measures(m.data(), logmel.data(), 2, cfg, p.data());
  const double e = cfg.prosody.loudness_exponent;
  EXPECT_NEAR(p[kProsodyLoudness], 1.0 + std::pow(8.0, e), 1e-4);
  EXPECT_NEAR(p[kProsodyColumns + kProsodyLoudness], 3.0 * std::pow(2.0, e), 1e-4);
}

// ---- functionals ---------------------------------------------------------------------------------

TEST(Prosody, FunctionalsMatchHandComputedValues) {
  FeatureConfig cfg;  // hop 160 at 16 kHz: frame t at t / 100 s
  const std::int64_t n = 5;
  std::vector<float> p(n * kProsodyColumns, 0.0f);
  auto set = [&](std::int64_t t, int k, float v) { p[t * kProsodyColumns + k] = v; };
  // Voiced frames 1, 2, 4 with F0 100, 200, 400; rms_db 1..5 on every frame.
  const float f0[] = {0, 100, 200, 0, 400};
  for (std::int64_t t = 0; t < n; ++t) {
    set(t, kProsodyF0, f0[t]);
    set(t, kProsodyVoiced, f0[t] > 0 ? 1.0f : 0.0f);
    set(t, kProsodyRmsDb, float(t + 1));
  }
  std::vector<float> out(functional_names().size(), std::nanf(""));
  utterance_functionals(p.data(), n, cfg, out.data());
  expect_all_finite(out, "functionals");
  auto get = [&](const std::string& name) {
    const auto& names = functional_names();
    return out[std::size_t(std::find(names.begin(), names.end(), name) - names.begin())];
  };
  // F0 over voiced frames {100 @ 0.01 s, 200 @ 0.02 s, 400 @ 0.04 s}.
  const double mean = 700.0 / 3.0;
  EXPECT_NEAR(get("f0_hz_mean"), mean, 1e-3);
  const double var = ((100 - mean) * (100 - mean) + (200 - mean) * (200 - mean) + (400 - mean) * (400 - mean)) / 3;
  EXPECT_NEAR(get("f0_hz_std"), std::sqrt(var), 1e-3);
  EXPECT_NEAR(get("f0_hz_p10"), 100 + 0.2 * 100, 1e-3);  // position 0.2 between 100 and 200
  EXPECT_NEAR(get("f0_hz_p50"), 200, 1e-3);
  EXPECT_NEAR(get("f0_hz_p90"), 200 + 0.8 * 200, 1e-3);  // position 1.8 between 200 and 400
  EXPECT_NEAR(get("f0_hz_range"), 360 - 120, 1e-3);
  // slope: times 0.01, 0.02, 0.04 (mean 7/300); sum dt*dv / sum dt^2.
  const double tm = 0.07 / 3, ts[] = {0.01, 0.02, 0.04}, vs[] = {100, 200, 400};
  double stt = 0, sty = 0;
  for (int i = 0; i < 3; ++i) {
    stt += (ts[i] - tm) * (ts[i] - tm);
    sty += (ts[i] - tm) * (vs[i] - mean);
  }
  EXPECT_NEAR(get("f0_hz_slope"), sty / stt, 1e-2);
  // rms_db over all frames: 1..5 at 0..0.04 s: slope 100 dB/s, p10 1.4, p90 4.6.
  EXPECT_NEAR(get("rms_db_mean"), 3.0, 1e-5);
  EXPECT_NEAR(get("rms_db_std"), std::sqrt(2.0), 1e-5);
  EXPECT_NEAR(get("rms_db_p10"), 1.4, 1e-5);
  EXPECT_NEAR(get("rms_db_p50"), 3.0, 1e-5);
  EXPECT_NEAR(get("rms_db_range"), 3.2, 1e-5);
  EXPECT_NEAR(get("rms_db_slope"), 100.0, 1e-3);
  // Jitter is voiced-only (all zero here); loudness over all frames (all zero).
  EXPECT_EQ(get("jitter_local_mean"), 0.0f);
  EXPECT_NEAR(get("voiced_fraction"), 0.6, 1e-6);
  EXPECT_NEAR(get("duration_s"), 0.05, 1e-6);
}

TEST(Prosody, EmptyAndUnvoicedGiveNoNaN) {
  const FeatureConfig cfg;
  std::vector<float> out(functional_names().size(), std::nanf(""));
  utterance_functionals(nullptr, 0, cfg, out.data());
  for (float v : out) EXPECT_EQ(v, 0.0f);

  // A single frame, and an all-silent utterance.
  for (std::size_t len : {std::size_t(300), std::size_t(4000)}) {
    const std::vector<float> x(len, 0.0f);
    const Analysis a = analyse(x, cfg);
    std::fill(out.begin(), out.end(), std::nanf(""));
    utterance_functionals(a.prosody.data(), a.n_frames, cfg, out.data());
    expect_all_finite(out, "functionals");
    EXPECT_EQ(out[functional_names().size() - 2], 0.0f);  // voiced_fraction
  }
  // Zero frames through the measure and post-pass stages: nothing written, nothing thrown.
  const std::vector<float> x(100, 0.1f);
  EXPECT_NO_THROW(prosody_measures_cpu(x.data(), 100, 0, cfg.logmel, cfg.prosody, nullptr));
  EXPECT_NO_THROW(prosody_from_measures(nullptr, nullptr, 0, cfg, nullptr));
}

// ---- Emo-DB against Praat ------------------------------------------------------------------------

// Praat's track: "time_s f0_hz" per line (f0 0 when unvoiced), from tools/praat_pitch.praat.
std::vector<std::pair<double, double>> read_praat_track(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::pair<double, double>> track;
  double t = 0, f = 0;
  while (in >> t >> f) track.emplace_back(t, f);
  return track;
}

struct Agreement {
  long frames = 0, both_voiced = 0, gross = 0, disagree = 0, ser_voiced = 0, praat_voiced = 0;
  void add(const Agreement& o) {
    frames += o.frames;
    both_voiced += o.both_voiced;
    gross += o.gross;
    disagree += o.disagree;
    ser_voiced += o.ser_voiced;
    praat_voiced += o.praat_voiced;
  }
  double gpe() const { return both_voiced ? 100.0 * double(gross) / double(both_voiced) : 0.0; }
  double vde() const { return frames ? 100.0 * double(disagree) / double(frames) : 0.0; }
};

// Our frame t (at t * hop / sr s) against the nearest Praat frame within half a Praat step.
Agreement compare_tracks(const std::vector<float>& prosody, std::int64_t n_frames, double frame_s,
                         const std::vector<std::pair<double, double>>& praat) {
  Agreement a;
  if (praat.size() < 2) return a;
  const double t0 = praat.front().first, step = praat[1].first - praat[0].first;
  for (std::int64_t t = 0; t < n_frames; ++t) {
    const double time = double(t) * frame_s;
    const long k = std::lround((time - t0) / step);
    if (k < 0 || k >= long(praat.size()) || std::fabs(praat[k].first - time) > 0.5 * step + 1e-9) continue;
    const double fp = praat[k].second, fs = prosody[t * kProsodyColumns + kProsodyF0];
    const bool vp = fp > 0, vs = prosody[t * kProsodyColumns + kProsodyVoiced] > 0.5f;
    ++a.frames;
    a.ser_voiced += vs;
    a.praat_voiced += vp;
    if (vp != vs) ++a.disagree;
    if (vp && vs) {
      ++a.both_voiced;
      if (std::fabs(fs - fp) / fp > 0.2) ++a.gross;
    }
  }
  return a;
}

TEST(ProsodyEmoDB, PraatAgreement) {
  const char* dir = std::getenv("SER_PRAAT_F0_DIR");
  if (!dir || !*dir) GTEST_SKIP() << "set SER_PRAAT_F0_DIR (see tools/praat_f0_compare.py)";
  SER_SKIP_WITHOUT_EMODB();
  namespace fs = std::filesystem;
  const FeatureConfig cfg;
  const double frame_s = double(cfg.logmel.hop_length) / cfg.logmel.sample_rate;
  std::vector<fs::path> tracks;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".f0") tracks.push_back(e.path());
  std::sort(tracks.begin(), tracks.end());
  ASSERT_FALSE(tracks.empty()) << "no .f0 files in " << dir;
  // Optional: per-file "time f0_hz cmnd rms_db periodicity zcr period" lines for analysis.
  const char* dump = std::getenv("SER_F0_DUMP_DIR");

  const std::map<std::string, std::string> gender = {{"03", "male"},   {"08", "female"}, {"09", "female"},
                                                     {"10", "male"},   {"11", "male"},   {"12", "male"},
                                                     {"13", "female"}, {"14", "female"}, {"15", "male"},
                                                     {"16", "female"}};
  std::map<std::string, Agreement> by_speaker, by_gender;
  Agreement all;
  for (const fs::path& track : tracks) {
    const std::string stem = track.stem().string();
    const std::string wav = test::emodb_dir() + "/wav/" + stem + ".wav";
    const Audio audio = load_audio(wav, cfg.logmel.sample_rate);
    const Analysis a = analyse(audio.samples, cfg);
    const Agreement g = compare_tracks(a.prosody, a.n_frames, frame_s, read_praat_track(track.string()));
    const std::string spk = stem.substr(0, 2);
    by_speaker[spk].add(g);
    by_gender[gender.count(spk) ? gender.at(spk) : "unknown"].add(g);
    all.add(g);
    if (dump && *dump) {
      std::ofstream out(std::string(dump) + "/" + stem + ".f0");
      for (std::int64_t t = 0; t < a.n_frames; ++t)
        out << std::fixed << std::setprecision(6) << double(t) * frame_s << ' ' << std::setprecision(4)
            << a.p(t, kProsodyF0) << ' ' << a.m(t, kMeasureCmnd) << ' ' << a.p(t, kProsodyRmsDb) << ' '
            << a.m(t, kMeasurePeriodicity) << ' ' << a.m(t, kMeasureZcr) << ' ' << a.m(t, kMeasurePeriod) << '\n';
    }
  }
  std::ostringstream report;
  report << std::fixed << std::setprecision(2);
  auto line = [&](const std::string& name, const Agreement& g) {
    report << "  " << std::left << std::setw(8) << name << std::right << " frames " << std::setw(7) << g.frames
           << "  both voiced " << std::setw(6) << g.both_voiced << "  GPE " << std::setw(6) << g.gpe() << " %  VDE "
           << std::setw(6) << g.vde() << " %  voiced ser/praat " << std::setw(6) << g.ser_voiced << "/" << std::setw(6)
           << g.praat_voiced << "\n";
  };
  report << "ser CPU prosody vs Praat To Pitch (ac) on " << tracks.size() << " Emo-DB files:\n";
  line("overall", all);
  for (const auto& [k, g] : by_gender) line(k, g);
  for (const auto& [k, g] : by_speaker) line("spk " + k, g);
  std::cout << report.str();
  RecordProperty("gpe_percent", std::to_string(all.gpe()));
  RecordProperty("vde_percent", std::to_string(all.vde()));
  EXPECT_LT(all.gpe(), 5.0) << "gross pitch error vs Praat";
  EXPECT_LT(all.vde(), 6.0) << "voicing decision error vs Praat";
}

}  // namespace
}  // namespace ser
