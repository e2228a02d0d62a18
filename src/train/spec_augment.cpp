// src/train/spec_augment.cpp — time and frequency masks on a host batch (spec_augment.hpp).
#include "train/spec_augment.hpp"

#include <algorithm>

#include "ser/nn/counter_rng.hpp"

namespace ser::train {

namespace {

// An integer uniform in [0, n] from draw `k` of utterance `u`.
int draw_upto(std::uint64_t seed, std::uint64_t u, std::uint64_t k, int n) {
  const float r = nn::uniform01(nn::mix64(seed ^ nn::mix64(u)), k);  // in [0, 1)
  return std::min(n, static_cast<int>(r * static_cast<float>(n + 1)));
}

}  // namespace

bool spec_augment_enabled(const TrainConfig& t) {
  return (t.time_masks > 0 && t.time_mask_frames > 0) || (t.freq_masks > 0 && t.freq_mask_bins > 0);
}

void spec_augment(engine::HostBatch& b, int n_mels, const TrainConfig& t, std::uint64_t seed) {
  if (!spec_augment_enabled(t)) return;
  for (int i = 0; i < b.n; ++i) {
    const auto u = static_cast<std::uint64_t>(b.utterances[static_cast<std::size_t>(i)]);
    const int len = b.lengths[static_cast<std::size_t>(i)];
    float* x = &b.x[static_cast<std::size_t>(i) * b.t * n_mels];  // (t, n_mels), valid rows < len
    std::uint64_t k = 0;  // draw counter of this utterance
    for (int m = 0; m < t.freq_masks; ++m) {
      const int width = draw_upto(seed, u, k++, std::min(t.freq_mask_bins, n_mels));
      const int start = draw_upto(seed, u, k++, n_mels - width);
      for (int r = 0; r < len; ++r) std::fill_n(x + static_cast<std::size_t>(r) * n_mels + start, width, 0.0f);
    }
    for (int m = 0; m < t.time_masks; ++m) {
      const int width = draw_upto(seed, u, k++, std::min(t.time_mask_frames, len));
      const int start = draw_upto(seed, u, k++, len - width);
      std::fill_n(x + static_cast<std::size_t>(start) * n_mels, static_cast<std::size_t>(width) * n_mels, 0.0f);
    }
  }
}

}  // namespace ser::train
