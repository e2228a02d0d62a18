// kernels/logmel_cufft.cu — framing kernel + cuFFT R2C + power/mel/log kernel (comparison path).
#include <algorithm>
#include <string>

#include "logmel_cufft.cuh"

namespace ser::cuda {

const char* cufft_result_name(cufftResult r) {
  switch (r) {
    case CUFFT_SUCCESS: return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN: return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED: return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_TYPE: return "CUFFT_INVALID_TYPE";
    case CUFFT_INVALID_VALUE: return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR: return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED: return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED: return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE: return "CUFFT_INVALID_SIZE";
    case CUFFT_UNALIGNED_DATA: return "CUFFT_UNALIGNED_DATA";
    case CUFFT_INVALID_DEVICE: return "CUFFT_INVALID_DEVICE";
    case CUFFT_NO_WORKSPACE: return "CUFFT_NO_WORKSPACE";
    case CUFFT_NOT_IMPLEMENTED: return "CUFFT_NOT_IMPLEMENTED";
    case CUFFT_NOT_SUPPORTED: return "CUFFT_NOT_SUPPORTED";
    default: return "cufftResult (unlisted)";
  }
}

void cufft_check(cufftResult r, const char* what) {
  if (r != CUFFT_SUCCESS)
    throw Error(std::string("cuFFT error: ") + what + " -> " + cufft_result_name(r) + " (" +
                std::to_string(static_cast<int>(r)) + ")");
}

namespace {
constexpr int kThreads = 128;
}  // namespace

// Kernels outside the anonymous namespace: profilers show them as ser::cuda::logmel_*_kernel.

__global__ void __launch_bounds__(kThreads)
logmel_frame_window_kernel(FrameBatch batch, LogMelParams p, float* __restrict__ frames) {
  const std::int64_t f = blockIdx.x;
  if (f >= batch.total_frames) return;
  float* dst = frames + f * p.n_fft;
  const int u = batch.frame_utt[f];
  if (u < 0 || u >= batch.n_utt) {  // corrupt map: NaN frame, never read out of bounds
    for (int j = threadIdx.x; j < p.n_fft; j += blockDim.x) dst[j] = __int_as_float(0x7fc00000);
    return;
  }
  const std::int64_t s0 = batch.sample_offsets[u];
  const std::int64_t n = batch.sample_offsets[u + 1] - s0;
  const std::int64_t t = f - batch.frame_offsets[u];
  const float* x = batch.samples + s0;
  const LogMelFrameSpan span = logmel_frame_span(t, n, p);
  for (int j = threadIdx.x; j < p.n_fft; j += blockDim.x) dst[j] = logmel_framed_sample(x, n, span, j, p);
}

__global__ void __launch_bounds__(kThreads)
logmel_power_mel_log_kernel(const cufftComplex* __restrict__ spectrum, std::int64_t total_frames,
                            LogMelParams p, float* __restrict__ out) {
  extern __shared__ float spec[];  // (n_freqs,)
  const std::int64_t f = blockIdx.x;
  if (f >= total_frames) return;
  const cufftComplex* X = spectrum + f * p.n_freqs;
  for (int k = threadIdx.x; k < p.n_freqs; k += blockDim.x) {
    const cufftComplex v = X[k];
    spec[k] = logmel_bin_power(v.x, v.y, p.power);
  }
  __syncthreads();
  logmel_mel_log_row(spec, p, out + f * p.n_mels);
}

namespace {
void check_grid(std::int64_t frames, const char* who) {
  if (frames > INT32_MAX)
    throw Error(std::string(who) + ": " + std::to_string(frames) + " frames exceed one grid");
}
}  // namespace

void launch_logmel_frame_window(const FrameBatch& batch, const LogMelParams& p, float* frames, cudaStream_t stream) {
  if (batch.total_frames <= 0) return;
  check_grid(batch.total_frames, "launch_logmel_frame_window");
  if (!batch.samples || !batch.sample_offsets || !batch.frame_offsets || !batch.frame_utt || !frames)
    throw Error("launch_logmel_frame_window: null batch or output pointer");
  logmel_frame_window_kernel<<<static_cast<unsigned>(batch.total_frames), kThreads, 0, stream>>>(batch, p, frames);
  SER_CUDA_CHECK_LAUNCH("logmel_frame_window_kernel");
}

void launch_logmel_power_mel_log(const cufftComplex* spectrum, std::int64_t total_frames, const LogMelParams& p,
                                 float* out, cudaStream_t stream) {
  if (total_frames <= 0) return;
  check_grid(total_frames, "launch_logmel_power_mel_log");
  if (!spectrum || !out) throw Error("launch_logmel_power_mel_log: null spectrum or output pointer");
  const std::size_t shared = static_cast<std::size_t>(p.n_freqs) * sizeof(float);
  logmel_power_mel_log_kernel<<<static_cast<unsigned>(total_frames), kThreads, shared, stream>>>(spectrum, total_frames,
                                                                                                p, out);
  SER_CUDA_CHECK_LAUNCH("logmel_power_mel_log_kernel");
}

LogMelCufft::LogMelCufft(const LogMelConfig& cfg) : tables_(cfg) {}

LogMelCufft::~LogMelCufft() {
  for (const Plan& pl : plans_) cufftDestroy(pl.handle);
}

cufftHandle LogMelCufft::plan_for(std::int64_t frames, cudaStream_t stream) {
  for (std::size_t i = 0; i < plans_.size(); ++i) {
    if (plans_[i].batch == frames) {
      std::rotate(plans_.begin() + static_cast<std::ptrdiff_t>(i), plans_.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                  plans_.end());
      return plans_.back().handle;
    }
  }
  if (plans_.size() >= kCachedPlans) {
    // The oldest plan may still be queued on the stream: wait before destroying it.
    SER_CUDA_CHECK(cudaStreamSynchronize(stream));
    cufftDestroy(plans_.front().handle);
    plans_.erase(plans_.begin());
  }
  cufftHandle h = 0;
  cufft_check(cufftCreate(&h), "cufftCreate");
  long long n[1] = {tables_.params().n_fft};
  std::size_t work = 0;
  const cufftResult r = cufftMakePlanMany64(h, 1, n, nullptr, 1, tables_.params().n_fft, nullptr, 1,
                                            tables_.params().n_freqs, CUFFT_R2C, frames, &work);
  if (r != CUFFT_SUCCESS) {
    cufftDestroy(h);
    cudaGetLastError();
    if (r == CUFFT_ALLOC_FAILED)
      throw Error("cuFFT: cannot allocate the work area of a batched R2C plan (n_fft " +
                  std::to_string(tables_.params().n_fft) + ", " + std::to_string(frames) +
                  " frames requested); " + device_memory_summary() + ". Use smaller batches.");
    cufft_check(r, "cufftMakePlanMany64 (batched R2C)");
  }
  plans_.push_back({frames, h});
  return h;
}

void LogMelCufft::run(const FrameBatch& batch, float* out, cudaStream_t stream) {
  const std::int64_t frames = batch.total_frames;
  if (frames <= 0) return;
  const LogMelParams& p = tables_.params();
  frames_.reserve(static_cast<std::size_t>(frames) * p.n_fft, "cuFFT input frames", frames);
  spectrum_.reserve(static_cast<std::size_t>(frames) * p.n_freqs, "cuFFT spectra", frames);
  const cufftHandle plan = plan_for(frames, stream);
  cufft_check(cufftSetStream(plan, stream), "cufftSetStream");
  launch_logmel_frame_window(batch, p, frames_.data(), stream);
  cufft_check(cufftExecR2C(plan, frames_.data(), spectrum_.data()), "cufftExecR2C");
  launch_logmel_power_mel_log(spectrum_.data(), frames, p, out, stream);
}

}  // namespace ser::cuda
