// kernels/softmax_xent/dispatch.cpp — dispatch of the softmax cross-entropy (ser/nn/loss.hpp): the CPU
// twin (cpu.cpp) on Device::cpu, the fused CUDA kernel (launch.hpp, cuda.cu) on Device::cuda, which
// synchronises the stream to return the loss.
#include <cstdint>
#include <string>

#include "ser/error.hpp"
#include "ser/nn/loss.hpp"
#include "ser/nn/op_timer.hpp"
#include "softmax_xent/launch.hpp"
#include "softmax_xent/shape.hpp"

namespace ser::nn {

double softmax_xent(const ExecContext& ctx, int n, int k, const float* logits, const std::int32_t* labels,
                    const float* class_weights, float* dlogits, float* probs, const XentTargets& targets) {
  const OpTimer timed(ctx, "softmax_xent");
  if (ctx.device == Device::cpu)
    return softmax_xent_cpu<float>(n, k, logits, labels, class_weights, dlogits, probs, targets);
  if (targets.weight_sum > 0 || targets.mix_weight_sum > 0)
    throw Error("softmax_xent: global weight sums (data-parallel slices) are CPU only");
  softmax_xent_check(n, k, targets, "softmax_xent");
  return cuda::launch_softmax_xent(ctx, n, k, logits, labels, class_weights, dlogits, probs,
                                   static_cast<float>(targets.label_smoothing), targets.mix_labels,
                                   static_cast<float>(targets.mix_lambda));
}

}  // namespace ser::nn
