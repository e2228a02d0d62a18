// kernels/logmel_cufft.cuh — the cuFFT comparison path of the log-mel front-end:
//   logmel_frame_window_kernel  -> (total_frames, n_fft) windowed real frames
//   cufftExecR2C (batched plan) -> (total_frames, n_fft/2 + 1) complex spectra
//   logmel_power_mel_log_kernel -> (total_frames, n_mels) log-mel
// CPU twin: ser::LogMelCpu. Test: tests/test_logmel_cuda.cpp. Host-only declarations.
#pragma once
#include <cufft.h>

#include <cstdint>
#include <vector>

#include "logmel.cuh"

namespace ser::cuda {

// Throws ser::Error "cuFFT error: WHAT -> CUFFT_NAME" unless r == CUFFT_SUCCESS.
void cufft_check(cufftResult r, const char* what);
const char* cufft_result_name(cufftResult r);

// Windowed frames: frames (batch.total_frames, p.n_fft) row-major. One block per frame.
void launch_logmel_frame_window(const FrameBatch& batch, const LogMelParams& p, float* frames, cudaStream_t stream);

// Power + mel + log from the R2C output: spectrum (total_frames, p.n_freqs), out (total_frames, n_mels).
void launch_logmel_power_mel_log(const cufftComplex* spectrum, std::int64_t total_frames, const LogMelParams& p,
                                 float* out, cudaStream_t stream);

// The whole path with its own tables, scratch buffers and batched R2C plans (cached per batch size,
// the most recent kCachedPlans kept). Not thread-safe; one instance per stream.
class LogMelCufft {
 public:
  explicit LogMelCufft(const LogMelConfig& cfg);
  LogMelCufft(const LogMelCufft&) = delete;
  LogMelCufft& operator=(const LogMelCufft&) = delete;
  ~LogMelCufft();

  const LogMelTables& tables() const { return tables_; }
  // out: (batch.total_frames, n_mels) on the device. Asynchronous on `stream`.
  void run(const FrameBatch& batch, float* out, cudaStream_t stream);

 private:
  static constexpr std::size_t kCachedPlans = 4;
  struct Plan {
    std::int64_t batch = 0;
    cufftHandle handle = 0;
  };
  cufftHandle plan_for(std::int64_t frames, cudaStream_t stream);

  LogMelTables tables_;
  DeviceBuffer<float> frames_;           // (total_frames, n_fft)
  DeviceBuffer<cufftComplex> spectrum_;  // (total_frames, n_freqs)
  std::vector<Plan> plans_;              // most recently used last
};

}  // namespace ser::cuda
