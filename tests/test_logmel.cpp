// The CPU log-mel twin against a naive double-precision DFT reference, and its conventions.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <numbers>

#include "ser/error.hpp"
#include "ser/fft.hpp"
#include "ser/logmel.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

// Straight from the definitions, in double: pad, window, O(n^2) DFT, dense mel, log.
std::vector<double> reference_logmel(const std::vector<float>& x, const LogMelConfig& cfg) {
  const int n_fft = cfg.n_fft, n_freqs = cfg.n_freqs();
  const auto n = static_cast<std::int64_t>(x.size());
  const std::int64_t frames = cfg.num_frames(n), pad = cfg.center ? n_fft / 2 : 0;
  const std::vector<float> window = make_padded_window(cfg);
  const std::vector<double> fb = MelFilterbank::build(cfg).dense();  // (n_freqs, n_mels)
  std::vector<double> out(frames * cfg.n_mels);
  std::vector<double> frame(n_fft), power(n_freqs);
  for (std::int64_t t = 0; t < frames; ++t) {
    for (int j = 0; j < n_fft; ++j) {
      const std::int64_t i = padded_index(t * cfg.hop_length + j, n, pad, cfg.pad_mode);
      frame[j] = i < 0 ? 0.0 : double(x[i]) * window[j];
    }
    for (int k = 0; k < n_freqs; ++k) {
      std::complex<double> acc = 0;
      for (int j = 0; j < n_fft; ++j) acc += frame[j] * std::polar(1.0, -2.0 * std::numbers::pi * j * k / n_fft);
      power[k] = cfg.power == 2.0 ? std::norm(acc) : std::abs(acc);
    }
    for (int m = 0; m < cfg.n_mels; ++m) {
      double mel = 0;
      for (int k = 0; k < n_freqs; ++k) mel += fb[k * cfg.n_mels + m] * power[k];
      out[t * cfg.n_mels + m] = std::log(mel + cfg.log_offset);
    }
  }
  return out;
}

void expect_close_to_reference(const LogMelConfig& cfg, std::size_t n, std::uint64_t seed) {
  const std::vector<float> x = test::random_signal(n, seed);
  const std::vector<float> got = LogMelCpu(cfg).compute(x);
  const std::vector<double> want = reference_logmel(x, cfg);
  ASSERT_EQ(got.size(), want.size());
  double err2 = 0, ref2 = 0, max_abs = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(std::isfinite(got[i])) << "element " << i;
    err2 += (got[i] - want[i]) * (got[i] - want[i]);
    ref2 += want[i] * want[i];
    max_abs = std::max(max_abs, std::abs(got[i] - want[i]));
  }
  EXPECT_LT(std::sqrt(err2 / ref2), 1e-6) << "relative Frobenius error";
  EXPECT_LT(max_abs, 1e-4);
}

TEST(LogMel, MatchesDoubleDftDefault) { expect_close_to_reference(LogMelConfig{}, 3201, 11); }

TEST(LogMel, MatchesDoubleDftOtherConventions) {
  LogMelConfig c;
  c.n_fft = 256;
  c.win_length = 201;
  c.hop_length = 77;
  c.pad_mode = PadMode::constant;
  c.power = 1.0;
  c.mel_scale = MelScale::slaney;
  c.mel_norm = MelNorm::slaney;
  c.n_mels = 23;
  c.f_min = 55;
  c.f_max = 7000;
  expect_close_to_reference(c, 1999, 12);
  c.center = false;
  c.window = WindowType::hamming;
  expect_close_to_reference(c, 1001, 13);
}

TEST(LogMel, FrameCountFollowsCentring) {
  LogMelConfig c;
  EXPECT_EQ(c.num_frames(16000), 101);
  EXPECT_EQ(c.num_frames(16159), 101);
  c.center = false;
  EXPECT_EQ(c.num_frames(16000), 1 + (16000 - 512) / 160);
  EXPECT_EQ(c.num_frames(100), 0);
}

TEST(LogMel, TooShortSignalIsAnError) {
  const std::vector<float> x = test::random_signal(100, 3);
  EXPECT_THROW(LogMelCpu(LogMelConfig{}).compute(x), Error);
}

TEST(LogMel, ReflectPaddingMirrorsWithoutRepeatingTheEdge) {
  // Signal a b c d e, pad 2: c b | a b c d e | d c
  EXPECT_EQ(padded_index(0, 5, 2, PadMode::reflect), 2);
  EXPECT_EQ(padded_index(1, 5, 2, PadMode::reflect), 1);
  EXPECT_EQ(padded_index(2, 5, 2, PadMode::reflect), 0);
  EXPECT_EQ(padded_index(7, 5, 2, PadMode::reflect), 3);
  EXPECT_EQ(padded_index(8, 5, 2, PadMode::reflect), 2);
  EXPECT_EQ(padded_index(8, 5, 2, PadMode::constant), -1);
}

TEST(LogMel, RealFftMatchesComplexFft) {
  for (int n : {4, 8, 64, 512, 4096}) {
    const std::vector<float> x = test::random_signal(n, static_cast<std::uint64_t>(n));
    std::vector<std::complex<double>> ref(x.begin(), x.end());
    fft_inplace(ref.data(), n);
    std::vector<std::complex<float>> got(n / 2 + 1);
    std::vector<std::complex<double>> scratch;
    RealFft(n).forward(x.data(), got.data(), scratch);
    double scale = 0;
    for (auto v : ref) scale = std::max(scale, std::abs(v));
    for (int k = 0; k <= n / 2; ++k)
      ASSERT_NEAR(std::abs(std::complex<double>(got[k]) - ref[k]) / scale, 0.0, 2e-6) << "n=" << n << " k=" << k;
  }
}

TEST(LogMel, MelScalesRoundTripAndHtkFormula) {
  for (double hz : {0.0, 100.0, 999.0, 1000.0, 4321.0, 8000.0}) {
    EXPECT_NEAR(mel_to_hz(hz_to_mel(hz, MelScale::htk), MelScale::htk), hz, 1e-9);
    EXPECT_NEAR(mel_to_hz(hz_to_mel(hz, MelScale::slaney), MelScale::slaney), hz, 1e-9);
  }
  EXPECT_NEAR(hz_to_mel(700.0, MelScale::htk), 2595.0 * std::log10(2.0), 1e-12);
  EXPECT_NEAR(hz_to_mel(500.0, MelScale::slaney), 7.5, 1e-12);
}

TEST(LogMel, PreemphasisAndDitherAreDeterministic) {
  LogMelConfig c;
  c.preemphasis = 0.97;
  c.dither = 1e-4;
  c.dither_seed = 5;
  const std::vector<float> x = test::random_signal(1000, 9);
  const std::vector<float> a = condition_samples(x, c), b = condition_samples(x, c);
  EXPECT_EQ(a, b);
  c.dither = 0;
  const std::vector<float> p = condition_samples(x, c);
  EXPECT_FLOAT_EQ(p[0], x[0]);
  EXPECT_FLOAT_EQ(p[10], x[10] - 0.97f * x[9]);
}

}  // namespace
}  // namespace ser
