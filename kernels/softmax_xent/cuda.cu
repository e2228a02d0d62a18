// kernels/softmax_xent/cuda.cu — softmax cross-entropy fused with its gradient, one kernel. See
// launch.hpp; the CPU twin is cpu.cpp.
//
// Design: a single block of kThreads does the whole batch (the loss is a few hundred rows of a few
// classes; one block makes the batch sum deterministic without a second kernel or a workspace).
// Phase 1: every thread checks a strided set of labels (remembering the first bad row) and sums the
// label weights in double; block-reduced in a fixed order. A bad label: the kernel reports the first
// bad row and stops. Phase 2: one warp per row (row r -> warp r % warps): row max (exact, any order),
// Σ exp(z - max) by lane-strided sums and a butterfly (every lane holds the same value), per-row loss
// log(Σ) - (z_y - max), weighted and summed in double per warp, then over warps in order.
// probs = exp(z - max) / Σ; dlogits = (p - onehot) * (w_y / Σ_n w_yn). With label smoothing eps > 0
// (ser/nn/loss.hpp): thread 0 also sums the class weights in phase 1, each row adds
// (eps / K) Σ_j w_j (log Σ - (z_j - max)) to its loss (a second butterfly) and its gradient is
// (p - q) * (row weight / Σ_n w_yn) with the smoothed target q. With mixup labels, phase 1 checks and
// weighs them too, each row's loss is kept per label set, and the gradient is
// lambda * g(labels) + (1 - lambda) * g(mix labels). Without either, the plain arithmetic runs.
// The result (loss numerator, weight sum, bad row and label) goes to a small stream-ordered
// allocation and is copied back.
#include <cfloat>
#include <cstdint>
#include <string>

#include "cuda_check.cuh"
#include "ser/error.hpp"
#include "softmax_xent/launch.hpp"
#include "warp_reduce.cuh"

namespace ser::cuda {

namespace {

constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / 32;

struct XentResult {
  double num;         // Σ_n w[y_n] * loss_n
  double den;         // Σ_n w[y_n]
  double mix_num;     // the same for the mixup labels (0 without them)
  double mix_den;
  int bad_row;        // first row with a label outside [0, K), or -1
  int bad_label;
  int bad_is_mix;     // 1 when that label is a mixup label
};


// The row's loss and gradient terms for one label y (ser/nn/loss.hpp): the weighted (smoothed) loss
// needs the row's log Σ exp (lse) and, with smoothing, Σ_j w_j (lse - (z_j - max)) (smooth).
struct RowTarget {
  float wy, row_weight, inv_row_weight;
  __device__ RowTarget(int y, const float* class_weights, float eps, float keep, float spread, double class_wsum) {
    wy = class_weights ? class_weights[y] : 1.0f;
    const double rw = eps > 0.0f ? static_cast<double>(keep) * wy + static_cast<double>(spread) * class_wsum
                                 : static_cast<double>(wy);
    row_weight = static_cast<float>(rw);
    inv_row_weight = static_cast<float>(1.0 / rw);
  }
};

__global__ void __launch_bounds__(kThreads)
softmax_xent_fused_kernel(int n, int k, const float* __restrict__ logits, const std::int32_t* __restrict__ labels,
                          const float* __restrict__ class_weights, float* __restrict__ dlogits,
                          float* __restrict__ probs, float eps, const std::int32_t* __restrict__ mix_labels,
                          float mix_lambda, XentResult* __restrict__ result) {
  __shared__ double wsum_w[kWarps];
  __shared__ double mix_wsum_w[kWarps];
  __shared__ int bad_w[kWarps];
  __shared__ double loss_w[kWarps];
  __shared__ double mix_loss_w[kWarps];
  __shared__ double wsum_s, mix_wsum_s;
  __shared__ double class_wsum_s;  // Σ_j w_j, used only when eps > 0
  __shared__ int bad_s;
  const int lane = static_cast<int>(threadIdx.x & 31), warp = static_cast<int>(threadIdx.x >> 5);
  const bool mixing = mix_labels != nullptr;  // uniform: a kernel argument

  // Phase 1: labels and the weight sums. A bad row r is encoded as r (label) or n + r (mixup label),
  // so the minimum is the first bad label of the first array that has one.
  double ws = 0.0, mws = 0.0;
  int bad = 2 * n;  // 2n = none
  for (int r = static_cast<int>(threadIdx.x); r < n; r += kThreads) {
    const int y = labels[r];
    if (y < 0 || y >= k) bad = min(bad, r);
    else ws += class_weights ? static_cast<double>(class_weights[y]) : 1.0;
    if (mixing) {
      const int ym = mix_labels[r];
      if (ym < 0 || ym >= k) bad = min(bad, n + r);
      else mws += class_weights ? static_cast<double>(class_weights[ym]) : 1.0;
    }
  }
  ws = warp_sum_down(ws);
  mws = warp_sum_down(mws);
  bad = warp_min_down(bad);
  if (lane == 0) {
    wsum_w[warp] = ws;
    mix_wsum_w[warp] = mws;
    bad_w[warp] = bad;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double t = 0.0, tm = 0.0;
    int b = 2 * n;
    for (int q = 0; q < kWarps; ++q) {
      t += wsum_w[q];
      tm += mix_wsum_w[q];
      b = min(b, bad_w[q]);
    }
    wsum_s = t;
    mix_wsum_s = tm;
    bad_s = b;
    double c = 0.0;
    if (eps > 0.0f)
      for (int j = 0; j < k; ++j) c += class_weights ? static_cast<double>(class_weights[j]) : 1.0;
    class_wsum_s = c;
  }
  __syncthreads();
  const double den = wsum_s, mix_den = mix_wsum_s;
  if (bad_s < 2 * n) {  // uniform: every thread read the same shared value
    if (threadIdx.x == 0) {
      const int is_mix = bad_s >= n ? 1 : 0, row = bad_s - is_mix * n;
      *result = XentResult{0.0, 0.0, 0.0, 0.0, row, is_mix ? mix_labels[row] : labels[row], is_mix};
    }
    return;
  }

  // Phase 2: one warp per row.
  const float keep = 1.0f - eps, spread = eps / static_cast<float>(k);
  const double class_wsum = class_wsum_s;
  const float lambda = mixing ? mix_lambda : 1.0f;
  double acc = 0.0, mix_acc = 0.0;  // lane 0: this warp's Σ w * loss for each label set
  for (int r = warp; r < n; r += kWarps) {
    const std::int64_t off = static_cast<std::int64_t>(r) * k;
    const float* z = logits + off;  // (K)
    float mx = -FLT_MAX;
    for (int j = lane; j < k; j += 32) mx = fmaxf(mx, z[j]);
    mx = warp_max_xor(mx);
    float se = 0.0f;
    for (int j = lane; j < k; j += 32) se += expf(z[j] - mx);
    se = warp_sum_xor(se);
    const float lse = logf(se);
    float smooth = 0.0f;  // Σ_j w_j (-log p_j), lane-strided then butterflied
    if (eps > 0.0f) {     // uniform: a kernel argument
      for (int j = lane; j < k; j += 32) smooth += (class_weights ? class_weights[j] : 1.0f) * (lse - (z[j] - mx));
      smooth = warp_sum_xor(smooth);
    }
    const int y = labels[r];
    const int ym = mixing ? mix_labels[r] : y;
    const RowTarget ta(y, class_weights, eps, keep, spread, class_wsum);
    const RowTarget tb = mixing ? RowTarget(ym, class_weights, eps, keep, spread, class_wsum) : ta;
    if (lane == 0) {
      const auto row_loss = [&](int label, float wy) {
        const double nll = static_cast<double>(lse - (z[label] - mx));
        return eps > 0.0f ? static_cast<double>(keep) * static_cast<double>(wy) * nll +
                                static_cast<double>(spread) * static_cast<double>(smooth)
                          : static_cast<double>(wy) * nll;
      };
      acc += row_loss(y, ta.wy);
      if (mixing) mix_acc += row_loss(ym, tb.wy);
    }
    if (!dlogits && !probs) continue;
    const float scale_a = static_cast<float>(static_cast<double>(ta.row_weight) / den);
    const float scale_b = mixing ? static_cast<float>(static_cast<double>(tb.row_weight) / mix_den) : 0.0f;
    for (int j = lane; j < k; j += 32) {
      const float p = expf(z[j] - mx) / se;
      if (probs) probs[off + j] = p;
      if (!dlogits) continue;
      const float wj = eps > 0.0f ? (class_weights ? class_weights[j] : 1.0f) : 0.0f;
      const auto target = [&](int label, const RowTarget& t) {
        const float onehot = j == label ? 1.0f : 0.0f;
        return eps > 0.0f ? (keep * t.wy * onehot + spread * wj) * t.inv_row_weight : onehot;
      };
      const float ga = (p - target(y, ta)) * scale_a;
      dlogits[off + j] = mixing ? lambda * ga + (1.0f - lambda) * ((p - target(ym, tb)) * scale_b) : ga;
    }
  }
  if (lane == 0) {
    loss_w[warp] = acc;
    mix_loss_w[warp] = mix_acc;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double t = 0.0, tm = 0.0;
    for (int q = 0; q < kWarps; ++q) {
      t += loss_w[q];
      tm += mix_loss_w[q];
    }
    *result = XentResult{t, den, tm, mix_den, -1, 0, 0};
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

double launch_softmax_xent(const nn::ExecContext& ctx, int n, int k, const float* logits, const std::int32_t* labels,
                           const float* class_weights, float* dlogits, float* probs, float label_smoothing,
                           const std::int32_t* mix_labels, float mix_lambda) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (n == 0) return 0.0;
  StreamAlloc slot(sizeof(XentResult), stream);
  auto* d_result = static_cast<XentResult*>(slot.get());
  softmax_xent_fused_kernel<<<1, kThreads, 0, stream>>>(n, k, logits, labels, class_weights, dlogits, probs,
                                                       label_smoothing, mix_labels, mix_lambda, d_result);
  SER_CUDA_CHECK_LAUNCH("softmax_xent_fused_kernel");
  XentResult h{};
  SER_CUDA_CHECK(cudaMemcpyAsync(&h, d_result, sizeof(XentResult), cudaMemcpyDeviceToHost, stream));
  SER_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (h.bad_row >= 0)
    throw Error(std::string("softmax_xent: ") + (h.bad_is_mix ? "mixup label " : "label ") +
                std::to_string(h.bad_label) + " of row " + std::to_string(h.bad_row) + " is outside [0, " +
                std::to_string(k) + ")");
  if (!mix_labels) return h.num / h.den;
  const double lambda = mix_lambda;
  return lambda * (h.num / h.den) + (1.0 - lambda) * (h.mix_num / h.mix_den);
}

}  // namespace ser::cuda
