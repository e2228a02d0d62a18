// The GPU log-mel paths (fused hand-written kernel, cuFFT path) and the CUDA front-end against the
// CPU twin (LogMelCpu + CPU prosody). GPU tests skip on machines without a usable GPU; the padding
// mirror and the no-GPU error run everywhere CUDA is compiled in.
#ifdef SER_WITH_CUDA

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../kernels/logmel.cuh"
#include "../kernels/logmel_cufft.cuh"
#include "ser/device.hpp"
#include "ser/error.hpp"
#include "ser/feature_config.hpp"
#include "ser/frontend.hpp"
#include "ser/logmel.hpp"
#include "ser/prosody.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

constexpr double kMaxNmse = 1e-7;    // normalised mean-squared error of the log values
constexpr double kMaxAbsLog = 2e-3;  // largest |gpu - cpu| of any log value

struct Case {
  int n_fft = 512;
  double power = 2.0;
  PadMode pad = PadMode::reflect;
  bool slaney = false;  // mel_scale slaney + mel_norm slaney, else htk / none
  bool center = true;
  WindowType window = WindowType::hann;
  int n_mels = 64;
  int win_length = 0;  // 0: n_fft * 25 / 32 (400 at 512)
  int hop_length = 0;  // 0: win_length * 2 / 5 (160 at 512)
};

LogMelConfig make_config(const Case& c) {
  LogMelConfig cfg;
  cfg.n_fft = c.n_fft;
  cfg.win_length = c.win_length > 0 ? c.win_length : c.n_fft * 25 / 32;
  cfg.hop_length = c.hop_length > 0 ? c.hop_length : std::max(1, cfg.win_length * 2 / 5);
  cfg.power = c.power;
  cfg.pad_mode = c.pad;
  cfg.center = c.center;
  cfg.window = c.window;
  cfg.n_mels = c.n_mels;
  cfg.mel_scale = c.slaney ? MelScale::slaney : MelScale::htk;
  cfg.mel_norm = c.slaney ? MelNorm::slaney : MelNorm::none;
  cfg.validate();
  return cfg;
}

std::string describe(const LogMelConfig& c) {
  return "n_fft " + std::to_string(c.n_fft) + ", win " + std::to_string(c.win_length) + ", hop " +
         std::to_string(c.hop_length) + ", power " + std::to_string(static_cast<int>(c.power)) + ", pad " +
         to_string(c.pad_mode) + ", center " + (c.center ? "yes" : "no") + ", " + to_string(c.mel_scale) + "/" +
         to_string(c.mel_norm) + ", window " + to_string(c.window) + ", n_mels " + std::to_string(c.n_mels);
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (int n_fft : {256, 512, 1024})
    for (double power : {1.0, 2.0})
      for (PadMode pad : {PadMode::reflect, PadMode::constant})
        for (bool slaney : {false, true}) {
          Case c;
          c.n_fft = n_fft;
          c.power = power;
          c.pad = pad;
          c.slaney = slaney;
          cases.push_back(c);
        }
  // Edges of the FFT sizes, no centring, other windows.
  Case tiny;
  tiny.n_fft = 16;
  tiny.win_length = 16;
  tiny.hop_length = 5;
  tiny.n_mels = 4;
  cases.push_back(tiny);
  Case big;
  big.n_fft = 4096;
  big.win_length = 4000;
  big.hop_length = 1001;
  big.n_mels = 128;
  big.slaney = true;
  cases.push_back(big);
  Case uncentred;
  uncentred.center = false;
  uncentred.window = WindowType::hamming;
  uncentred.win_length = 300;
  uncentred.hop_length = 97;
  cases.push_back(uncentred);
  Case rect;
  rect.n_fft = 2048;
  rect.window = WindowType::rectangular;
  rect.pad = PadMode::constant;
  rect.power = 1.0;
  rect.n_mels = 80;
  cases.push_back(rect);
  return cases;
}

// Several utterances of odd lengths, the shortest the framing accepts among them.
std::vector<std::vector<float>> make_batch(const LogMelConfig& cfg, std::uint64_t seed) {
  const auto min_n = static_cast<std::size_t>(cfg.min_samples());
  const std::vector<std::size_t> lengths = {4801, min_n, 3 * static_cast<std::size_t>(cfg.n_fft) + 1, min_n + 7,
                                            12347, 999};
  std::vector<std::vector<float>> batch;
  for (std::size_t i = 0; i < lengths.size(); ++i)
    batch.push_back(test::random_signal(std::max(lengths[i], min_n), seed * 131 + i));
  return batch;
}

enum class GpuPath { fused, cufft };

// Runs one GPU path through its launcher, the output poisoned with NaN first. (total_frames, n_mels).
std::vector<float> run_gpu(GpuPath path, const LogMelConfig& cfg, const std::vector<std::vector<float>>& batch) {
  cuda::Stream stream;
  cuda::DeviceFrameBatch dev;
  dev.upload(batch, nullptr, cfg, stream.get());
  const std::int64_t frames = dev.layout().total_frames;
  const std::size_t count = static_cast<std::size_t>(frames) * cfg.n_mels;
  cuda::DeviceBuffer<float> out;
  out.reserve(count, "test output", frames);
  SER_CUDA_CHECK(cudaMemsetAsync(out.data(), 0xFF, count * sizeof(float), stream.get()));  // 0xFFFFFFFF: NaN
  std::unique_ptr<cuda::LogMelTables> tables;
  std::unique_ptr<cuda::LogMelCufft> cufft;
  if (path == GpuPath::fused) {
    tables = std::make_unique<cuda::LogMelTables>(cfg);
    cuda::launch_logmel_fused(dev.batch(), tables->params(), out.data(), stream.get());
  } else {
    cufft = std::make_unique<cuda::LogMelCufft>(cfg);
    cufft->run(dev.batch(), out.data(), stream.get());
  }
  std::vector<float> host(count);
  SER_CUDA_CHECK(cudaMemcpyAsync(host.data(), out.data(), count * sizeof(float), cudaMemcpyDeviceToHost, stream.get()));
  stream.synchronize();
  return host;
}

struct Agreement {
  double nmse = 0, max_abs = 0;
  std::size_t non_finite = 0;
};

Agreement compare(const float* got, const float* want, std::size_t n) {
  Agreement a;
  double err2 = 0, ref2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(got[i]) || !std::isfinite(want[i])) {
      ++a.non_finite;
      continue;
    }
    const double d = static_cast<double>(got[i]) - want[i];
    err2 += d * d;
    ref2 += static_cast<double>(want[i]) * want[i];
    a.max_abs = std::max(a.max_abs, std::abs(d));
  }
  a.nmse = ref2 > 0 ? err2 / ref2 : err2;
  return a;
}

void expect_path_matches_twin(GpuPath path) {
  const char* path_name = path == GpuPath::fused ? "fused" : "cufft";
  std::uint64_t seed = 1;
  for (const Case& c : all_cases()) {
    const LogMelConfig cfg = make_config(c);
    SCOPED_TRACE(std::string(path_name) + ": " + describe(cfg));
    const auto batch = make_batch(cfg, seed++);
    const std::vector<float> got = run_gpu(path, cfg, batch);
    const LogMelCpu twin(cfg);
    std::size_t row = 0;
    for (std::size_t u = 0; u < batch.size(); ++u) {
      const std::vector<float> want = twin.compute(batch[u]);
      ASSERT_LE((row * cfg.n_mels) + want.size(), got.size()) << "utterance " << u;
      const Agreement a = compare(got.data() + row * cfg.n_mels, want.data(), want.size());
      EXPECT_EQ(a.non_finite, 0u) << "utterance " << u << " (" << batch[u].size() << " samples): unwritten or NaN";
      EXPECT_LE(a.nmse, kMaxNmse) << "utterance " << u << " (" << batch[u].size() << " samples)";
      EXPECT_LE(a.max_abs, kMaxAbsLog) << "utterance " << u << " (" << batch[u].size() << " samples)";
      row += want.size() / cfg.n_mels;
    }
    EXPECT_EQ(row * cfg.n_mels, got.size()) << "frame count of the batch";
  }
}

// ---- runs without a GPU -------------------------------------------------------------------------

TEST(LogMelCuda, PaddedIndexMirrorsHost) {
  for (std::int64_t n : {1, 2, 3, 5, 8, 9, 17, 64, 257, 1000}) {
    for (std::int64_t pad : {std::int64_t{0}, std::int64_t{1}, std::int64_t{4}, n / 2, n - 1, n, 2 * n}) {
      if (pad < 0) continue;
      for (PadMode mode : {PadMode::reflect, PadMode::constant}) {
        if (mode == PadMode::reflect && pad >= n) continue;  // outside the framing's contract
        for (std::int64_t p = 0; p < n + 2 * pad; ++p)
          ASSERT_EQ(cuda::padded_index_dev(p, n, pad, mode), padded_index(p, n, pad, mode))
              << "p " << p << ", n " << n << ", pad " << pad << ", " << to_string(mode);
      }
    }
  }
}

TEST(LogMelCuda, MakeCudaFrontendThrowsCleanErrorWithoutGpu) {
  if (probe_cuda().usable) GTEST_SKIP() << "a usable GPU is present";
  for (FrontEndPath path : {FrontEndPath::cuda, FrontEndPath::cufft}) {
    try {
      auto fe = make_cuda_frontend(path, FeatureConfig{});
      ADD_FAILURE() << to_string(path) << ": no exception without a GPU";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("GPU"), std::string::npos) << what;
      EXPECT_NE(what.find(to_string(path)), std::string::npos) << what;
    }
    EXPECT_THROW(make_frontend(path, FeatureConfig{}), Error);
  }
}

// ---- need a GPU ---------------------------------------------------------------------------------

TEST(LogMelCuda, FusedKernelMatchesCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  expect_path_matches_twin(GpuPath::fused);
}

TEST(LogMelCuda, CufftPathMatchesCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  expect_path_matches_twin(GpuPath::cufft);
}

TEST(LogMelCuda, FusedAndCufftAgree) {
  SER_SKIP_WITHOUT_GPU();
  const LogMelConfig cfg = make_config(Case{});
  const auto batch = make_batch(cfg, 77);
  const std::vector<float> a = run_gpu(GpuPath::fused, cfg, batch);
  const std::vector<float> b = run_gpu(GpuPath::cufft, cfg, batch);
  ASSERT_EQ(a.size(), b.size());
  const Agreement g = compare(a.data(), b.data(), a.size());
  EXPECT_EQ(g.non_finite, 0u);
  EXPECT_LE(g.nmse, kMaxNmse);
  EXPECT_LE(g.max_abs, kMaxAbsLog);
}

// A voiced-like test signal (harmonics of a gliding F0, amplitude envelope) plus random noise, so
// the prosody measures are well defined and stable against float rounding.
std::vector<float> voiced_signal(std::size_t n, double f0_start, double f0_end, std::uint64_t seed) {
  std::vector<float> x = test::random_signal(n, seed, -0.03f, 0.03f);
  double phase = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double r = static_cast<double>(i) / static_cast<double>(n);
    const double f0 = f0_start + (f0_end - f0_start) * r;
    phase += 2.0 * 3.14159265358979323846 * f0 / 16000.0;
    double v = 0;
    for (int h = 1; h <= 6; ++h) v += std::sin(h * phase) / h;
    const double env = 0.3 + 0.2 * std::sin(2.0 * 3.14159265358979323846 * 2.5 * r);
    x[i] += static_cast<float>(0.5 * env * v);
  }
  return x;
}

void expect_frontend_matches_cpu(FrontEndPath path, const FeatureConfig& cfg) {
  SCOPED_TRACE(to_string(path) + ": " + describe(cfg.logmel) + ", preemphasis " +
               std::to_string(cfg.logmel.preemphasis) + ", dither " + std::to_string(cfg.logmel.dither));
  std::vector<std::vector<float>> batch = {voiced_signal(16001, 110, 180, 1), voiced_signal(8123, 220, 170, 2),
                                           voiced_signal(24577, 140, 260, 3), voiced_signal(3001, 300, 280, 4)};
  auto cpu = make_frontend(FrontEndPath::cpu, cfg, 2);
  auto gpu = make_cuda_frontend(path, cfg);
  const auto want = cpu->extract(batch);
  // Twice: the second call reuses the grown buffers; then a smaller batch.
  for (int round = 0; round < 3; ++round) {
    std::vector<std::vector<float>> b = batch;
    if (round == 2) b.resize(2);
    const auto got = gpu->extract(b);
    ASSERT_EQ(got.size(), b.size());
    for (std::size_t u = 0; u < b.size(); ++u) {
      SCOPED_TRACE("round " + std::to_string(round) + ", utterance " + std::to_string(u));
      ASSERT_EQ(got[u].n_frames, want[u].n_frames);
      ASSERT_EQ(got[u].logmel.size(), want[u].logmel.size());
      const Agreement a = compare(got[u].logmel.data(), want[u].logmel.data(), want[u].logmel.size());
      EXPECT_EQ(a.non_finite, 0u);
      EXPECT_LE(a.nmse, kMaxNmse);
      EXPECT_LE(a.max_abs, kMaxAbsLog);

      // Prosody: the measures kernel sums in another order than its twin, so a decision (voicing,
      // YIN dip) may flip in a rare frame; elements must agree closely, allowing 1% outliers.
      ASSERT_EQ(got[u].prosody.size(), want[u].prosody.size());
      std::size_t off = 0;
      for (std::size_t i = 0; i < want[u].prosody.size(); ++i) {
        const double g = got[u].prosody[i], w = want[u].prosody[i];
        const bool same = (std::isnan(g) && std::isnan(w)) || std::abs(g - w) <= 1e-3 + 5e-3 * std::abs(w);
        if (!same) ++off;
      }
      EXPECT_LE(off, want[u].prosody.size() / 100) << off << " of " << want[u].prosody.size()
                                                   << " prosody values differ";
      ASSERT_EQ(got[u].functionals.size(), want[u].functionals.size());
      for (std::size_t i = 0; i < want[u].functionals.size(); ++i) {
        const double g = got[u].functionals[i], w = want[u].functionals[i];
        if (std::isnan(w)) {
          EXPECT_TRUE(std::isnan(g)) << functional_names()[i];
          continue;
        }
        EXPECT_NEAR(g, w, 2e-3 + 2e-2 * std::abs(w)) << functional_names()[i];
      }
    }
  }
}

TEST(LogMelCuda, FrontEndMatchesCpuFrontEnd) {
  SER_SKIP_WITHOUT_GPU();
  FeatureConfig cfg;
  for (FrontEndPath path : {FrontEndPath::cuda, FrontEndPath::cufft}) expect_frontend_matches_cpu(path, cfg);
  // Conditioned samples (pre-emphasis + dither) feed the log-mel; prosody still reads the raw ones.
  FeatureConfig conditioned;
  conditioned.logmel.preemphasis = 0.97;
  conditioned.logmel.dither = 1e-4;
  conditioned.logmel.dither_seed = 5;
  conditioned.logmel.pad_mode = PadMode::constant;
  conditioned.logmel.power = 1.0;
  for (FrontEndPath path : {FrontEndPath::cuda, FrontEndPath::cufft}) expect_frontend_matches_cpu(path, conditioned);
}

TEST(LogMelCuda, FrontEndRejectsShortUtteranceAndHandlesEmptyBatch) {
  SER_SKIP_WITHOUT_GPU();
  FeatureConfig cfg;
  for (FrontEndPath path : {FrontEndPath::cuda, FrontEndPath::cufft}) {
    auto fe = make_cuda_frontend(path, cfg);
    EXPECT_TRUE(fe->extract({}).empty());
    const std::vector<std::vector<float>> bad = {test::random_signal(4000, 1),
                                                 test::random_signal(cfg.logmel.min_samples() - 1, 2)};
    try {
      fe->extract(bad);
      ADD_FAILURE() << "no exception for a short utterance";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("utterance 1"), std::string::npos) << e.what();
    }
    // Still usable afterwards.
    const auto ok = fe->extract({test::random_signal(4000, 3)});
    ASSERT_EQ(ok.size(), 1u);
    EXPECT_EQ(ok[0].n_frames, cfg.logmel.num_frames(4000));
  }
}

}  // namespace
}  // namespace ser

#endif  // SER_WITH_CUDA
