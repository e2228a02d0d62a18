// kernels/frontend_batch.cuh — how a batch of utterances lies on the device for the front-end
// kernels: samples back to back, frames numbered across the batch.
#pragma once
#include <cstdint>

namespace ser::cuda {

struct FrameBatch {
  const float* samples = nullptr;           // (total_samples,) utterances back to back
  const std::int64_t* sample_offsets = nullptr;  // (n_utt + 1,) start of utterance u in samples
  const std::int64_t* frame_offsets = nullptr;   // (n_utt + 1,) first frame of utterance u
  const std::int32_t* frame_utt = nullptr;       // (total_frames,) utterance of each frame
  std::int64_t total_frames = 0;
  int n_utt = 0;
};

}  // namespace ser::cuda
