// The prosody frame-measure kernel (kernels/prosody.cu) against its CPU twin
// (ser::prosody_measures_cpu). Skips without a usable GPU. Output buffers are poisoned with NaN
// before every launch, so an element the kernel forgets to write fails the comparison.
#ifdef SER_WITH_CUDA

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "../kernels/logmel.cuh"
#include "../kernels/prosody.cuh"
#include "ser/error.hpp"
#include "ser/feature_config.hpp"
#include "ser/prosody.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

using Batch = std::vector<std::vector<float>>;

// Measures of every frame of the batch on the GPU: (total_frames, kFrameMeasures).
std::vector<float> gpu_measures(const Batch& utts, const LogMelConfig& lm, const ProsodyConfig& pc) {
  cuda::Stream stream;
  cuda::DeviceFrameBatch batch;
  batch.upload(utts, nullptr, lm, stream.get());
  const std::int64_t frames = batch.layout().total_frames;
  const auto count = static_cast<std::size_t>(frames) * kFrameMeasures;
  cuda::DeviceBuffer<float> out;
  out.reserve(count, "prosody test output", frames);
  SER_CUDA_CHECK(cudaMemsetAsync(out.data(), 0xFF, count * sizeof(float), stream.get()));  // NaN poison
  cuda::launch_prosody_measures(batch.batch(), lm, pc, out.data(), stream.get());
  std::vector<float> host(count);
  SER_CUDA_CHECK(cudaMemcpyAsync(host.data(), out.data(), count * sizeof(float), cudaMemcpyDeviceToHost, stream.get()));
  stream.synchronize();
  return host;
}

// The CPU twin over the same utterances, rows concatenated in batch order.
std::vector<float> cpu_measures(const Batch& utts, const LogMelConfig& lm, const ProsodyConfig& pc) {
  std::vector<float> all;
  for (const auto& x : utts) {
    const auto n = static_cast<std::int64_t>(x.size());
    std::vector<float> m(static_cast<std::size_t>(lm.num_frames(n)) * kFrameMeasures);  // (n_frames, 6)
    prosody_measures_cpu(x.data(), n, lm.num_frames(n), lm, pc, m.data());
    all.insert(all.end(), m.begin(), m.end());
  }
  return all;
}

// Row by row. The difference function is bit-identical on both sides and the cumulative sums are in
// double, so the selected lag agrees; a lag may differ only on a near-tie of two CMND values.
void expect_match(const std::vector<float>& gpu, const std::vector<float>& cpu, const std::string& what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  const std::size_t frames = cpu.size() / kFrameMeasures;
  std::size_t lag_mismatches = 0;
  for (std::size_t f = 0; f < frames; ++f) {
    const float* g = gpu.data() + f * kFrameMeasures;
    const float* c = cpu.data() + f * kFrameMeasures;
    for (int k = 0; k < kFrameMeasures; ++k) ASSERT_TRUE(std::isfinite(g[k])) << what << ": frame " << f << " col " << k;
    EXPECT_NEAR(g[kMeasureRms], c[kMeasureRms], 1e-6 * c[kMeasureRms] + 1e-9) << what << ": frame " << f;
    EXPECT_EQ(g[kMeasureZcr], c[kMeasureZcr]) << what << ": frame " << f;
    if (std::fabs(g[kMeasurePeriod] - c[kMeasurePeriod]) > 1e-3f) {
      ++lag_mismatches;
      EXPECT_NEAR(g[kMeasureCmnd], c[kMeasureCmnd], 1e-4) << what << ": frame " << f << " lags " << g[kMeasurePeriod]
                                                           << " vs " << c[kMeasurePeriod] << " (not a near-tie)";
      continue;
    }
    EXPECT_NEAR(g[kMeasureCmnd], c[kMeasureCmnd], 1e-6 + 1e-6 * c[kMeasureCmnd]) << what << ": frame " << f;
    EXPECT_NEAR(g[kMeasurePeriodicity], c[kMeasurePeriodicity], 1e-5) << what << ": frame " << f;
    EXPECT_EQ(g[kMeasurePeak], c[kMeasurePeak]) << what << ": frame " << f;
  }
  EXPECT_LE(lag_mismatches, std::max<std::size_t>(1, frames / 200)) << what << ": lags that differ";
}

std::vector<float> harmonic(double f0, std::size_t n, int sr, double noise_std, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> phase(0.0, 2.0 * std::numbers::pi);
  std::normal_distribution<double> noise(0.0, noise_std);
  std::vector<double> phases;
  for (int k = 1; k * f0 < 4000.0; ++k) phases.push_back(phase(rng));
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    // a slow amplitude envelope, so levels vary across frames
    double v = 0.0;
    const double env = 0.6 + 0.4 * std::sin(2.0 * std::numbers::pi * 3.0 * double(i) / sr);
    for (std::size_t k = 0; k < phases.size(); ++k)
      v += 0.3 / double(k + 1) * std::sin(2.0 * std::numbers::pi * f0 * double(k + 1) * double(i) / sr + phases[k]);
    x[i] = static_cast<float>(env * v + noise(rng));
  }
  return x;
}

TEST(ProsodyCuda, MatchesCpuTwinOnRandomInput) {
  SER_SKIP_WITHOUT_GPU();
  const LogMelConfig lm;
  const ProsodyConfig pc;
  Batch utts;
  std::uint64_t seed = 100;
  for (std::size_t n : {257u, 1001u, 4097u, 16001u, 333u, 2999u}) utts.push_back(test::random_signal(n, seed++));
  expect_match(gpu_measures(utts, lm, pc), cpu_measures(utts, lm, pc), "random batch");
}

TEST(ProsodyCuda, MatchesCpuTwinOnHarmonicSignals) {
  SER_SKIP_WITHOUT_GPU();
  const LogMelConfig lm;
  const ProsodyConfig pc;
  Batch utts;
  std::uint64_t seed = 7;
  for (double f0 : {82.0, 131.0, 207.0, 318.0, 447.0})
    utts.push_back(harmonic(f0, 8000 + 2 * static_cast<std::size_t>(f0) + 1, lm.sample_rate, 0.01, seed++));
  utts.push_back(std::vector<float>(3001, 0.0f));  // silence: period 0, CMND 1
  const std::vector<float> gpu = gpu_measures(utts, lm, pc);
  expect_match(gpu, cpu_measures(utts, lm, pc), "harmonic batch");
  // The post-pass sees the same voicing and F0 from either set of measures.
  std::int64_t offset = 0;
  const FeatureConfig cfg;
  const std::vector<float> cpu = cpu_measures(utts, lm, pc);
  for (const auto& x : utts) {
    const std::int64_t nf = lm.num_frames(static_cast<std::int64_t>(x.size()));
    std::vector<float> pg(static_cast<std::size_t>(nf) * kProsodyColumns), pcpu(pg.size());
    prosody_from_measures(gpu.data() + offset * kFrameMeasures, nullptr, nf, cfg, pg.data());
    prosody_from_measures(cpu.data() + offset * kFrameMeasures, nullptr, nf, cfg, pcpu.data());
    for (std::int64_t t = 0; t < nf; ++t) {
      EXPECT_EQ(pg[t * kProsodyColumns + kProsodyVoiced], pcpu[t * kProsodyColumns + kProsodyVoiced]) << t;
      EXPECT_NEAR(pg[t * kProsodyColumns + kProsodyF0], pcpu[t * kProsodyColumns + kProsodyF0], 1e-2) << t;
    }
    offset += nf;
  }
  for (std::int64_t f = offset - lm.num_frames(3001); f < offset; ++f) {
    EXPECT_EQ(gpu[f * kFrameMeasures + kMeasurePeriod], 0.0f);
    EXPECT_EQ(gpu[f * kFrameMeasures + kMeasureCmnd], 1.0f);
  }
}

TEST(ProsodyCuda, MatchesCpuTwinOnOtherConventions) {
  SER_SKIP_WITHOUT_GPU();
  // Not centred, odd windows and hop, a wide pitch range.
  LogMelConfig lm;
  lm.center = false;
  lm.win_length = 333;
  lm.hop_length = 97;
  ProsodyConfig pc;
  pc.f0_min = 50;
  pc.f0_max = 700;
  pc.yin_window = 521;
  pc.yin_threshold = 0.2;
  Batch utts = {test::random_signal(5003, 1), harmonic(97.0, 4411, lm.sample_rate, 0.05, 2),
                harmonic(611.0, 6007, lm.sample_rate, 0.05, 3)};
  expect_match(gpu_measures(utts, lm, pc), cpu_measures(utts, lm, pc), "other conventions");
}

TEST(ProsodyCuda, LargeLagRangeUsesOptInSharedMemory) {
  SER_SKIP_WITHOUT_GPU();
  // 80 kHz, 20 Hz floor: 4000 lags, 4096-sample window -> ~80 KiB of shared memory per block.
  LogMelConfig lm;
  lm.sample_rate = 80000;
  lm.n_fft = 4096;
  lm.win_length = 4000;
  lm.hop_length = 1600;
  ProsodyConfig pc;
  pc.f0_min = 20;
  pc.f0_max = 1000;
  pc.yin_window = 4096;
  const cuda::ProsodyParams p = cuda::make_prosody_params(lm, pc);
  ASSERT_GT(cuda::prosody_shared_bytes(p), std::size_t(48 * 1024));
  Batch utts = {harmonic(140.0, 16001, lm.sample_rate, 0.02, 4), test::random_signal(9001, 5)};
  expect_match(gpu_measures(utts, lm, pc), cpu_measures(utts, lm, pc), "large lag range");
}

TEST(ProsodyCuda, RejectsBadParameters) {  // host code only: runs without a GPU too
  ProsodyConfig pc;
  pc.yin_window = 100;  // shorter than the longest period
  EXPECT_THROW(cuda::make_prosody_params(LogMelConfig{}, pc), Error);
  cuda::FrameBatch empty;
  EXPECT_NO_THROW(cuda::launch_prosody_measures(empty, LogMelConfig{}, ProsodyConfig{}, nullptr, nullptr));
}

}  // namespace
}  // namespace ser

#endif  // SER_WITH_CUDA
