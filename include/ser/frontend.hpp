// ser/frontend.hpp — one interface over the three front-end paths (CPU twin, hand-written CUDA,
// cuFFT). Every path returns the same features for the same audio, up to float rounding.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ser/feature_config.hpp"

namespace ser {

struct UtteranceFeatures {
  std::int64_t n_frames = 0;
  std::vector<float> logmel;       // (n_frames, n_mels)
  std::vector<float> prosody;      // (n_frames, n_prosody)
  std::vector<float> functionals;  // (n_functionals,)
};

enum class FrontEndPath {
  cpu,     // CPU twin (ser's own FFT), threads over utterances
  cuda,    // hand-written CUDA kernels: fused frame+window+FFT+power+mel+log, prosody kernel
  cufft,   // CUDA framing kernel + cuFFT R2C + mel/log kernel (comparison path)
};
std::string to_string(FrontEndPath);
FrontEndPath parse_frontend_path(const std::string&);  // "cpu" | "cuda" | "cufft"

class FrontEnd {
 public:
  virtual ~FrontEnd() = default;
  virtual std::string name() const = 0;
  // batch: mono utterances at cfg.logmel.sample_rate, each at least cfg.logmel.min_samples() long.
  virtual std::vector<UtteranceFeatures> extract(const std::vector<std::vector<float>>& batch) = 0;
};

// cpu_threads: worker threads of the CPU path (0 = hardware concurrency). The CUDA paths throw
// ser::Error when built without CUDA or when no usable GPU is present.
std::unique_ptr<FrontEnd> make_frontend(FrontEndPath path, const FeatureConfig& cfg, int cpu_threads = 0);

// Implemented in kernels/frontend_cuda.cu (or src/device/no_cuda_frontend.cpp without CUDA).
std::unique_ptr<FrontEnd> make_cuda_frontend(FrontEndPath path, const FeatureConfig& cfg);

}  // namespace ser
