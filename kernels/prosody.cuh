// kernels/prosody.cuh — the GPU prosody frame measures (stage 1 of ser/prosody.hpp): YIN period and
// CMND, normalised autocorrelation at the period, RMS, zero-crossing rate and peak amplitude, one
// thread block per frame over a packed FrameBatch of raw samples.
//
// CPU twin: ser::prosody_measures_cpu (src/features/prosody_measures.cpp); docs/prosody.md has the
// definitions. Test: tests/test_prosody_cuda.cpp. Host-only declarations, so C++ files may include it.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "cuda_check.cuh"
#include "frontend_batch.cuh"
#include "ser/feature_config.hpp"

namespace ser::cuda {

// Everything the kernel needs, as plain values (passed by value).
struct ProsodyParams {
  int hop = 0;                     // samples between frames
  std::int64_t centre_offset = 0;  // frame t is centred on t * hop + centre_offset (n_fft / 2 if !center)
  int win_length = 0;              // rms / zcr window
  int yin_window = 0;              // W
  int tau_min = 0;
  int tau_max = 0;
  int frame_len = 0;               // W + tau_max samples read per frame
  double yin_threshold = 0.0;
  double voicing_threshold = 0.0;  // peak spans one period when CMND is below this
};

// Validates both configs (throws ser::Error) and derives the kernel parameters.
ProsodyParams make_prosody_params(const LogMelConfig& lm, const ProsodyConfig& pc);

// Threads per block and dynamic shared memory of the kernel for these params.
int prosody_threads(const ProsodyParams& p);
std::size_t prosody_shared_bytes(const ProsodyParams& p);

// out: (batch.total_frames, kFrameMeasures) row-major on the device, row f = frame f of the batch.
// Asynchronous on `stream`; launch checked. batch should hold the raw (unconditioned) samples.
void launch_prosody_measures(const FrameBatch& batch, const ProsodyParams& p, float* out, cudaStream_t stream);
void launch_prosody_measures(const FrameBatch& batch, const LogMelConfig& lm, const ProsodyConfig& pc, float* out,
                             cudaStream_t stream);

}  // namespace ser::cuda
