// kernels/frontend_cuda.cu — the GPU front-end paths behind ser::make_cuda_frontend:
//   "cuda"  : fused hand-written log-mel kernel (logmel.cu) + prosody frame-measure kernel
//   "cufft" : framing kernel + cuFFT R2C + mel/log kernel (logmel_cufft.cu) + the same prosody kernel
// Per extract(): condition samples on the host, pack + upload (pinned staging, own stream), run the
// kernels, download, then the cheap prosody post-pass and functionals on the CPU per utterance.
#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "logmel.cuh"
#include "logmel_cufft.cuh"
#include "prosody.cuh"
#include "ser/device.hpp"
#include "ser/error.hpp"
#include "ser/frontend.hpp"
#include "ser/logmel.hpp"
#include "ser/prosody.hpp"

namespace ser {

namespace {

class CudaFrontEnd final : public FrontEnd {
 public:
  CudaFrontEnd(FrontEndPath path, const FeatureConfig& cfg)
      : path_(path), cfg_(cfg), prosody_(cuda::make_prosody_params(cfg_.logmel, cfg_.prosody)) {
    if (path_ == FrontEndPath::cufft)
      cufft_ = std::make_unique<cuda::LogMelCufft>(cfg_.logmel);
    else
      fused_ = std::make_unique<cuda::LogMelTables>(cfg_.logmel);
  }

  std::string name() const override {
    return path_ == FrontEndPath::cufft ? "cufft (" + probe_cuda().name + ")" : "cuda (" + probe_cuda().name + ")";
  }

  std::vector<UtteranceFeatures> extract(const std::vector<std::vector<float>>& batch) override {
    std::vector<UtteranceFeatures> out(batch.size());
    if (batch.empty()) return out;
    const LogMelConfig& lm = cfg_.logmel;
    for (std::size_t u = 0; u < batch.size(); ++u)
      if (static_cast<std::int64_t>(batch[u].size()) < lm.min_samples())
        throw Error("front-end " + to_string(path_) + ": utterance " + std::to_string(u) + " of the batch has " +
                    std::to_string(batch[u].size()) + " samples, shorter than the " +
                    std::to_string(lm.min_samples()) + " the framing needs (n_fft " + std::to_string(lm.n_fft) +
                    ", pad_mode " + to_string(lm.pad_mode) + ")");

    // Host conditioning (pre-emphasis, dither) exactly as the CPU twin does it; prosody reads raw.
    const bool conditioned = lm.preemphasis > 0 || lm.dither > 0;
    std::vector<std::vector<float>> cond;
    if (conditioned) {
      cond.reserve(batch.size());
      for (const auto& x : batch) cond.push_back(condition_samples(x, lm));
    }
    cudaStream_t s = stream_.get();
    stream_.synchronize();  // a previous call that threw may have left copies from the staging in flight
    dev_batch_.upload(conditioned ? cond : batch, conditioned ? &batch : nullptr, lm, s);
    const cuda::BatchLayout& layout = dev_batch_.layout();
    const std::int64_t frames = layout.total_frames;
    const auto n_mels = static_cast<std::size_t>(lm.n_mels);
    const std::size_t n_logmel = static_cast<std::size_t>(frames) * n_mels;
    const std::size_t n_measures = static_cast<std::size_t>(frames) * kFrameMeasures;

    d_logmel_.reserve(n_logmel, "log-mel output", frames);
    d_measures_.reserve(n_measures, "prosody frame measures", frames);
    h_logmel_.reserve(n_logmel, "log-mel download");
    h_measures_.reserve(n_measures, "prosody download");

    if (cufft_)
      cufft_->run(dev_batch_.batch(), d_logmel_.data(), s);
    else
      cuda::launch_logmel_fused(dev_batch_.batch(), fused_->params(), d_logmel_.data(), s);
    cuda::launch_prosody_measures(dev_batch_.raw_batch(), prosody_, d_measures_.data(), s);  // raw samples

    SER_CUDA_CHECK(cudaMemcpyAsync(h_logmel_.data(), d_logmel_.data(), n_logmel * sizeof(float),
                                   cudaMemcpyDeviceToHost, s));
    SER_CUDA_CHECK(cudaMemcpyAsync(h_measures_.data(), d_measures_.data(), n_measures * sizeof(float),
                                   cudaMemcpyDeviceToHost, s));
    stream_.synchronize();

    // CPU post-pass per utterance (cheap, but spread over threads for large batches).
    const std::size_t n_prosody = prosody_names().size();
    const std::size_t n_functionals = functional_names().size();
    const auto post = [&](std::size_t u) {
      const std::int64_t f0 = layout.frame_offsets[u];
      const std::int64_t nf = layout.frame_offsets[u + 1] - f0;
      UtteranceFeatures& f = out[u];
      f.n_frames = nf;
      const float* lm_rows = h_logmel_.data() + static_cast<std::size_t>(f0) * n_mels;
      f.logmel.assign(lm_rows, lm_rows + static_cast<std::size_t>(nf) * n_mels);
      f.prosody.resize(static_cast<std::size_t>(nf) * n_prosody);
      prosody_from_measures(h_measures_.data() + static_cast<std::size_t>(f0) * kFrameMeasures, f.logmel.data(), nf,
                            cfg_, f.prosody.data());
      f.functionals.resize(n_functionals);
      utterance_functionals(f.prosody.data(), nf, cfg_, f.functionals.data());
    };
    const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t n_threads = std::min<std::size_t>(hw, (batch.size() + 15) / 16);
    if (n_threads <= 1) {
      for (std::size_t u = 0; u < batch.size(); ++u) post(u);
    } else {
      std::atomic<std::size_t> next{0};
      std::vector<std::exception_ptr> errors(n_threads);
      const auto worker = [&](std::size_t id) {
        try {
          for (std::size_t u; (u = next.fetch_add(1)) < batch.size();) post(u);
        } catch (...) {
          errors[id] = std::current_exception();
        }
      };
      std::vector<std::thread> pool;
      for (std::size_t t = 1; t < n_threads; ++t) pool.emplace_back(worker, t);
      worker(0);
      for (auto& th : pool) th.join();
      for (auto& e : errors)
        if (e) std::rethrow_exception(e);
    }
    return out;
  }

 private:
  FrontEndPath path_;
  FeatureConfig cfg_;
  cuda::ProsodyParams prosody_;
  cuda::Stream stream_;
  std::unique_ptr<cuda::LogMelTables> fused_;
  std::unique_ptr<cuda::LogMelCufft> cufft_;
  cuda::DeviceFrameBatch dev_batch_;
  cuda::DeviceBuffer<float> d_logmel_, d_measures_;
  cuda::PinnedBuffer<float> h_logmel_, h_measures_;
};

}  // namespace

std::unique_ptr<FrontEnd> make_cuda_frontend(FrontEndPath path, const FeatureConfig& cfg) {
  if (path == FrontEndPath::cpu)
    throw Error("make_cuda_frontend: path 'cpu' is not a CUDA path (use make_frontend)");
  const CudaProbe& probe = probe_cuda();
  if (!probe.usable)
    throw Error("front-end path '" + to_string(path) + "' needs a usable GPU, but none is available: " + probe.reason);
  cfg.validate();
  return std::make_unique<CudaFrontEnd>(path, cfg);
}

}  // namespace ser
