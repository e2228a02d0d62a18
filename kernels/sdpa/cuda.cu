// kernels/sdpa/cuda.cu — launchers of the fused attention kernels (device code and design notes in
// kernels.cuh): head-dim bucket selection (16 / 32 / 64 / 128), the shared-memory opt-in above
// 48 KiB, and the launches.
#include <cstdint>
#include <string>

#include "cuda_check.cuh"
#include "sdpa/kernels.cuh"
#include "sdpa/launch.hpp"
#include "ser/error.hpp"

namespace ser::cuda {
namespace {

using sdpa::HeadDim;
using sdpa::SdpaParams;

constexpr std::size_t kDefaultSmemLimit = 48 * 1024;

bool aligned16(const void* ptr) { return reinterpret_cast<std::uintptr_t>(ptr) % 16 == 0; }

SdpaParams make_params(const nn::SdpaShape& s, const int* lengths, bool vec4) {
  SdpaParams p;
  p.n = s.n;
  p.t = s.t;
  p.heads = s.heads;
  p.head_dim = s.head_dim;
  p.ld = s.heads * s.head_dim;
  p.scale = s.scale;
  p.lengths = lengths;
  p.vec4 = vec4;
  return p;
}

void check_device_limits(const nn::SdpaShape& s, const char* who) {
  if (s.head_dim > kSdpaMaxHeadDim)
    throw Error(std::string(who) + ": head_dim " + std::to_string(s.head_dim) + " exceeds the CUDA kernels' " +
                std::to_string(kSdpaMaxHeadDim));
  if (s.n > 65535 || s.heads > 65535)
    throw Error(std::string(who) + ": N (" + std::to_string(s.n) + ") and heads (" + std::to_string(s.heads) +
                ") must be <= 65535 on the GPU");
}

dim3 tile_grid(const nn::SdpaShape& s) {
  return dim3(static_cast<unsigned>((s.t + sdpa::kBr - 1) / sdpa::kBr), static_cast<unsigned>(s.heads),
              static_cast<unsigned>(s.n));
}

// Dynamic shared memory above the default 48 KiB must be asked for per kernel (sm_90: up to 227 KiB).
template <typename Kernel>
void allow_smem(Kernel kernel, std::size_t bytes) {
  if (bytes > kDefaultSmemLimit)
    SER_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
}

template <int D>
void forward_bucket(const SdpaParams& p, const nn::SdpaShape& s, const float* q, const float* k, const float* v,
                    float* o, float* lse, cudaStream_t stream) {
  const std::size_t smem = HeadDim<D>::kFwdFloats * sizeof(float);
  allow_smem(sdpa::sdpa_fwd_flash_kernel<D>, smem);
  sdpa::sdpa_fwd_flash_kernel<D><<<tile_grid(s), sdpa::kThreads, smem, stream>>>(p, q, k, v, o, lse);
  SER_CUDA_CHECK_LAUNCH("sdpa_fwd_flash_kernel");
}

template <int D>
void backward_bucket(const SdpaParams& p, const nn::SdpaShape& s, const float* q, const float* k, const float* v,
                     const float* lse, const float* dvec, const float* dout, float* dq, float* dk, float* dv,
                     cudaStream_t stream) {
  const std::size_t smem_kv = HeadDim<D>::kDkdvFloats * sizeof(float);
  allow_smem(sdpa::sdpa_bwd_dkdv_kernel<D>, smem_kv);
  sdpa::sdpa_bwd_dkdv_kernel<D><<<tile_grid(s), sdpa::kThreads, smem_kv, stream>>>(p, q, k, v, lse, dvec, dout,
                                                                                    dk, dv);
  SER_CUDA_CHECK_LAUNCH("sdpa_bwd_dkdv_kernel");
  const std::size_t smem_q = HeadDim<D>::kDqFloats * sizeof(float);
  allow_smem(sdpa::sdpa_bwd_dq_kernel<D>, smem_q);
  sdpa::sdpa_bwd_dq_kernel<D><<<tile_grid(s), sdpa::kThreads, smem_q, stream>>>(p, q, k, v, lse, dvec, dout, dq);
  SER_CUDA_CHECK_LAUNCH("sdpa_bwd_dq_kernel");
}

}  // namespace

std::size_t sdpa_workspace_bytes(const nn::SdpaShape& s) {
  const std::size_t bytes = static_cast<std::size_t>(s.n) * s.heads * s.t * sizeof(float);
  return (bytes + 255) / 256 * 256;
}

void launch_sdpa_forward(const nn::ExecContext& ctx, const nn::SdpaShape& s, const float* q, const float* k,
                         const float* v, const int* lengths, float* o, float* lse) {
  check_device_limits(s, "sdpa_forward");
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (s.n == 0) return;
  const bool vec4 = s.head_dim % 4 == 0 && aligned16(q) && aligned16(k) && aligned16(v);
  const SdpaParams p = make_params(s, lengths, vec4);
  if (s.head_dim <= 16) forward_bucket<16>(p, s, q, k, v, o, lse, stream);
  else if (s.head_dim <= 32) forward_bucket<32>(p, s, q, k, v, o, lse, stream);
  else if (s.head_dim <= 64) forward_bucket<64>(p, s, q, k, v, o, lse, stream);
  else forward_bucket<128>(p, s, q, k, v, o, lse, stream);
}

void launch_sdpa_backward(const nn::ExecContext& ctx, const nn::SdpaShape& s, const float* q, const float* k,
                          const float* v, const float* o, const float* lse, const float* dout, const int* lengths,
                          float* dq, float* dk, float* dv, void* workspace) {
  check_device_limits(s, "sdpa_backward");
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (s.n == 0) return;
  if (!workspace) throw Error("sdpa_backward: the CUDA backward needs a workspace of sdpa_workspace_bytes()");
  const bool vec4 = s.head_dim % 4 == 0 && aligned16(q) && aligned16(k) && aligned16(v) && aligned16(dout);
  const SdpaParams p = make_params(s, lengths, vec4);
  float* dvec = static_cast<float*>(workspace);  // (N, heads, T)

  const std::int64_t rows = static_cast<std::int64_t>(s.n) * s.t * s.heads;
  constexpr int kRowdotThreads = 256;  // 8 rows (warps) per block
  const auto blocks = static_cast<unsigned>((rows + kRowdotThreads / 32 - 1) / (kRowdotThreads / 32));
  sdpa::sdpa_bwd_rowdot_kernel<<<blocks, kRowdotThreads, 0, stream>>>(p, o, dout, dvec);
  SER_CUDA_CHECK_LAUNCH("sdpa_bwd_rowdot_kernel");

  if (s.head_dim <= 16) backward_bucket<16>(p, s, q, k, v, lse, dvec, dout, dq, dk, dv, stream);
  else if (s.head_dim <= 32) backward_bucket<32>(p, s, q, k, v, lse, dvec, dout, dq, dk, dv, stream);
  else if (s.head_dim <= 64) backward_bucket<64>(p, s, q, k, v, lse, dvec, dout, dq, dk, dv, stream);
  else backward_bucket<128>(p, s, q, k, v, lse, dvec, dout, dq, dk, dv, stream);
}

}  // namespace ser::cuda
