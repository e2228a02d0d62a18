// kernels/softmax_xent.cu — softmax cross-entropy fused with its gradient, one kernel. See
// softmax_xent.cuh; the CPU twin is src/nn/ops/softmax_xent_cpu.cpp.
//
// Design: a single block of kThreads does the whole batch (the loss is a few hundred rows of a few
// classes; one block makes the batch sum deterministic without a second kernel or a workspace).
// Phase 1: every thread checks a strided set of labels (remembering the first bad row) and sums the
// label weights in double; block-reduced in a fixed order. A bad label: the kernel reports the first
// bad row and stops. Phase 2: one warp per row (row r -> warp r % warps): row max (exact, any order),
// Σ exp(z - max) by lane-strided sums and a butterfly (every lane holds the same value), per-row loss
// log(Σ) - (z_y - max), weighted and summed in double per warp, then over warps in order.
// probs = exp(z - max) / Σ; dlogits = (p - onehot) * (w_y / Σ_n w_yn). The result (loss numerator,
// weight sum, bad row and label) goes to a small stream-ordered allocation and is copied back.
#include <cfloat>
#include <cstdint>
#include <string>

#include "cuda_check.cuh"
#include "ser/error.hpp"
#include "softmax_xent.cuh"

namespace ser::cuda {

namespace {

constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / 32;

struct XentResult {
  double num;         // Σ_n w[y_n] * loss_n
  double den;         // Σ_n w[y_n]
  int bad_row;        // first row with a label outside [0, K), or -1
  int bad_label;
};

__device__ __forceinline__ float warp_max_all(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float warp_sum_all(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ double warp_sum_down(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ int warp_min_down(int v) {
  for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_down_sync(0xffffffffu, v, o));
  return v;
}

__global__ void __launch_bounds__(kThreads)
softmax_xent_fused_kernel(int n, int k, const float* __restrict__ logits, const std::int32_t* __restrict__ labels,
                          const float* __restrict__ class_weights, float* __restrict__ dlogits,
                          float* __restrict__ probs, XentResult* __restrict__ result) {
  __shared__ double wsum_w[kWarps];
  __shared__ int bad_w[kWarps];
  __shared__ double loss_w[kWarps];
  __shared__ double wsum_s;
  __shared__ int bad_s;
  const int lane = static_cast<int>(threadIdx.x & 31), warp = static_cast<int>(threadIdx.x >> 5);

  // Phase 1: labels and the weight sum.
  double ws = 0.0;
  int bad = n;  // n = none
  for (int r = static_cast<int>(threadIdx.x); r < n; r += kThreads) {
    const int y = labels[r];
    if (y < 0 || y >= k) bad = min(bad, r);
    else ws += class_weights ? static_cast<double>(class_weights[y]) : 1.0;
  }
  ws = warp_sum_down(ws);
  bad = warp_min_down(bad);
  if (lane == 0) {
    wsum_w[warp] = ws;
    bad_w[warp] = bad;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double t = 0.0;
    int b = n;
    for (int q = 0; q < kWarps; ++q) {
      t += wsum_w[q];
      b = min(b, bad_w[q]);
    }
    wsum_s = t;
    bad_s = b;
  }
  __syncthreads();
  const double den = wsum_s;
  if (bad_s < n) {  // uniform: every thread read the same shared value
    if (threadIdx.x == 0) *result = XentResult{0.0, 0.0, bad_s, labels[bad_s]};
    return;
  }

  // Phase 2: one warp per row.
  double acc = 0.0;  // lane 0: this warp's Σ w * loss
  for (int r = warp; r < n; r += kWarps) {
    const std::int64_t off = static_cast<std::int64_t>(r) * k;
    const float* z = logits + off;  // (K)
    float mx = -FLT_MAX;
    for (int j = lane; j < k; j += 32) mx = fmaxf(mx, z[j]);
    mx = warp_max_all(mx);
    float se = 0.0f;
    for (int j = lane; j < k; j += 32) se += expf(z[j] - mx);
    se = warp_sum_all(se);
    const int y = labels[r];
    const float wr = class_weights ? class_weights[y] : 1.0f;
    if (lane == 0) acc += static_cast<double>(wr) * static_cast<double>(logf(se) - (z[y] - mx));
    if (!dlogits && !probs) continue;
    const float scale = static_cast<float>(static_cast<double>(wr) / den);
    for (int j = lane; j < k; j += 32) {
      const float p = expf(z[j] - mx) / se;
      if (probs) probs[off + j] = p;
      if (dlogits) dlogits[off + j] = (p - (j == y ? 1.0f : 0.0f)) * scale;
    }
  }
  if (lane == 0) loss_w[warp] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    double t = 0.0;
    for (int q = 0; q < kWarps; ++q) t += loss_w[q];
    *result = XentResult{t, den, -1, 0};
  }
}

// Device memory from the stream-ordered allocator, freed on the stream when the scope ends.
class StreamAlloc {
 public:
  StreamAlloc(std::size_t bytes, cudaStream_t stream) : stream_(stream) {
    SER_CUDA_CHECK(cudaMallocAsync(&ptr_, bytes, stream));
  }
  ~StreamAlloc() { cudaFreeAsync(ptr_, stream_); }
  StreamAlloc(const StreamAlloc&) = delete;
  StreamAlloc& operator=(const StreamAlloc&) = delete;
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  cudaStream_t stream_;
};

}  // namespace

double launch_softmax_xent(int n, int k, const float* logits, const std::int32_t* labels, const float* class_weights,
                           float* dlogits, float* probs, cudaStream_t stream) {
  if (n == 0) return 0.0;
  StreamAlloc slot(sizeof(XentResult), stream);
  auto* d_result = static_cast<XentResult*>(slot.get());
  softmax_xent_fused_kernel<<<1, kThreads, 0, stream>>>(n, k, logits, labels, class_weights, dlogits, probs, d_result);
  SER_CUDA_CHECK_LAUNCH("softmax_xent_fused_kernel");
  XentResult h{};
  SER_CUDA_CHECK(cudaMemcpyAsync(&h, d_result, sizeof(XentResult), cudaMemcpyDeviceToHost, stream));
  SER_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (h.bad_row >= 0)
    throw Error("softmax_xent: label " + std::to_string(h.bad_label) + " of row " + std::to_string(h.bad_row) +
                " is outside [0, " + std::to_string(k) + ")");
  return h.num / h.den;
}

}  // namespace ser::cuda
