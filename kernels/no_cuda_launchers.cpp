// kernels/no_cuda_launchers.cpp — built only without CUDA (CMakeLists.txt): the GPU launchers of the
// engine ops (one folder each in kernels/), each reporting that ser was built without CUDA.
// Their dispatch functions reach them only for Device::cuda, so the dispatch needs no #ifdef.
#include <cstddef>
#include <cstdint>
#include <string>

#include "batchnorm/launch.hpp"
#include "conv2d/launch.hpp"
#include "deltas/launch.hpp"
#include "elementwise/launch.hpp"
#include "layernorm/launch.hpp"
#include "layout/launch.hpp"
#include "linear/launch.hpp"
#include "maxpool2d/launch.hpp"
#include "optim/launch.hpp"
#include "sdpa/launch.hpp"
#include "softmax_xent/launch.hpp"
#include "temporal_pool/launch.hpp"
#include "ser/error.hpp"

namespace ser::cuda {
namespace {

[[noreturn]] void no_cuda(const char* who) {
  throw Error(std::string(who) + ": Device::cuda requested but ser was built without CUDA");
}

}  // namespace

std::size_t conv2d_workspace_bytes(const nn::ExecContext&, const nn::Conv2dShape&) {
  no_cuda("conv2d_workspace_bytes");
}
void launch_conv2d_forward(const nn::ExecContext&, const nn::Conv2dShape&, const float*, const float*,
                           const float*, float*, void*) {
  no_cuda("conv2d_forward");
}
void launch_conv2d_backward(const nn::ExecContext&, const nn::Conv2dShape&, const float*, const float*,
                            const float*, float*, float*, float*, void*) {
  no_cuda("conv2d_backward");
}

void launch_linear_forward(const nn::ExecContext&, const nn::LinearShape&, const float*, const float*, const float*,
                           float*) {
  no_cuda("linear_forward");
}
void launch_linear_backward(const nn::ExecContext&, const nn::LinearShape&, const float*, const float*, const float*,
                            float*, float*, float*) {
  no_cuda("linear_backward");
}

void launch_maxpool2d_forward(const nn::ExecContext&, const nn::Pool2dShape&, const float*, const int*, float*,
                              std::int32_t*) {
  no_cuda("maxpool2d_forward");
}
void launch_maxpool2d_backward(const nn::ExecContext&, const nn::Pool2dShape&, const float*, const std::int32_t*,
                               float*) {
  no_cuda("maxpool2d_backward");
}

std::size_t sdpa_workspace_bytes(const nn::SdpaShape&) { no_cuda("sdpa_workspace_bytes"); }
void launch_sdpa_forward(const nn::ExecContext&, const nn::SdpaShape&, const float*, const float*, const float*,
                         const int*, float*, float*) {
  no_cuda("sdpa_forward");
}
void launch_sdpa_backward(const nn::ExecContext&, const nn::SdpaShape&, const float*, const float*, const float*,
                          const float*, const float*, const float*, const int*, float*, float*, float*, void*) {
  no_cuda("sdpa_backward");
}

double launch_softmax_xent(const nn::ExecContext&, int, int, const float*, const std::int32_t*, const float*, float*,
                           float*, float, const std::int32_t*, float) {
  no_cuda("softmax_xent");
}

void launch_mean_pool_forward(const nn::ExecContext&, int, int, int, const float*, const int*, float*) {
  no_cuda("mean_pool_forward");
}
void launch_mean_pool_backward(const nn::ExecContext&, int, int, int, const float*, const int*, float*) {
  no_cuda("mean_pool_backward");
}
void launch_attn_pool_forward(const nn::ExecContext&, int, int, int, const float*, const float*, const float*,
                              const int*, float*, float*) {
  no_cuda("attn_pool_forward");
}
void launch_attn_pool_backward(const nn::ExecContext&, int, int, int, const float*, const float*, const float*,
                               const float*, const int*, float*, float*, float*) {
  no_cuda("attn_pool_backward");
}

void launch_batchnorm_forward_train(const nn::ExecContext&, const nn::BatchNormShape&, const float*, const int*,
                                    const float*, const float*, float*, float*, float*, float*, float*) {
  no_cuda("batchnorm_forward_train");
}
void launch_batchnorm_forward_infer(const nn::ExecContext&, const nn::BatchNormShape&, const float*, const int*,
                                    const float*, const float*, const float*, const float*, float*) {
  no_cuda("batchnorm_forward_infer");
}
void launch_batchnorm_backward(const nn::ExecContext&, const nn::BatchNormShape&, const float*, const float*,
                               const int*, const float*, const float*, const float*, float*, float*, float*) {
  no_cuda("batchnorm_backward");
}


void launch_time_deltas(const nn::ExecContext&, int, int, int, int, const int*, const float*, float*) {
  no_cuda("time_deltas");
}

void launch_relu_forward(const nn::ExecContext&, std::int64_t, const float*, float*) { no_cuda("relu_forward"); }
void launch_relu_backward(const nn::ExecContext&, std::int64_t, const float*, const float*, float*) {
  no_cuda("relu_backward");
}
void launch_dropout(const nn::ExecContext&, std::int64_t, float, std::uint64_t, const float*, float*) {
  no_cuda("dropout");
}
void launch_time_mask(const nn::ExecContext&, int, int, int, int, const int*, float*) { no_cuda("time_mask"); }
void launch_add(const nn::ExecContext&, std::int64_t, const float*, const float*, float*) { no_cuda("add"); }
void launch_accumulate(const nn::ExecContext&, std::int64_t, const float*, float*) { no_cuda("accumulate"); }

void launch_layer_norm_forward(const nn::ExecContext&, int, int, int, float, const float*, const float*, const float*,
                               const int*, float*, float*, float*) {
  no_cuda("layer_norm_forward");
}
void launch_layer_norm_backward(const nn::ExecContext&, int, int, int, const float*, const float*, const float*,
                                const float*, const float*, const int*, float*, float*, float*) {
  no_cuda("layer_norm_backward");
}

void launch_map_to_tokens(const nn::ExecContext&, int, int, int, int, const float*, float*) {
  no_cuda("map_to_tokens");
}
void launch_tokens_to_map(const nn::ExecContext&, int, int, int, int, const float*, float*) {
  no_cuda("tokens_to_map");
}
void launch_concat(const nn::ExecContext&, int, int, int, const float*, const float*, float*) { no_cuda("concat"); }
void launch_concat_backward(const nn::ExecContext&, int, int, int, const float*, float*, float*) {
  no_cuda("concat_backward");
}

void launch_adam_update(const nn::ExecContext&, std::int64_t, const nn::AdamStep&, float*, const float*, float*,
                        float*, const std::uint8_t*) {
  no_cuda("adam_update");
}
std::size_t sum_squares_workspace_bytes(std::int64_t) { no_cuda("sum_squares"); }
double sum_squares_sync(const nn::ExecContext&, std::int64_t, const float*, void*) { no_cuda("sum_squares"); }
void launch_scale(const nn::ExecContext&, std::int64_t, float, float*) { no_cuda("scale"); }
void launch_zero(const nn::ExecContext&, std::int64_t, float*) { no_cuda("zero"); }

}  // namespace ser::cuda
