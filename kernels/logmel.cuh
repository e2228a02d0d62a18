// kernels/logmel.cuh — the hand-written GPU log-mel front-end (fused frame + window + FFT + power +
// mel + log, one thread block per frame) and the host-side pieces every GPU front-end path shares:
// RAII owners for device/pinned memory and streams, the device copies of the log-mel tables, and
// the packing of a batch of utterances into a FrameBatch.
//
// CPU twin: ser::LogMelCpu (include/ser/logmel.hpp). Test: tests/test_logmel_cuda.cpp.
// Host-only declarations (plus one __host__ __device__ helper), so C++ files may include it.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cuda_check.cuh"
#include "frontend_batch.cuh"
#include "ser/feature_config.hpp"
#include "ser/host_device.hpp"

namespace ser::cuda {

// ---- framing ------------------------------------------------------------------------------------

// Device mirror of ser::padded_index (src/features/logmel_cpu.cpp): the sample that framed position
// p (0 <= p < n + 2*pad) reads; -1 means zero (constant padding). Reflect mirrors about the edge
// samples without repeating them (numpy/torch "reflect"), valid for n > pad as min_samples() demands.
// tests/test_logmel_cuda.cpp checks it against ser::padded_index on the host.
SER_HD std::int64_t padded_index_dev(std::int64_t p, std::int64_t n, std::int64_t pad, PadMode mode) {
  std::int64_t i = p - pad;
  if (i >= 0 && i < n) return i;
  if (mode == PadMode::constant) return -1;
  if (i < 0) i = -i;
  if (i >= n) i = 2 * (n - 1) - i;
  return (i >= 0 && i < n) ? i : -1;
}

// ---- RAII owners --------------------------------------------------------------------------------

// Bytes free / total on the current device, "F MiB free of T MiB" (for out-of-memory messages).
std::string device_memory_summary();

// Throw ser::Error for a failed device (cudaMalloc) or pinned host (cudaMallocHost) allocation:
// what was being allocated, how many bytes, for how many frames, and the free device memory.
// Clears the CUDA error state first.
[[noreturn]] void throw_device_alloc_error(cudaError_t err, std::size_t bytes, const char* what,
                                           std::int64_t frames);
[[noreturn]] void throw_pinned_alloc_error(cudaError_t err, std::size_t bytes, const char* what);

// Device array that only grows. reserve() discards the contents when it reallocates; on failure it
// throws ser::Error naming `what`, the frames requested and the free device memory.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), cap_(std::exchange(o.cap_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      cap_ = std::exchange(o.cap_, 0);
    }
    return *this;
  }
  ~DeviceBuffer() { release(); }

  void reserve(std::size_t count, const char* what, std::int64_t frames) {
    if (count <= cap_) return;
    release();
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, count * sizeof(T));
    if (err != cudaSuccess) throw_device_alloc_error(err, count * sizeof(T), what, frames);
    ptr_ = static_cast<T*>(p);
    cap_ = count;
  }
  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  std::size_t capacity() const { return cap_; }

 private:
  void release() noexcept {
    if (ptr_) cudaFree(ptr_);  // destructor path: nothing useful to do with an error here
    ptr_ = nullptr;
    cap_ = 0;
  }
  T* ptr_ = nullptr;
  std::size_t cap_ = 0;
};

// Page-locked host array (staging for asynchronous copies) that only grows; contents discarded
// when it reallocates. Never reallocate while a copy from/to it may still be running.
template <typename T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer() { release(); }

  void reserve(std::size_t count, const char* what) {
    if (count <= cap_) return;
    release();
    void* p = nullptr;
    const cudaError_t err = cudaMallocHost(&p, count * sizeof(T));
    if (err != cudaSuccess) throw_pinned_alloc_error(err, count * sizeof(T), what);
    ptr_ = static_cast<T*>(p);
    cap_ = count;
  }
  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  std::size_t capacity() const { return cap_; }

 private:
  void release() noexcept {
    if (ptr_) cudaFreeHost(ptr_);
    ptr_ = nullptr;
    cap_ = 0;
  }
  T* ptr_ = nullptr;
  std::size_t cap_ = 0;
};

// A non-blocking stream of our own.
class Stream {
 public:
  Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream();
  cudaStream_t get() const { return stream_; }
  void synchronize() const;

 private:
  cudaStream_t stream_ = nullptr;
};

// ---- batch packing ------------------------------------------------------------------------------

// Where utterances and frames lie in a packed batch (host side).
struct BatchLayout {
  std::vector<std::int64_t> sample_offsets;  // (n_utt + 1,)
  std::vector<std::int64_t> frame_offsets;   // (n_utt + 1,)
  std::int64_t total_samples = 0;
  std::int64_t total_frames = 0;
  int n_utt() const { return static_cast<int>(sample_offsets.size()) - 1; }
};

// Offsets for `lengths` (samples per utterance) under cfg's framing. Throws ser::Error naming the
// utterance when one is shorter than cfg.min_samples().
BatchLayout plan_batch(const std::vector<std::int64_t>& lengths, const LogMelConfig& cfg);

// Device copy of a packed batch: samples back to back (optionally a second, raw copy for the
// prosody kernel), offsets, frame -> utterance map. Buffers grow and are reused across uploads.
class DeviceFrameBatch {
 public:
  // Packs `utts` (and `raw`, when not null: same lengths, the unconditioned samples) into pinned
  // staging and copies them to the device on `stream`. The copies are asynchronous: synchronise
  // `stream` before the next upload (the staging buffers are reused).
  void upload(const std::vector<std::vector<float>>& utts, const std::vector<std::vector<float>>* raw,
              const LogMelConfig& cfg, cudaStream_t stream);
  const BatchLayout& layout() const { return layout_; }
  FrameBatch batch() const;      // conditioned samples
  FrameBatch raw_batch() const;  // raw samples (the conditioned ones when upload() got no raw)

 private:
  BatchLayout layout_;
  bool has_raw_ = false;
  PinnedBuffer<float> h_samples_, h_raw_;
  PinnedBuffer<std::int64_t> h_offsets_;  // sample offsets then frame offsets
  PinnedBuffer<std::int32_t> h_frame_utt_;
  DeviceBuffer<float> d_samples_, d_raw_;
  DeviceBuffer<std::int64_t> d_offsets_;
  DeviceBuffer<std::int32_t> d_frame_utt_;
};

// ---- log-mel tables and the fused kernel ----------------------------------------------------------

// Everything a log-mel kernel needs, as plain values and device pointers (passed by value).
struct LogMelParams {
  int n_fft = 0;
  int half = 0;       // n_fft / 2: size of the packed complex FFT
  int log2_half = 0;  // log2(half)
  int hop = 0;
  std::int64_t pad = 0;  // n_fft / 2 when centred, else 0
  PadMode pad_mode = PadMode::reflect;
  int power = 2;  // 1: magnitude, 2: power
  int n_mels = 0;
  int n_freqs = 0;  // n_fft / 2 + 1
  float log_offset = 1e-6f;
  const float* window = nullptr;        // (n_fft,) padded window
  const float2* twiddle = nullptr;      // (half / 2,) exp(-2 pi i k / half)
  const float2* post_twiddle = nullptr; // (half,) exp(-2 pi i k / n_fft), splits the packed transform
  const int* mel_first = nullptr;       // (n_mels,) first bin of band m
  const int* mel_nbins = nullptr;       // (n_mels,) bins in band m
  const int* mel_offset = nullptr;      // (n_mels,) start of band m in mel_weights
  const float* mel_weights = nullptr;   // (sum of n_bins,)
};

// Device copies of the window (make_padded_window), the FFT twiddles (computed in double, stored as
// float) and the sparse mel filterbank (MelFilterbank::build). Uploaded once, synchronously.
class LogMelTables {
 public:
  explicit LogMelTables(const LogMelConfig& cfg);  // validates cfg; throws ser::Error
  const LogMelParams& params() const { return params_; }
  const LogMelConfig& config() const { return cfg_; }

 private:
  LogMelConfig cfg_;
  LogMelParams params_;
  DeviceBuffer<float> window_, weights_;
  DeviceBuffer<float2> twiddle_, post_twiddle_;
  DeviceBuffer<int> mel_index_;  // first | n_bins | offset, n_mels each
};

// Threads per block and dynamic shared memory of the fused kernel for these params.
int logmel_fused_threads(const LogMelParams& p);
std::size_t logmel_fused_shared_bytes(const LogMelParams& p);

// Fused log-mel: out (batch.total_frames, n_mels) row-major, row f = frame f of the batch.
// One block per frame; asynchronous on `stream`; launch checked.
void launch_logmel_fused(const FrameBatch& batch, const LogMelParams& p, float* out, cudaStream_t stream);

// ---- device building blocks shared by the fused kernel and the cuFFT path (CUDA code only) ------
#ifdef __CUDACC__

// Where frame t of an utterance of n samples starts, and whether it lies wholly inside the signal
// (then no padding rule is needed). Uniform across a block.
struct LogMelFrameSpan {
  std::int64_t t = 0;      // frame index within the utterance
  std::int64_t first = 0;  // sample index of the frame's first position (negative when padded)
  bool interior = false;
};

__device__ __forceinline__ LogMelFrameSpan logmel_frame_span(std::int64_t t, std::int64_t n, const LogMelParams& p) {
  LogMelFrameSpan s;
  s.t = t;
  s.first = t * p.hop - p.pad;
  s.interior = s.first >= 0 && s.first + p.n_fft <= n;
  return s;
}

// Sample j (0 <= j < n_fft) of the frame, windowed: x[first + j] inside the signal, else the
// padding rule of padded_index (reflect, or zero for constant).
__device__ __forceinline__ float logmel_framed_sample(const float* __restrict__ x, std::int64_t n,
                                                      const LogMelFrameSpan& s, int j, const LogMelParams& p) {
  float v;
  if (s.interior) {
    v = __ldg(x + s.first + j);
  } else {
    const std::int64_t i = padded_index_dev(s.t * p.hop + j, n, p.pad, p.pad_mode);
    v = (i >= 0 && i < n) ? __ldg(x + i) : 0.0f;
  }
  return v * __ldg(p.window + j);
}

// |X|^power of one bin.
__device__ __forceinline__ float logmel_bin_power(float re, float im, int power) {
  const float p2 = re * re + im * im;
  return power == 2 ? p2 : sqrtf(p2);
}

// Sparse mel projection + log of one frame: spec (n_freqs,) in shared memory -> row (n_mels,).
// Band m is a dot product over its own bins, summed in bin order as the CPU twin sums it.
__device__ __forceinline__ void logmel_mel_log_row(const float* spec, const LogMelParams& p,
                                                   float* __restrict__ row) {
  for (int m = threadIdx.x; m < p.n_mels; m += blockDim.x) {
    const int first = __ldg(p.mel_first + m);
    const int nb = __ldg(p.mel_nbins + m);
    const float* w = p.mel_weights + __ldg(p.mel_offset + m);
    float acc = 0.0f;
    for (int b = 0; b < nb; ++b) acc += __ldg(w + b) * spec[first + b];
    row[m] = logf(acc + p.log_offset);
  }
}

#endif  // __CUDACC__

}  // namespace ser::cuda
