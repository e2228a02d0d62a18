// src/nn/ops/softmax_xent.cpp — dispatch of the softmax cross-entropy (ser/nn/loss.hpp): the CPU twin
// (softmax_xent_cpu.cpp) on Device::cpu, the fused CUDA kernel (kernels/softmax_xent.cu) on
// Device::cuda, which synchronises the stream to return the loss.
#include <cstdint>
#include <string>

#include "ser/nn/op_timer.hpp"
#include "ser/error.hpp"
#include "ser/nn/loss.hpp"

#ifdef SER_WITH_CUDA
#include "softmax_xent.cuh"
#endif

namespace ser::nn {

void softmax_xent_check(int n, int k, const XentTargets& targets, const char* who);  // softmax_xent_cpu.cpp

double softmax_xent(const ExecContext& ctx, int n, int k, const float* logits, const std::int32_t* labels,
                    const float* class_weights, float* dlogits, float* probs, const XentTargets& targets) {
  const OpTimer timed(ctx, "softmax_xent");
  if (ctx.device == Device::cpu)
    return softmax_xent_cpu<float>(n, k, logits, labels, class_weights, dlogits, probs, targets);
  if (targets.weight_sum > 0 || targets.mix_weight_sum > 0)
    throw Error("softmax_xent: global weight sums (data-parallel slices) are CPU only");
#ifdef SER_WITH_CUDA
  softmax_xent_check(n, k, targets, "softmax_xent");
  return cuda::launch_softmax_xent(n, k, logits, labels, class_weights, dlogits, probs,
                                   static_cast<float>(targets.label_smoothing), targets.mix_labels,
                                   static_cast<float>(targets.mix_lambda), static_cast<cudaStream_t>(ctx.stream));
#else
  throw Error("softmax_xent: Device::cuda requested but ser was built without CUDA");
#endif
}

}  // namespace ser::nn
