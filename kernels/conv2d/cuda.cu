// kernels/conv2d/cuda.cu — launchers of the hand-written convolution kernels (device code and design
// notes in kernels.cuh): tile selection, the split-K plan of the weight gradient, and the launches;
// and the choice between them and cuDNN (cudnn.cu) by ctx.kernels.
#include <algorithm>
#include <cstdint>
#include <string>

#include "conv2d/cudnn.hpp"
#include "conv2d/kernels.cuh"
#include "conv2d/launch.hpp"
#include "cuda_check.cuh"
#include "ser/error.hpp"

namespace ser::cuda {
namespace {

using conv::ConvParams;

ConvParams make_params(const nn::Conv2dShape& s) {
  ConvParams p;
  p.n = s.n;
  p.c_in = s.c_in;
  p.h = s.h;
  p.w = s.w;
  p.c_out = s.c_out;
  p.kh = s.kh;
  p.kw = s.kw;
  p.sh = s.sh;
  p.sw = s.sw;
  p.ph = s.ph;
  p.pw = s.pw;
  p.ho = s.h_out();
  p.wo = s.w_out();
  p.hw = s.h * s.w;
  p.howo = p.ho * p.wo;
  p.khw = s.kh * s.kw;
  p.div_hw = FastDiv(p.hw);
  p.div_w = FastDiv(p.w);
  p.div_howo = FastDiv(p.howo);
  p.div_wo = FastDiv(p.wo);
  p.div_khw = FastDiv(p.khw);
  p.div_kw = FastDiv(p.kw);
  p.div_sh = FastDiv(p.sh);
  p.div_sw = FastDiv(p.sw);
  return p;
}

// Rows of the product tile (BM) for a product with m rows: the largest tile that wastes no more
// rows than the next smaller one (16 | 32 | 64 | 128).
int pick_rows(int m) {
  if (m <= 16) return 16;
  if (m <= 32) return 32;
  if (m <= 64) return 64;
  const auto waste = [m](int bm) { return (m + bm - 1) / bm * bm - m; };
  return waste(128) <= waste(64) ? 128 : 64;
}

bool aligned16(const void* ptr) { return reinterpret_cast<std::uintptr_t>(ptr) % 16 == 0; }

unsigned blocks_for(std::int64_t count, int per_block) {
  return static_cast<unsigned>((count + per_block - 1) / per_block);
}

// ---- forward --------------------------------------------------------------------------------------

template <class Cfg>
void fwd_with(const ConvParams& p, const float* x, const float* w, const float* b, float* y, cudaStream_t stream) {
  const dim3 grid(blocks_for(static_cast<std::int64_t>(p.n) * p.howo, Cfg::BN), blocks_for(p.c_out, Cfg::BM));
  const std::size_t smem = Cfg::SMEM_FLOATS * sizeof(float);
  const bool vec = p.howo % 4 == 0 && aligned16(y);
  if (p.kh == 3 && p.kw == 3)
    conv::conv2d_fwd_implicit_gemm_kernel<Cfg, 3, 3><<<grid, Cfg::NT, smem, stream>>>(p, x, w, b, y, vec);
  else
    conv::conv2d_fwd_implicit_gemm_kernel<Cfg, 0, 0><<<grid, Cfg::NT, smem, stream>>>(p, x, w, b, y, vec);
  SER_CUDA_CHECK_LAUNCH("conv2d_fwd_implicit_gemm_kernel");
}

// ---- backward data ----------------------------------------------------------------------------------

template <class Cfg>
void bwd_data_with(const ConvParams& p, const float* dy, const float* w, float* dx, cudaStream_t stream) {
  const dim3 grid(blocks_for(static_cast<std::int64_t>(p.n) * p.hw, Cfg::BN), blocks_for(p.c_in, Cfg::BM));
  const std::size_t smem = Cfg::SMEM_FLOATS * sizeof(float);
  const bool vec = p.hw % 4 == 0 && aligned16(dx);
  if (p.kh == 3 && p.kw == 3 && p.sh == 1 && p.sw == 1)
    conv::conv2d_bwd_data_implicit_gemm_kernel<Cfg, 3, 3, true><<<grid, Cfg::NT, smem, stream>>>(p, dy, w, dx, vec);
  else if (p.sh == 1 && p.sw == 1)
    conv::conv2d_bwd_data_implicit_gemm_kernel<Cfg, 0, 0, true><<<grid, Cfg::NT, smem, stream>>>(p, dy, w, dx, vec);
  else
    conv::conv2d_bwd_data_implicit_gemm_kernel<Cfg, 0, 0, false><<<grid, Cfg::NT, smem, stream>>>(p, dy, w, dx, vec);
  SER_CUDA_CHECK_LAUNCH("conv2d_bwd_data_implicit_gemm_kernel");
}

// ---- backward weights: split-K plan ------------------------------------------------------------------

// How the N·Ho·Wo reduction of dw is cut: `splits` blocks along z, each over `chunk` pixels (a
// multiple of BK). A pure function of the shape, so the workspace size and the launch agree and the
// summation order (hence every bit of dw) is the same on every run and every GPU.
struct WeightPlan {
  int rows = 16;  // BM of the tile
  int splits = 1;
  int chunk = 0;
  std::size_t workspace_floats = 0;
};

WeightPlan plan_bwd_weight(const nn::Conv2dShape& s) {
  constexpr int kBN = 128, kBK = 16;
  constexpr int kTargetBlocks = 512;     // ~4 blocks per SM on a 132-SM H100
  constexpr int kMinPixelsPerSplit = 256;  // below this the partial traffic outweighs the work
  constexpr int kMaxSplits = 256;
  WeightPlan plan;
  plan.rows = pick_rows(s.c_out);
  const int kw_total = s.c_in * s.kh * s.kw;
  const std::int64_t pixels = static_cast<std::int64_t>(s.n) * s.h_out() * s.w_out();
  const std::int64_t tiles = static_cast<std::int64_t>((s.c_out + plan.rows - 1) / plan.rows) *
                             ((kw_total + kBN - 1) / kBN);
  std::int64_t splits = (kTargetBlocks + tiles - 1) / tiles;
  splits = std::min<std::int64_t>({splits, kMaxSplits, std::max<std::int64_t>(1, pixels / kMinPixelsPerSplit)});
  splits = std::max<std::int64_t>(splits, 1);
  std::int64_t chunk = (pixels + splits - 1) / splits;
  chunk = (chunk + kBK - 1) / kBK * kBK;
  plan.chunk = static_cast<int>(chunk);
  plan.splits = static_cast<int>((pixels + chunk - 1) / chunk);
  const std::int64_t per_split = static_cast<std::int64_t>(s.c_out) * kw_total;
  if (plan.splits > 1) {
    if (plan.splits * per_split >= INT32_MAX)
      throw Error("conv2d backward: split-K workspace of " + std::to_string(plan.splits * per_split) +
                  " floats exceeds 32-bit indexing");
    plan.workspace_floats = static_cast<std::size_t>(plan.splits * per_split);
  }
  return plan;
}

template <class Cfg>
void bwd_weight_with(const ConvParams& p, const WeightPlan& plan, const float* x, const float* dy, float* dw,
                     float* partial, cudaStream_t stream) {
  const int kw_total = p.c_in * p.khw;
  const dim3 grid(blocks_for(kw_total, Cfg::BN), blocks_for(p.c_out, Cfg::BM), static_cast<unsigned>(plan.splits));
  const std::size_t smem = Cfg::SMEM_FLOATS * sizeof(float) + Cfg::BN * sizeof(conv::WeightCol);
  const bool direct = plan.splits == 1;  // one split: add straight into dw
  float* out = direct ? dw : partial;
  conv::conv2d_bwd_weight_implicit_gemm_kernel<Cfg><<<grid, Cfg::NT, smem, stream>>>(p, x, dy, out, plan.chunk, direct);
  SER_CUDA_CHECK_LAUNCH("conv2d_bwd_weight_implicit_gemm_kernel");
  if (!direct) {
    const int count = p.c_out * kw_total;
    conv::conv2d_bwd_weight_reduce_kernel<<<blocks_for(count, 256), 256, 0, stream>>>(partial, plan.splits, count, dw);
    SER_CUDA_CHECK_LAUNCH("conv2d_bwd_weight_reduce_kernel");
  }
}

// Calls f.template operator()<Tile>() for the tile with `rows` rows.
template <class F>
void with_tile(int rows, F&& f) {
  switch (rows) {
    case 16: f.template operator()<conv::Tile16>(); break;
    case 32: f.template operator()<conv::Tile32>(); break;
    case 64: f.template operator()<conv::Tile64>(); break;
    default: f.template operator()<conv::Tile128>(); break;
  }
}

std::size_t handwritten_workspace_bytes(const nn::Conv2dShape& s) {
  return plan_bwd_weight(s).workspace_floats * sizeof(float);
}

void handwritten_forward(const nn::Conv2dShape& s, const float* x, const float* w, const float* b, float* y,
                         cudaStream_t stream) {
  const ConvParams p = make_params(s);
  with_tile(pick_rows(s.c_out), [&]<class Cfg>() { fwd_with<Cfg>(p, x, w, b, y, stream); });
}

void handwritten_backward(const nn::Conv2dShape& s, const float* x, const float* w, const float* dy, float* dx,
                          float* dw, float* db, void* workspace, cudaStream_t stream) {
  const ConvParams p = make_params(s);
  if (dx) with_tile(pick_rows(s.c_in), [&]<class Cfg>() { bwd_data_with<Cfg>(p, dy, w, dx, stream); });
  if (dw) {
    const WeightPlan plan = plan_bwd_weight(s);
    if (plan.workspace_floats > 0) {
      if (!workspace)
        throw Error("conv2d backward (CUDA): needs a workspace of " +
                    std::to_string(plan.workspace_floats * sizeof(float)) +
                    " bytes (conv2d_workspace_bytes) and got none");
      if (reinterpret_cast<std::uintptr_t>(workspace) % alignof(float) != 0)
        throw Error("conv2d backward (CUDA): workspace is not 4-byte aligned");
    }
    with_tile(plan.rows, [&]<class Cfg>() {
      bwd_weight_with<Cfg>(p, plan, x, dy, dw, static_cast<float*>(workspace), stream);
    });
  }
  if (db) {
    constexpr int kThreads = 256;
    conv::conv2d_bwd_bias_kernel<kThreads><<<s.c_out, kThreads, 0, stream>>>(dy, s.n, s.c_out, p.howo, db);
    SER_CUDA_CHECK_LAUNCH("conv2d_bwd_bias_kernel");
  }
}

bool vendor(const nn::ExecContext& ctx) { return ctx.kernels == nn::KernelPath::vendor; }

}  // namespace

// The dispatch (dispatch.cpp) has checked the shape (conv2d_check_shape) before any of these.
std::size_t conv2d_workspace_bytes(const nn::ExecContext& ctx, const nn::Conv2dShape& s) {
  if (vendor(ctx)) return conv2d_cudnn_workspace_bytes(ctx.cudnn, ctx.deterministic, s);
  return handwritten_workspace_bytes(s);
}

void launch_conv2d_forward(const nn::ExecContext& ctx, const nn::Conv2dShape& s, const float* x, const float* w,
                           const float* b, float* y, void* workspace) {
  if (vendor(ctx)) return conv2d_cudnn_forward(ctx.cudnn, ctx.deterministic, s, x, w, b, y, workspace);
  handwritten_forward(s, x, w, b, y, static_cast<cudaStream_t>(ctx.stream));  // needs no workspace
}

void launch_conv2d_backward(const nn::ExecContext& ctx, const nn::Conv2dShape& s, const float* x, const float* w,
                            const float* dy, float* dx, float* dw, float* db, void* workspace) {
  if (vendor(ctx)) return conv2d_cudnn_backward(ctx.cudnn, ctx.deterministic, s, x, w, dy, dx, dw, db, workspace);
  handwritten_backward(s, x, w, dy, dx, dw, db, workspace, static_cast<cudaStream_t>(ctx.stream));
}

}  // namespace ser::cuda
