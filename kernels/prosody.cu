// kernels/prosody.cu — the prosody frame-measure kernel. See prosody.cuh for the contract and
// docs/prosody.md for the definitions; the CPU twin is src/features/prosody_measures.cpp.
//
// Kernel design (prosody_measures_kernel): one block of kThreads = 256 threads per frame.
//  1. the frame's L = W + tau_max samples into shared memory (zero outside the utterance);
//  2. threads over lags: d(tau) = sum_{j<W} (x[j0+j] - x[j0+j+tau])^2, j0 = (tau_max - tau) / 2, in
//     float with j ascending and no contraction (__fsub_rn/__fmul_rn/__fadd_rn), so d is bit-identical
//     to the CPU twin's;
//  3. block-wide exclusive scan (warp shuffles + per-warp totals) of d in double -> CMND d'(tau);
//  4. selection: block min-reduction for the first lag >= tau_min under yin_threshold (then thread 0
//     walks to the local minimum), else a block arg-min (first lag on ties); parabolic refinement;
//  5. one combined block reduction for periodicity (three double sums), RMS (double), zero crossings
//     (int) and peak (float max); thread 0 writes the row.
// Shared memory: (tau_max + 1) doubles (CMND) + (tau_max + 1) floats (d) + L floats (samples):
// 4.9 KiB at the defaults (16 kHz, 75..550 Hz, W = 400); above 48 KiB the launcher opts in.
#include <algorithm>
#include <cfloat>
#include <climits>
#include <string>

#include "prosody.cuh"
#include "ser/error.hpp"
#include "ser/prosody.hpp"

namespace ser::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr std::size_t kDefaultSharedLimit = 48 * 1024;

// Per-thread partial results of step 5.
struct Partial {
  double r, e0, e1, ss;  // sum x_j x_{j+T}, sum x_j^2, sum x_{j+T}^2 (periodicity); sum x^2 (rms)
  int zc;                // zero crossings
  float peak;            // max |x|
};

__device__ __forceinline__ Partial warp_reduce(Partial v) {
  for (int o = 16; o > 0; o >>= 1) {
    v.r += __shfl_down_sync(kFullMask, v.r, o);
    v.e0 += __shfl_down_sync(kFullMask, v.e0, o);
    v.e1 += __shfl_down_sync(kFullMask, v.e1, o);
    v.ss += __shfl_down_sync(kFullMask, v.ss, o);
    v.zc += __shfl_down_sync(kFullMask, v.zc, o);
    v.peak = fmaxf(v.peak, __shfl_down_sync(kFullMask, v.peak, o));
  }
  return v;
}

// Smallest int over the block; every thread gets it. scratch: kWarps ints.
__device__ __forceinline__ int block_min_int(int v, int* scratch) {
  for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_down_sync(kFullMask, v, o));
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;
  __syncthreads();
  int m = scratch[0];
  for (int w = 1; w < kWarps; ++w) m = min(m, scratch[w]);
  __syncthreads();
  return m;
}

// Arg-min over the block of (value, index), the smaller index on ties; every thread gets the index.
__device__ __forceinline__ int block_argmin(double v, int i, double* vscratch, int* iscratch) {
  for (int o = 16; o > 0; o >>= 1) {
    const double ov = __shfl_down_sync(kFullMask, v, o);
    const int oi = __shfl_down_sync(kFullMask, i, o);
    if (ov < v || (ov == v && oi < i)) {
      v = ov;
      i = oi;
    }
  }
  if ((threadIdx.x & 31) == 0) {
    vscratch[threadIdx.x >> 5] = v;
    iscratch[threadIdx.x >> 5] = i;
  }
  __syncthreads();
  double bv = vscratch[0];
  int bi = iscratch[0];
  for (int w = 1; w < kWarps; ++w)
    if (vscratch[w] < bv || (vscratch[w] == bv && iscratch[w] < bi)) {
      bv = vscratch[w];
      bi = iscratch[w];
    }
  __syncthreads();
  return bi;
}

__device__ __forceinline__ float sample_at(const float* __restrict__ x, std::int64_t n, std::int64_t i) {
  return (i >= 0 && i < n) ? __ldg(x + i) : 0.0f;
}

__global__ void __launch_bounds__(kThreads)
prosody_measures_kernel(FrameBatch batch, ProsodyParams p, float* __restrict__ out) {
  extern __shared__ double smem[];
  const int tm = p.tau_max, W = p.yin_window, L = p.frame_len;
  double* cmnd = smem;                                   // (tau_max + 1,) d'(tau)
  float* d = reinterpret_cast<float*>(cmnd + tm + 1);    // (tau_max + 1,) difference function
  float* xs = d + tm + 1;                                // (L,) frame samples
  __shared__ double s_wsum[kWarps];
  __shared__ double s_vscratch[kWarps];
  __shared__ int s_iscratch[kWarps];
  __shared__ Partial s_partial[kWarps];
  __shared__ int s_best;

  const std::int64_t f = blockIdx.x;
  if (f >= batch.total_frames) return;  // whole block leaves together
  float* row = out + f * kFrameMeasures;  // (kFrameMeasures,)
  const int u = batch.frame_utt[f];
  if (u < 0 || u >= batch.n_utt) {  // corrupt map: leave a visible mark, never read out of bounds
    if (threadIdx.x < kFrameMeasures) row[threadIdx.x] = __int_as_float(0x7fc00000);
    return;
  }
  const std::int64_t s0 = batch.sample_offsets[u];
  const std::int64_t n = batch.sample_offsets[u + 1] - s0;
  const std::int64_t t = f - batch.frame_offsets[u];
  const float* x = batch.samples + s0;
  const std::int64_t c = t * p.hop + p.centre_offset;
  const std::int64_t x0 = c - L / 2;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

  // 1. frame samples.
  for (int j = threadIdx.x; j < L; j += kThreads) xs[j] = sample_at(x, n, x0 + j);
  __syncthreads();

  // 2. difference function, one lag per thread, bit-identical to the CPU twin.
  if (threadIdx.x == 0) d[0] = 0.0f;
  for (int tau = 1 + threadIdx.x; tau <= tm; tau += kThreads) {
    const int j0 = (tm - tau) / 2;
    const float* a = xs + j0;
    const float* b = xs + j0 + tau;
    float acc = 0.0f;
    for (int j = 0; j < W; ++j) {
      const float diff = __fsub_rn(a[j], b[j]);
      acc = __fadd_rn(acc, __fmul_rn(diff, diff));
    }
    d[tau] = acc;
  }
  __syncthreads();

  // 3. cumulative mean normalisation: each thread scans a contiguous chunk of lags 1..tau_max.
  const int chunk = (tm + kThreads - 1) / kThreads;
  const int lo = 1 + threadIdx.x * chunk;
  const int hi = min(tm, lo + chunk - 1);
  double local = 0.0;
  for (int tau = lo; tau <= hi; ++tau) local += static_cast<double>(d[tau]);
  double incl = local;
  for (int o = 1; o < 32; o <<= 1) {
    const double y = __shfl_up_sync(kFullMask, incl, o);
    if (lane >= o) incl += y;
  }
  double excl = __shfl_up_sync(kFullMask, incl, 1);
  if (lane == 0) excl = 0.0;
  if (lane == 31) s_wsum[warp] = incl;
  __syncthreads();
  double cum = 0.0, total = 0.0;
  for (int w = 0; w < kWarps; ++w) {
    if (w < warp) cum += s_wsum[w];
    total += s_wsum[w];
  }
  cum += excl;
  if (threadIdx.x == 0) cmnd[0] = 1.0;
  for (int tau = lo; tau <= hi; ++tau) {
    cum += static_cast<double>(d[tau]);
    cmnd[tau] = cum > 0.0 ? static_cast<double>(d[tau]) * tau / cum : 1.0;
  }
  __syncthreads();

  // 4. selection (block-uniform branches: total and first are the same in every thread).
  if (total > 0.0) {
    int first = INT_MAX;
    for (int tau = p.tau_min + threadIdx.x; tau <= tm; tau += kThreads)
      if (cmnd[tau] < p.yin_threshold) {
        first = tau;
        break;
      }
    first = block_min_int(first, s_iscratch);
    int best = first;
    if (first == INT_MAX) {
      double bv = DBL_MAX;
      int bi = INT_MAX;
      for (int tau = p.tau_min + threadIdx.x; tau <= tm; tau += kThreads)
        if (cmnd[tau] < bv) {
          bv = cmnd[tau];
          bi = tau;
        }
      best = block_argmin(bv, bi, s_vscratch, s_iscratch);
    }
    if (threadIdx.x == 0) {
      if (first != INT_MAX)
        while (best + 1 <= tm && cmnd[best + 1] < cmnd[best]) ++best;
      double delta = 0.0;
      if (best < tm) {
        const double a = cmnd[best - 1], b = cmnd[best], cc = cmnd[best + 1];
        const double den = __dadd_rn(__dsub_rn(a, __dmul_rn(2.0, b)), cc);
        if (den > 0.0) delta = fmin(fmax(__dmul_rn(0.5, __dsub_rn(a, cc)) / den, -1.0), 1.0);
      }
      row[kMeasurePeriod] = static_cast<float>(__dadd_rn(static_cast<double>(best), delta));
      row[kMeasureCmnd] = static_cast<float>(cmnd[best]);
      s_best = best;
    }
  } else if (threadIdx.x == 0) {  // silent or constant frame: no lag qualified
    row[kMeasurePeriod] = 0.0f;
    row[kMeasureCmnd] = 1.0f;
    s_best = -1;
  }
  __syncthreads();
  const int best = s_best;

  // 5. periodicity, rms, zcr, peak.
  Partial v{0.0, 0.0, 0.0, 0.0, 0, 0.0f};
  if (best > 0) {
    const int j0 = (tm - best) / 2;
    for (int j = j0 + threadIdx.x; j < j0 + W; j += kThreads) {
      const double a = xs[j], b = xs[j + best];
      v.r += a * b;
      v.e0 += a * a;
      v.e1 += b * b;
    }
  }
  const std::int64_t w0 = c - p.win_length / 2;
  for (int j = threadIdx.x; j < p.win_length; j += kThreads) {
    const double s = sample_at(x, n, w0 + j);
    v.ss += s * s;
    if (j > 0) v.zc += (sample_at(x, n, w0 + j - 1) < 0.0f) != (s < 0.0) ? 1 : 0;
  }
  const bool periodic = best > 0 && cmnd[best] < p.voicing_threshold;
  const int span = periodic ? best : W;
  const std::int64_t p0 = c - span / 2;
  for (int j = threadIdx.x; j < span; j += kThreads) v.peak = fmaxf(v.peak, fabsf(sample_at(x, n, p0 + j)));
  v = warp_reduce(v);
  if (lane == 0) s_partial[warp] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    Partial s = s_partial[0];
    for (int w = 1; w < kWarps; ++w) {
      s.r += s_partial[w].r;
      s.e0 += s_partial[w].e0;
      s.e1 += s_partial[w].e1;
      s.ss += s_partial[w].ss;
      s.zc += s_partial[w].zc;
      s.peak = fmaxf(s.peak, s_partial[w].peak);
    }
    float periodicity = 0.0f;
    if (best > 0) {
      const double den = sqrt(s.e0 * s.e1);
      periodicity = den > 0.0 ? static_cast<float>(fmin(fmax(s.r / den, -1.0), 1.0)) : 0.0f;
    }
    row[kMeasurePeriodicity] = periodicity;
    row[kMeasureRms] = static_cast<float>(sqrt(s.ss / p.win_length));
    row[kMeasureZcr] = p.win_length > 1 ? static_cast<float>(s.zc) / static_cast<float>(p.win_length - 1) : 0.0f;
    row[kMeasurePeak] = s.peak;
  }
}

}  // namespace

ProsodyParams make_prosody_params(const LogMelConfig& lm, const ProsodyConfig& pc) {
  lm.validate();
  pc.validate(lm.sample_rate);
  ProsodyParams p;
  p.hop = lm.hop_length;
  p.centre_offset = lm.center ? 0 : lm.n_fft / 2;
  p.win_length = lm.win_length;
  p.yin_window = pc.yin_window;
  p.tau_min = pc.tau_min(lm.sample_rate);
  p.tau_max = pc.tau_max(lm.sample_rate);
  p.frame_len = p.yin_window + p.tau_max;
  p.yin_threshold = pc.yin_threshold;
  p.voicing_threshold = pc.voicing_threshold;
  if (p.tau_min < 1 || p.tau_max < p.tau_min + 1)
    throw Error("prosody kernel: invalid lag range " + std::to_string(p.tau_min) + ".." + std::to_string(p.tau_max));
  return p;
}

int prosody_threads(const ProsodyParams&) { return kThreads; }

std::size_t prosody_shared_bytes(const ProsodyParams& p) {
  const auto lags = static_cast<std::size_t>(p.tau_max) + 1;
  return lags * sizeof(double) + lags * sizeof(float) + static_cast<std::size_t>(p.frame_len) * sizeof(float);
}

void launch_prosody_measures(const FrameBatch& batch, const ProsodyParams& p, float* out, cudaStream_t stream) {
  if (batch.total_frames <= 0) return;
  if (batch.total_frames > INT32_MAX)
    throw Error("launch_prosody_measures: " + std::to_string(batch.total_frames) + " frames exceed one grid");
  if (!batch.samples || !batch.sample_offsets || !batch.frame_offsets || !batch.frame_utt || !out)
    throw Error("launch_prosody_measures: null batch or output pointer");
  if (p.tau_min < 1 || p.tau_max <= p.tau_min || p.yin_window < 1 || p.frame_len != p.yin_window + p.tau_max ||
      p.win_length < 1 || p.hop < 1)
    throw Error("launch_prosody_measures: invalid parameters (use make_prosody_params)");
  const std::size_t shared = prosody_shared_bytes(p);
  if (shared > kDefaultSharedLimit)
    SER_CUDA_CHECK(cudaFuncSetAttribute(prosody_measures_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(shared)));
  const dim3 grid(static_cast<unsigned>(batch.total_frames));
  prosody_measures_kernel<<<grid, kThreads, shared, stream>>>(batch, p, out);
  SER_CUDA_CHECK_LAUNCH("prosody_measures_kernel");
}

void launch_prosody_measures(const FrameBatch& batch, const LogMelConfig& lm, const ProsodyConfig& pc, float* out,
                             cudaStream_t stream) {
  launch_prosody_measures(batch, make_prosody_params(lm, pc), out, stream);
}

}  // namespace ser::cuda
