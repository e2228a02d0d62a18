// src/simt/device_api.hpp — CUDA's device-side language for the SIMT emulator: qualifiers, the
// built-in index variables, __syncthreads and the *_sync warp shuffles (each call names its site,
// so diagnostics point at the kernel's own file:line), and the intrinsics ser's kernels use, with
// their CUDA semantics on the CPU (the _rn forms round to nearest, as plain IEEE operations do when
// nothing is contracted: the emulator build compiles with -ffp-contract=off).
#pragma once
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "simt/device_runtime.hpp"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) alignas(n)

#define threadIdx (::simt::current_view().thread_idx)
#define blockIdx (::simt::current_view().block_idx)
#define blockDim (::simt::current_view().block_dim)
#define gridDim (::simt::current_view().grid_dim)

#define SIMT_SITE (::simt::Site{__FILE__, __LINE__})
#define __syncthreads() ::simt::syncthreads(SIMT_SITE)
#define __syncwarp(...) ::simt::syncwarp(SIMT_SITE, ##__VA_ARGS__)
#define __shfl_sync(...) ::simt::shfl(::simt::WarpKind::shfl_idx, SIMT_SITE, __VA_ARGS__)
#define __shfl_up_sync(...) ::simt::shfl(::simt::WarpKind::shfl_up, SIMT_SITE, __VA_ARGS__)
#define __shfl_down_sync(...) ::simt::shfl(::simt::WarpKind::shfl_down, SIMT_SITE, __VA_ARGS__)
#define __shfl_xor_sync(...) ::simt::shfl(::simt::WarpKind::shfl_xor, SIMT_SITE, __VA_ARGS__)

namespace simt {

template <class T>
inline T shfl(WarpKind kind, Site site, unsigned mask, T value, int arg, int width = 32) {
  static_assert(sizeof(T) <= sizeof(std::uint64_t) && std::is_trivially_copyable_v<T>, "shuffle of a 4- or 8-byte value");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  bits = warp_op(kind, mask, bits, arg, width, site);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}

inline void syncwarp(Site site, unsigned mask = 0xffffffffu) { warp_op(WarpKind::syncwarp, mask, 0, 0, 32, site); }

inline void threadfence() {}

}  // namespace simt

#define __threadfence() ::simt::threadfence()
#define __threadfence_block() ::simt::threadfence()

constexpr int warpSize = 32;

// ---- memory ----------------------------------------------------------------------------------------
template <class T>
inline T __ldg(const T* p) {
  return *p;
}

// ---- integer intrinsics ------------------------------------------------------------------------
inline unsigned __umulhi(unsigned a, unsigned b) {
  return static_cast<unsigned>((static_cast<std::uint64_t>(a) * b) >> 32);
}
inline int __mulhi(int a, int b) { return static_cast<int>((static_cast<std::int64_t>(a) * b) >> 32); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i, x >>= 1) r = (r << 1) | (x & 1u);
  return r;
}
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }

// ---- bit casts ---------------------------------------------------------------------------------------
inline float __int_as_float(int x) {
  float f;
  std::memcpy(&f, &x, sizeof f);
  return f;
}
inline int __float_as_int(float f) {
  int x;
  std::memcpy(&x, &f, sizeof x);
  return x;
}
inline float __uint_as_float(unsigned x) {
  float f;
  std::memcpy(&f, &x, sizeof f);
  return f;
}
inline unsigned __float_as_uint(float f) {
  unsigned x;
  std::memcpy(&x, &f, sizeof x);
  return x;
}
inline double __longlong_as_double(long long x) {
  double d;
  std::memcpy(&d, &x, sizeof d);
  return d;
}
inline long long __double_as_longlong(double d) {
  long long x;
  std::memcpy(&x, &d, sizeof x);
  return x;
}

// ---- correctly rounded arithmetic (never contracted into an FMA) ----------------------------
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __dsqrt_rn(double a) { return std::sqrt(a); }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }

// ---- fast-math forms: the accurate functions (the GPU's are less accurate, never more) -------
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }

// ---- CUDA's global min / max overloads ------------------------------------------------------
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a > b ? a : b; }
inline unsigned long min(unsigned long a, unsigned long b) { return a < b ? a : b; }
inline unsigned long max(unsigned long a, unsigned long b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }

// ---- shared memory (the rewriter's targets) --------------------------------------------------
namespace simt {
template <class T>
inline T& static_shared_var(const char* key) {
  return *static_cast<T*>(static_shared(key, sizeof(T), alignof(T)));
}
template <class T>
inline T* dynamic_shared_array() {
  return static_cast<T*>(dynamic_shared(alignof(T)));
}
}  // namespace simt
