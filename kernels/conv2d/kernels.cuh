// kernels/conv2d/kernels.cuh — device code of the hand-written convolution (included by cuda.cu).
//
// All three passes are one tiled SGEMM main loop over a different implicit matrix product; no
// im2col matrix is ever written to memory — each operand tile is gathered straight from the
// activations into registers, stored to shared memory, and multiplied there:
//
//   forward      y  (C_out × N·Ho·Wo)    = w (C_out × C_in·kh·kw) · im2col(x)
//   backward dx  dx (C_in  × N·H·W)      = wᵀ rearranged (C_in × C_out·kh·kw) · "col2im gather" of dy
//   backward dw  dw (C_out × C_in·kh·kw) = dy (C_out × N·Ho·Wo) · im2col(x)ᵀ, split along N·Ho·Wo
//
// Tiling (Tile<BM, BN, BK, TM, TN, MIN_BLOCKS>): a block computes a BM × BN tile of the product with NT = 256
// threads, each holding a TM × TN register tile; the reduction runs in steps of BK through two
// shared-memory stages (double buffering: the next step's gather is in flight while the current one is
// multiplied; one __syncthreads per step). Every element of a stage is written before it is read
// (out-of-range elements are stored as 0), so no shared memory is read uninitialised.
//
// Index decoding uses FastDiv (multiply-high) for run-time divisors and compile-time constants in
// the 3x3 (and, for dx, stride-1) instantiations. Each output element is owned by one thread and
// summed in a fixed order, so results are bitwise reproducible. The dw split-K partials go to a workspace and are summed in split order by
// conv2d_bwd_weight_reduce_kernel; db is a fixed-shape tree reduction per channel.
#pragma once
#include <cstdint>

#include "fastdiv.cuh"

namespace ser::cuda::conv {

// Every size of one convolution, as the kernels use them (passed by value).
struct ConvParams {
  int n = 0, c_in = 0, h = 0, w = 0, c_out = 0;
  int kh = 0, kw = 0, sh = 0, sw = 0, ph = 0, pw = 0;
  int ho = 0, wo = 0;
  int hw = 0, howo = 0, khw = 0;  // h*w, ho*wo, kh*kw
  FastDiv div_hw, div_w, div_howo, div_wo, div_khw, div_kw, div_sh, div_sw;
};

template <int BM_, int BN_, int BK_, int TM_, int TN_, int MIN_BLOCKS_>
struct Tile {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_;
  static constexpr int MIN_BLOCKS = MIN_BLOCKS_;  // resident blocks per SM asked of ptxas (caps registers)
  static constexpr int TX = BN / TN;  // threads along the columns
  static constexpr int TY = BM / TM;  // threads along the rows
  static constexpr int NT = TX * TY;
  static constexpr int A_LD = BM + 4;  // shared rows padded by 4 floats: float4-aligned, fewer conflicts
  static constexpr int B_LD = BN + 4;
  static constexpr int A_STAGE = BK * A_LD;  // floats of one A stage (BK, BM + 4)
  static constexpr int B_STAGE = BK * B_LD;  // floats of one B stage (BK, BN + 4)
  static constexpr int SMEM_FLOATS = 2 * (A_STAGE + B_STAGE);
  static constexpr int A_PER = BM * BK / NT;  // A elements each thread gathers per step
  static constexpr int B_PER = BK * BN / NT;
  static_assert(BM % TM == 0 && BN % TN == 0, "tile not divisible by the thread tile");
  static_assert(TN % 4 == 0 && (TM % 4 == 0 || TM == 2), "thread tiles are float4 (or float2) groups");
  static_assert(NT % BK == 0 && NT % BN == 0 && (BM * BK) % NT == 0 && (BK * BN) % NT == 0,
                "gather slots must divide evenly");
  // stages + the dw kernel's column table, within the default 48 KiB (no opt-in needed)
  static_assert(SMEM_FLOATS * 4 + BN * 16 <= 48 * 1024, "more than the default 48 KiB of shared memory");
};

// Rows of the product (C_out, or C_in for dx) pick the tile: <= 16, <= 32, <= 64, larger.
using Tile16 = Tile<16, 128, 16, 2, 4, 4>;
using Tile32 = Tile<32, 128, 16, 4, 4, 4>;
using Tile64 = Tile<64, 128, 16, 4, 8, 3>;
using Tile128 = Tile<128, 128, 16, 8, 8, 2>;

// Gather slot j of thread tid in a (BK × DX) stage. ALONG_K: consecutive threads take consecutive k
// (the operand is contiguous along the reduction); else consecutive threads take consecutive
// rows/columns. Either way each thread keeps one fixed coordinate across all its slots.
template <class Cfg, bool ALONG_K, int DX>
struct Slots {
  static constexpr int PER = DX * Cfg::BK / Cfg::NT;
  __device__ __forceinline__ static int k_of(int tid, int j) {
    if constexpr (ALONG_K) return tid % Cfg::BK;
    else return tid / DX + j * (Cfg::NT / DX);
  }
  __device__ __forceinline__ static int x_of(int tid, int j) {
    if constexpr (ALONG_K) return tid / Cfg::BK + j * (Cfg::NT / Cfg::BK);
    else return tid % DX;
  }
  __device__ __forceinline__ static void store(float* stage, const float (&r)[PER], int tid) {
#pragma unroll
    for (int j = 0; j < PER; ++j) stage[k_of(tid, j) * (DX + 4) + x_of(tid, j)] = r[j];
  }
};

// Row (column) of the tile held in register i of thread t: groups of 4 consecutive elements,
// the groups BX / (T/4) apart, so 8 neighbouring threads read 128 contiguous bytes of shared memory.
template <int T, int BX>
__device__ __forceinline__ int frag_pos(int t, int i) {
  if constexpr (T % 4 == 0) return (i / 4) * (BX / (T / 4)) + t * 4 + (i % 4);
  else return t * T + i;
}

template <int T, int BX>
__device__ __forceinline__ void load_frag(const float* row, int t, float (&f)[T]) {
  if constexpr (T % 4 == 0) {
#pragma unroll
    for (int g = 0; g < T / 4; ++g) {
      const float4 v = *reinterpret_cast<const float4*>(row + g * (BX / (T / 4)) + t * 4);
      f[4 * g + 0] = v.x;
      f[4 * g + 1] = v.y;
      f[4 * g + 2] = v.z;
      f[4 * g + 3] = v.w;
    }
  } else {
    static_assert(T == 2, "thread tile rows: 2 or a multiple of 4");
    const float2 v = *reinterpret_cast<const float2*>(row + t * 2);
    f[0] = v.x;
    f[1] = v.y;
  }
}

// k -> (channel, kernel row, kernel column) for a kernel of KH x KW (compile-time when > 0).
template <int KH, int KW>
__device__ __forceinline__ void split_k(const ConvParams& p, int k, int& c, int& r, int& s) {
  if constexpr (KH > 0 && KW > 0) {
    const unsigned uk = static_cast<unsigned>(k);
    c = static_cast<int>(uk / (KH * KW));
    const unsigned rs = uk - static_cast<unsigned>(c) * (KH * KW);
    r = static_cast<int>(rs / KW);
    s = static_cast<int>(rs - static_cast<unsigned>(r) * KW);
  } else {
    int rs = 0;
    p.div_khw.divmod(k, c, rs);
    p.div_kw.divmod(rs, r, s);
  }
}

// The shared main loop: acc (TM × TN) = Σ_{k in [k_begin, k_end)} A(m, k) B(k, n) over this block's
// tile. Prob::load(k0, ra, rb) gathers this thread's A and B slots of the step starting at k0 (zero
// outside the matrices and at k >= k_end). k_begin / k_end are uniform across the block.
template <class Cfg, class Prob>
__device__ __forceinline__ void gemm_mainloop(const Prob& prob, int k_begin, int k_end, float* smem,
                                              float (&acc)[Cfg::TM][Cfg::TN]) {
  using SA = Slots<Cfg, Prob::A_ALONG_K, Cfg::BM>;
  using SB = Slots<Cfg, Prob::B_ALONG_K, Cfg::BN>;
  const int tid = static_cast<int>(threadIdx.x);
  const int tx = tid % Cfg::TX, ty = tid / Cfg::TX;
  float* as = smem;                     // 2 stages of (BK, BM + 4)
  float* bs = smem + 2 * Cfg::A_STAGE;  // 2 stages of (BK, BN + 4)
#pragma unroll
  for (int i = 0; i < Cfg::TM; ++i)
#pragma unroll
    for (int j = 0; j < Cfg::TN; ++j) acc[i][j] = 0.0f;
  if (k_begin >= k_end) return;

  float ra[Cfg::A_PER], rb[Cfg::B_PER];
  prob.load(k_begin, ra, rb);
  SA::store(as, ra, tid);
  SB::store(bs, rb, tid);
  __syncthreads();
  int stage = 0;
  for (int k0 = k_begin; k0 < k_end; k0 += Cfg::BK) {
    const bool more = k0 + Cfg::BK < k_end;
    if (more) prob.load(k0 + Cfg::BK, ra, rb);  // global loads overlap the FMAs below
    const float* a = as + stage * Cfg::A_STAGE;
    const float* b = bs + stage * Cfg::B_STAGE;
#pragma unroll
    for (int kk = 0; kk < Cfg::BK; ++kk) {
      float af[Cfg::TM], bf[Cfg::TN];
      load_frag<Cfg::TM, Cfg::BM>(a + kk * Cfg::A_LD, ty, af);
      load_frag<Cfg::TN, Cfg::BN>(b + kk * Cfg::B_LD, tx, bf);
#pragma unroll
      for (int i = 0; i < Cfg::TM; ++i)
#pragma unroll
        for (int j = 0; j < Cfg::TN; ++j) acc[i][j] = fmaf(af[i], bf[j], acc[i][j]);
    }
    if (more) {
      // The other stage was last read in the previous step, which ended with __syncthreads.
      SA::store(as + (stage ^ 1) * Cfg::A_STAGE, ra, tid);
      SB::store(bs + (stage ^ 1) * Cfg::B_STAGE, rb, tid);
    }
    __syncthreads();
    stage ^= 1;
  }
}

// Writes a (M × N·plane) product tile into an (N, M, plane) tensor: column col = n·plane + q,
// element (m, col) -> out[(n·M + m)·plane + q], plus bias[m] when bias is not null. vec: plane % 4 == 0
// and out 16-byte aligned, so each group of 4 columns is one float4 store.
template <class Cfg>
__device__ __forceinline__ void store_nchw(const float (&acc)[Cfg::TM][Cfg::TN], int m0, int n0, int m_total,
                                           int plane, int ncols, const FastDiv& div_plane,
                                           const float* __restrict__ bias, float* __restrict__ out, bool vec) {
  const int tid = static_cast<int>(threadIdx.x);
  const int tx = tid % Cfg::TX, ty = tid / Cfg::TX;
#pragma unroll
  for (int g = 0; g < Cfg::TN / 4; ++g) {
    const int col = n0 + frag_pos<Cfg::TN, Cfg::BN>(tx, 4 * g);  // first of 4 consecutive columns
    if (col >= ncols) continue;
    if (vec) {  // col % 4 == 0 and plane % 4 == 0: the 4 columns share n and are 16-byte aligned
      int nn = 0, q = 0;
      div_plane.divmod(col, nn, q);
      float* base = out + nn * m_total * plane + q;
#pragma unroll
      for (int i = 0; i < Cfg::TM; ++i) {
        const int m = m0 + frag_pos<Cfg::TM, Cfg::BM>(ty, i);
        if (m >= m_total) continue;
        const float bv = bias ? __ldg(bias + m) : 0.0f;
        *reinterpret_cast<float4*>(base + m * plane) =
            make_float4(acc[i][4 * g] + bv, acc[i][4 * g + 1] + bv, acc[i][4 * g + 2] + bv, acc[i][4 * g + 3] + bv);
      }
    } else {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        if (col + e >= ncols) break;
        int nn = 0, q = 0;
        div_plane.divmod(col + e, nn, q);
        float* base = out + nn * m_total * plane + q;
#pragma unroll
        for (int i = 0; i < Cfg::TM; ++i) {
          const int m = m0 + frag_pos<Cfg::TM, Cfg::BM>(ty, i);
          if (m >= m_total) continue;
          base[m * plane] = acc[i][4 * g + e] + (bias ? __ldg(bias + m) : 0.0f);
        }
      }
    }
  }
}

// ---- forward: y = w · im2col(x) + b --------------------------------------------------------------

// A = w (C_out × K) gathered along k; B = im2col(x) (K × N·Ho·Wo) gathered along the pixels, so each
// thread keeps one output pixel (and its input window origin) for the whole reduction.
template <class Cfg, int KH, int KW>
struct FwdProb {
  static constexpr bool A_ALONG_K = true;
  static constexpr bool B_ALONG_K = false;
  using SA = Slots<Cfg, true, Cfg::BM>;
  using SB = Slots<Cfg, false, Cfg::BN>;
  const ConvParams& p;
  const float* __restrict__ w;
  int m0 = 0, k_total = 0;
  bool col_ok = false;
  const float* __restrict__ xb = nullptr;  // x of this thread's sample
  int ih0 = 0, iw0 = 0;                    // top-left input position of its window

  __device__ __forceinline__ FwdProb(const ConvParams& p_, const float* __restrict__ x, const float* __restrict__ w_, int m0_,
                     int n0)
      : p(p_), w(w_), m0(m0_), k_total(p_.c_in * p_.khw) {
    const int col = n0 + SB::x_of(static_cast<int>(threadIdx.x), 0);
    col_ok = col < p.n * p.howo;
    if (col_ok) {
      int nn = 0, q = 0, oh = 0, ow = 0;
      p.div_howo.divmod(col, nn, q);
      p.div_wo.divmod(q, oh, ow);
      ih0 = oh * p.sh - p.ph;
      iw0 = ow * p.sw - p.pw;
      xb = x + nn * p.c_in * p.hw;
    }
  }

  __device__ __forceinline__ void load(int k0, float (&ra)[Cfg::A_PER], float (&rb)[Cfg::B_PER]) const {
    const int tid = static_cast<int>(threadIdx.x);
#pragma unroll
    for (int j = 0; j < Cfg::A_PER; ++j) {
      const int m = m0 + SA::x_of(tid, j), k = k0 + SA::k_of(tid, j);
      ra[j] = (m < p.c_out && k < k_total) ? __ldg(w + m * k_total + k) : 0.0f;
    }
#pragma unroll
    for (int j = 0; j < Cfg::B_PER; ++j) {
      const int k = k0 + SB::k_of(tid, j);
      float v = 0.0f;
      if (col_ok && k < k_total) {
        int c = 0, r = 0, s = 0;
        split_k<KH, KW>(p, k, c, r, s);
        const int ih = ih0 + r, iw = iw0 + s;
        if (static_cast<unsigned>(ih) < static_cast<unsigned>(p.h) && static_cast<unsigned>(iw) < static_cast<unsigned>(p.w))
          v = __ldg(xb + (c * p.h + ih) * p.w + iw);
      }
      rb[j] = v;
    }
  }
};

template <class Cfg, int KH, int KW>
__global__ void __launch_bounds__(Cfg::NT, Cfg::MIN_BLOCKS)
    conv2d_fwd_implicit_gemm_kernel(ConvParams p, const float* __restrict__ x, const float* __restrict__ w,
                                    const float* __restrict__ b, float* __restrict__ y, bool vec_store) {
  extern __shared__ float4 conv2d_smem[];
  float* smem = reinterpret_cast<float*>(conv2d_smem);
  const int m0 = static_cast<int>(blockIdx.y) * Cfg::BM;
  const int n0 = static_cast<int>(blockIdx.x) * Cfg::BN;
  const FwdProb<Cfg, KH, KW> prob(p, x, w, m0, n0);
  float acc[Cfg::TM][Cfg::TN];
  gemm_mainloop<Cfg>(prob, 0, prob.k_total, smem, acc);
  store_nchw<Cfg>(acc, m0, n0, p.c_out, p.howo, p.n * p.howo, p.div_howo, b, y, vec_store);
}

// ---- backward data: dx = Σ_{co,r,s} w[co,ci,r,s] · dy[n, co, (ih+ph-r)/sh, (iw+pw-s)/sw] -----------

// A (C_in × C_out·kh·kw): A(ci, (co,r,s)) = w[co, ci, r, s], gathered along k. B (C_out·kh·kw × N·H·W):
// the dy element that input pixel (n, ih, iw) receives through kernel tap (r, s) of channel co, or 0
// when (ih + ph - r) is not a multiple of sh or falls outside dy. Each thread keeps one input pixel.
template <class Cfg, int KH, int KW, bool UNIT_STRIDE>
struct BwdDataProb {
  static constexpr bool A_ALONG_K = true;
  static constexpr bool B_ALONG_K = false;
  using SA = Slots<Cfg, true, Cfg::BM>;
  using SB = Slots<Cfg, false, Cfg::BN>;
  const ConvParams& p;
  const float* __restrict__ w;
  int m0 = 0, k_total = 0;
  bool col_ok = false;
  const float* __restrict__ dyb = nullptr;  // dy of this thread's sample
  int th0 = 0, tw0 = 0;                     // ih + ph, iw + pw

  __device__ __forceinline__ BwdDataProb(const ConvParams& p_, const float* __restrict__ dy, const float* __restrict__ w_,
                         int m0_, int n0)
      : p(p_), w(w_), m0(m0_), k_total(p_.c_out * p_.khw) {
    const int col = n0 + SB::x_of(static_cast<int>(threadIdx.x), 0);
    col_ok = col < p.n * p.hw;
    if (col_ok) {
      int nn = 0, q = 0, ih = 0, iw = 0;
      p.div_hw.divmod(col, nn, q);
      p.div_w.divmod(q, ih, iw);
      th0 = ih + p.ph;
      tw0 = iw + p.pw;
      dyb = dy + nn * p.c_out * p.howo;
    }
  }

  // Output position along one axis that input offset t (= i + pad - tap) maps to, or -1.
  __device__ __forceinline__ static int out_pos(int t, int stride_extent, const FastDiv& div_stride) {
    if constexpr (UNIT_STRIDE) {
      return (t >= 0 && t < stride_extent) ? t : -1;
    } else {
      if (t < 0) return -1;
      int o = 0, rem = 0;
      div_stride.divmod(t, o, rem);
      return (rem == 0 && o < stride_extent) ? o : -1;
    }
  }

  __device__ __forceinline__ void load(int k0, float (&ra)[Cfg::A_PER], float (&rb)[Cfg::B_PER]) const {
    const int tid = static_cast<int>(threadIdx.x);
#pragma unroll
    for (int j = 0; j < Cfg::A_PER; ++j) {
      const int m = m0 + SA::x_of(tid, j), k = k0 + SA::k_of(tid, j);
      float v = 0.0f;
      if (m < p.c_in && k < k_total) {
        int co = 0, r = 0, s = 0;
        split_k<KH, KW>(p, k, co, r, s);
        v = __ldg(w + ((co * p.c_in + m) * p.kh + r) * p.kw + s);  // w[co, ci = m, r, s]
      }
      ra[j] = v;
    }
#pragma unroll
    for (int j = 0; j < Cfg::B_PER; ++j) {
      const int k = k0 + SB::k_of(tid, j);
      float v = 0.0f;
      if (col_ok && k < k_total) {
        int co = 0, r = 0, s = 0;
        split_k<KH, KW>(p, k, co, r, s);
        const int oh = out_pos(th0 - r, p.ho, p.div_sh);
        const int ow = out_pos(tw0 - s, p.wo, p.div_sw);
        if (oh >= 0 && ow >= 0) v = __ldg(dyb + (co * p.ho + oh) * p.wo + ow);
      }
      rb[j] = v;
    }
  }
};

template <class Cfg, int KH, int KW, bool UNIT_STRIDE>
__global__ void __launch_bounds__(Cfg::NT, Cfg::MIN_BLOCKS)
    conv2d_bwd_data_implicit_gemm_kernel(ConvParams p, const float* __restrict__ dy, const float* __restrict__ w,
                                         float* __restrict__ dx, bool vec_store) {
  extern __shared__ float4 conv2d_smem[];
  float* smem = reinterpret_cast<float*>(conv2d_smem);
  const int m0 = static_cast<int>(blockIdx.y) * Cfg::BM;
  const int n0 = static_cast<int>(blockIdx.x) * Cfg::BN;
  const BwdDataProb<Cfg, KH, KW, UNIT_STRIDE> prob(p, dy, w, m0, n0);
  float acc[Cfg::TM][Cfg::TN];
  gemm_mainloop<Cfg>(prob, 0, prob.k_total, smem, acc);
  store_nchw<Cfg>(acc, m0, n0, p.c_in, p.hw, p.n * p.hw, p.div_hw, nullptr, dx, vec_store);
}

// ---- backward weights: dw += dy · im2col(x)ᵀ, split along the output pixels ----------------------

// A = dy (C_out × N·Ho·Wo), B = im2col(x)ᵀ (N·Ho·Wo × C_in·kh·kw); both gathered along the pixels
// (the reduction), where both are contiguous: each thread decodes one pixel per step for all its
// slots. The block's BN weight columns are decoded once into a shared table (`cols`).
struct WeightCol {
  int x_off;   // c·H·W + r·W + s, or -1 past the last column
  int r, s;    // kernel tap
  int unused;  // pads the entry to 16 bytes (one shared-memory load)
};

template <class Cfg>
struct BwdWeightProb {
  static constexpr bool A_ALONG_K = true;
  static constexpr bool B_ALONG_K = true;
  using SA = Slots<Cfg, true, Cfg::BM>;
  using SB = Slots<Cfg, true, Cfg::BN>;
  const ConvParams& p;
  const float* __restrict__ x;
  const float* __restrict__ dy;
  const WeightCol* cols;  // (BN) in shared memory
  int m0 = 0, k_end = 0;

  __device__ __forceinline__ BwdWeightProb(const ConvParams& p_, const float* __restrict__ x_,
                                           const float* __restrict__ dy_, const WeightCol* cols_, int m0_, int k_end_)
      : p(p_), x(x_), dy(dy_), cols(cols_), m0(m0_), k_end(k_end_) {}

  __device__ __forceinline__ void load(int k0, float (&ra)[Cfg::A_PER], float (&rb)[Cfg::B_PER]) const {
    const int tid = static_cast<int>(threadIdx.x);
    const int pix = k0 + SA::k_of(tid, 0);  // the same pixel for every slot of A and B
    const bool ok = pix < k_end;
    int nn = 0, q = 0, oh = 0, ow = 0;
    if (ok) {
      p.div_howo.divmod(pix, nn, q);
      p.div_wo.divmod(q, oh, ow);
    }
    const float* __restrict__ g = dy + nn * p.c_out * p.howo + q;  // dy[nn, :, oh, ow]
    const int ih0 = oh * p.sh - p.ph, iw0 = ow * p.sw - p.pw;
    const int base = nn * p.c_in * p.hw + ih0 * p.w + iw0;  // x index of tap (0, 0) of channel 0 (may be < 0)
#pragma unroll
    for (int j = 0; j < Cfg::A_PER; ++j) {
      const int m = m0 + SA::x_of(tid, j);
      ra[j] = (ok && m < p.c_out) ? __ldg(g + m * p.howo) : 0.0f;
    }
#pragma unroll
    for (int j = 0; j < Cfg::B_PER; ++j) {
      const WeightCol c = cols[SB::x_of(tid, j)];
      const int ih = ih0 + c.r, iw = iw0 + c.s;
      const bool in = ok && c.x_off >= 0 && static_cast<unsigned>(ih) < static_cast<unsigned>(p.h) &&
                      static_cast<unsigned>(iw) < static_cast<unsigned>(p.w);
      rb[j] = in ? __ldg(x + base + c.x_off) : 0.0f;
    }
  }
};

// Split z (blockIdx.z) reduces pixels [z·chunk, min((z+1)·chunk, N·Ho·Wo)) and writes its partial tile
// to out + z·C_out·K (accumulate = false), or adds it to dw itself when there is one split
// (accumulate = true, out = dw).
// Dynamic shared memory: Cfg::SMEM_FLOATS floats of stages, then the (BN) column table.
template <class Cfg>
__global__ void __launch_bounds__(Cfg::NT, Cfg::MIN_BLOCKS)
    conv2d_bwd_weight_implicit_gemm_kernel(ConvParams p, const float* __restrict__ x, const float* __restrict__ dy,
                                           float* __restrict__ out, int chunk, bool accumulate) {
  extern __shared__ float4 conv2d_smem[];
  float* smem = reinterpret_cast<float*>(conv2d_smem);
  auto* cols = reinterpret_cast<WeightCol*>(smem + Cfg::SMEM_FLOATS);  // (BN)
  const int m0 = static_cast<int>(blockIdx.y) * Cfg::BM;
  const int n0 = static_cast<int>(blockIdx.x) * Cfg::BN;
  const int kw_total = p.c_in * p.khw;
  for (int i = static_cast<int>(threadIdx.x); i < Cfg::BN; i += Cfg::NT) {
    WeightCol c{-1, 0, 0, 0};
    if (n0 + i < kw_total) {
      int ch = 0;
      split_k<0, 0>(p, n0 + i, ch, c.r, c.s);
      c.x_off = ch * p.hw + c.r * p.w + c.s;
    }
    cols[i] = c;
  }
  __syncthreads();  // the table is read by the first gather
  const int pixels = p.n * p.howo;
  const int k_begin = static_cast<int>(blockIdx.z) * chunk;
  const int k_end = min(pixels, k_begin + chunk);
  const BwdWeightProb<Cfg> prob(p, x, dy, cols, m0, k_end);
  float acc[Cfg::TM][Cfg::TN];
  gemm_mainloop<Cfg>(prob, k_begin, k_end, smem, acc);

  float* __restrict__ dst = out + static_cast<int>(blockIdx.z) * p.c_out * kw_total;
  const int tid = static_cast<int>(threadIdx.x);
  const int tx = tid % Cfg::TX, ty = tid / Cfg::TX;
#pragma unroll
  for (int i = 0; i < Cfg::TM; ++i) {
    const int m = m0 + frag_pos<Cfg::TM, Cfg::BM>(ty, i);
    if (m >= p.c_out) continue;
#pragma unroll
    for (int j = 0; j < Cfg::TN; ++j) {
      const int col = n0 + frag_pos<Cfg::TN, Cfg::BN>(tx, j);
      if (col >= kw_total) continue;
      float* o = dst + m * kw_total + col;
      *o = accumulate ? *o + acc[i][j] : acc[i][j];
    }
  }
}

// dw[i] += Σ_{z = 0 .. splits-1} partial[z·count + i], summed in split order.
__global__ void __launch_bounds__(256)
    conv2d_bwd_weight_reduce_kernel(const float* __restrict__ partial, int splits, int count, float* __restrict__ dw) {
  const int i = static_cast<int>(blockIdx.x) * static_cast<int>(blockDim.x) + static_cast<int>(threadIdx.x);
  if (i >= count) return;
  float sum = 0.0f;
  for (int z = 0; z < splits; ++z) sum += __ldg(partial + z * count + i);
  dw[i] += sum;
}

// db[co] += Σ_{n, q} dy[n, co, q]: one block per channel, a fixed-shape tree over NT threads.
template <int NT>
__global__ void __launch_bounds__(NT)
    conv2d_bwd_bias_kernel(const float* __restrict__ dy, int n, int c_out, int howo, float* __restrict__ db) {
  __shared__ float red[NT];
  const int co = static_cast<int>(blockIdx.x);
  const int tid = static_cast<int>(threadIdx.x);
  float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};  // four independent chains keep more loads in flight
  for (int nn = 0; nn < n; ++nn) {
    const float* __restrict__ g = dy + (nn * c_out + co) * howo;
    int q = tid;
    for (; q + 3 * NT < howo; q += 4 * NT) {
      acc[0] += __ldg(g + q);
      acc[1] += __ldg(g + q + NT);
      acc[2] += __ldg(g + q + 2 * NT);
      acc[3] += __ldg(g + q + 3 * NT);
    }
    for (; q < howo; q += NT) acc[0] += __ldg(g + q);
  }
  red[tid] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  __syncthreads();
#pragma unroll
  for (int stride = NT / 2; stride > 0; stride /= 2) {
    if (tid < stride) red[tid] += red[tid + stride];
    __syncthreads();
  }
  if (tid == 0) db[co] += red[0];
}

}  // namespace ser::cuda::conv
