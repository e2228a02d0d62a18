// The CPU front-end: log-mel twin + prosody twin + post-pass, threads over utterances.
#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include "ser/device.hpp"
#include "ser/error.hpp"
#include "ser/frontend.hpp"
#include "ser/logmel.hpp"
#include "ser/prosody.hpp"

namespace ser {

namespace {

class CpuFrontEnd final : public FrontEnd {
 public:
  CpuFrontEnd(const FeatureConfig& cfg, int threads) : cfg_(cfg), logmel_(cfg.logmel), threads_(threads) {
    if (threads_ <= 0) threads_ = cpu_threads();
  }

  std::string name() const override { return "cpu (" + std::to_string(threads_) + " threads)"; }

  std::vector<UtteranceFeatures> extract(const std::vector<std::vector<float>>& batch) override {
    std::vector<UtteranceFeatures> out(batch.size());
    std::atomic<std::size_t> next{0};
    std::vector<std::exception_ptr> errors(batch.size());
    auto worker = [&]() {
      for (std::size_t i; (i = next.fetch_add(1)) < batch.size();) {
        try {
          out[i] = extract_one(batch[i]);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      }
    };
    const int n_threads = static_cast<int>(std::min<std::size_t>(threads_, batch.size()));
    std::vector<std::thread> pool;
    for (int t = 1; t < n_threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
    return out;
  }

 private:
  UtteranceFeatures extract_one(const std::vector<float>& raw) const {
    const LogMelConfig& lm = cfg_.logmel;
    const auto n = static_cast<std::int64_t>(raw.size());
    UtteranceFeatures f;
    f.n_frames = lm.num_frames(n);
    const bool conditioned = lm.preemphasis > 0 || lm.dither > 0;
    f.logmel = conditioned ? logmel_.compute(condition_samples(raw, lm)) : logmel_.compute(raw);
    std::vector<float> measures(static_cast<std::size_t>(f.n_frames) * kFrameMeasures);  // (n_frames, 6)
    prosody_measures_cpu(raw.data(), n, f.n_frames, lm, cfg_.prosody, measures.data());
    f.prosody.resize(static_cast<std::size_t>(f.n_frames) * prosody_names().size());
    prosody_from_measures(measures.data(), f.logmel.data(), f.n_frames, cfg_, f.prosody.data());
    f.functionals.resize(functional_names().size());
    utterance_functionals(f.prosody.data(), f.n_frames, cfg_, f.functionals.data());
    return f;
  }

  FeatureConfig cfg_;
  LogMelCpu logmel_;
  int threads_;
};

}  // namespace

std::unique_ptr<FrontEnd> make_cpu_frontend(const FeatureConfig& cfg, int cpu_threads) {
  return std::make_unique<CpuFrontEnd>(cfg, cpu_threads);
}

}  // namespace ser
