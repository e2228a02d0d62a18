// kernels/conv2d/direct_cpu.cpp — direct 3x3 convolution of one input channel
// (direct_cpu.hpp): the forward and the weight / bias gradients without im2col or GEMM.
//
// A chunk is kRowsPerChunk output rows of one sample. Its three-row-taller slice of the input is
// first copied into a zero-bordered plane, so the inner loops have no bounds tests: output column
// ow reads plane columns ow, ow + 1, ow + 2. Vectors run along the output width (contiguous, the
// mel axis); the 9 input vectors of a tap window are loaded once and reused by every output
// channel. The weight gradient sums dy * x per lane over the chunk, then the lanes in order: one
// partial per (chunk, channel, tap), added in chunk order at the end.
//
// Vectors are GCC vector extensions of a fixed 32 bytes (8 floats, 4 doubles): which elements a
// lane sums never depends on the machine. The row kernels are compiled for x86-64-v4, -v3 and the
// baseline (target_clones, chosen at load time); the baseline runs each vector as two SSE halves.
// Like the rest of ser_core this file is built with -ffp-contract=off, so every clone does the same
// multiplies and adds, in the same order, and gives the same bits.
#include "conv2d/direct_cpu.hpp"
#include "ser/device.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <thread>
#include <vector>

namespace ser::nn {
namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SER_CONV_DIRECT_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SER_CONV_DIRECT_CLONES
#endif

// Output rows per chunk: the unit of work a thread takes, and of the weight gradient's partial
// sums. A constant, so the sums do not depend on the thread count. 32 rows of a 64-mel input make
// a padded plane of 34 x 66 floats (9 KB, in L1).
constexpr int kRowsPerChunk = 32;
constexpr int kTaps = 9;                 // 3 x 3
constexpr int kSums = kTaps + 1;         // per (chunk, channel): 9 tap sums, then the dy sum (bias)
constexpr std::size_t kVecBytes = 32;    // one AVX register

template <typename T>
struct Simd {
  typedef T Vec __attribute__((vector_size(kVecBytes)));
  static constexpr int lanes = static_cast<int>(kVecBytes / sizeof(T));
};

// Vector <-> memory for the first n lanes (the short last vector of a row), the others zero. Through
// a small array: writing single lanes of a vector makes GCC keep it in memory, and a loop-carried
// vector in memory costs a store-to-load round trip per iteration.
template <typename T, typename Vec>
inline void load_first(Vec& v, const T* src, int n) {
  T lanes[sizeof(Vec) / sizeof(T)] = {};
  std::copy_n(src, n, lanes);
  std::memcpy(&v, lanes, sizeof v);
}
template <typename T, typename Vec>
inline void store_first(const Vec& v, int n, T* dst) {
  T lanes[sizeof(Vec) / sizeof(T)];
  std::memcpy(lanes, &v, sizeof v);
  std::copy_n(lanes, n, dst);
}

// Plane columns: every full vector read at ow0 + q (q <= 2) stays inside, and the input row fits
// at column pw.
int plane_width(const Conv2dShape& s, int lanes) {
  const int wo = s.w_out();
  const int vec_cols = (wo + lanes - 1) / lanes * lanes;
  return std::max(vec_cols + 2, s.w + s.pw);
}

// plane (rows + 2, wp) <- the input rows that output rows [oh0, oh0 + rows) read, input column iw
// at plane column iw + pw, zeros where the padding (or the vector overhang) is.
template <typename T>
void fill_plane(const Conv2dShape& s, const T* x_n, int oh0, int rows, int wp, T* plane) {
  for (int p = 0; p < rows + 2; ++p) {
    T* dst = plane + static_cast<std::size_t>(p) * wp;
    std::fill(dst, dst + wp, T(0));
    const int ih = oh0 + p - s.ph;
    if (ih >= 0 && ih < s.h) std::copy_n(x_n + static_cast<std::size_t>(ih) * s.w, s.w, dst + s.pw);
  }
}

// y_n rows [oh0, oh0 + rows) of every channel (y_n: (C_out, H_out, W_out)) from the chunk's plane.
// Per output element: the 9 products in tap order (row-major over the kernel), then the bias.
template <typename T>
SER_CONV_DIRECT_CLONES void forward_chunk(const Conv2dShape& s, const T* plane, int wp, const T* w, const T* b,
                                          int oh0, int rows, T* y_n) {
  using Vec = typename Simd<T>::Vec;
  constexpr int L = Simd<T>::lanes;
  const int ho = s.h_out(), wo = s.w_out();
  for (int r = 0; r < rows; ++r) {
    const T* p = plane + static_cast<std::size_t>(r) * wp;  // plane rows r, r + 1, r + 2 feed output row oh0 + r
    for (int ow0 = 0; ow0 < wo; ow0 += L) {
      Vec xv[kTaps];  // the window's 9 shifted input vectors, shared by every output channel
      for (int t = 0; t < kTaps; ++t) std::memcpy(&xv[t], p + (t / 3) * wp + ow0 + t % 3, sizeof(Vec));
      const int valid = std::min(L, wo - ow0);
      for (int co = 0; co < s.c_out; ++co) {
        const T* k = w + co * kTaps;  // (3, 3)
        Vec acc = xv[0] * k[0];
        for (int t = 1; t < kTaps; ++t) acc += xv[t] * k[t];
        if (b) acc += b[co];
        T* dst = y_n + (static_cast<std::size_t>(co) * ho + oh0 + r) * wo + ow0;
        if (valid == L) std::memcpy(dst, &acc, sizeof acc);
        else store_first(acc, valid, dst);
      }
    }
  }
}

// part rows [co0, co0 + kChannels) of (C_out, kSums): per channel, over the chunk's output rows
// [oh0, oh0 + rows) of dy_n (C_out, H_out, W_out): Σ dy * x for each tap, then Σ dy. Each lane sums
// its own columns in row order; the lanes are then added in lane order. A short last vector reads
// dy as zeros past W_out. The channels of one pass share the 9 input loads; how channels are
// grouped into passes changes no sum's order.
template <typename T, int kChannels>
inline __attribute__((always_inline)) void backward_channels(const Conv2dShape& s, const T* plane, int wp,
                                                             const T* dy_n, int oh0, int rows, int co0, T* part) {
  using Vec = typename Simd<T>::Vec;
  constexpr int L = Simd<T>::lanes;
  const int ho = s.h_out(), wo = s.w_out();
  const int full = wo / L * L;  // columns in whole vectors
  Vec acc[kChannels][kSums] = {};
  // acc += the products of the dy vectors d at column ow0 with the 9 shifted input vectors
  const auto add = [&](const Vec (&d)[kChannels], const T* p, int ow0) __attribute__((always_inline)) {
    for (int c = 0; c < kChannels; ++c) acc[c][kTaps] += d[c];
    for (int t = 0; t < kTaps; ++t) {
      Vec xv;
      std::memcpy(&xv, p + (t / 3) * wp + ow0 + t % 3, sizeof xv);
      for (int c = 0; c < kChannels; ++c) acc[c][t] += d[c] * xv;
    }
  };
  for (int r = 0; r < rows; ++r) {
    const T* g[kChannels];  // (W_out) row oh0 + r of each channel
    for (int c = 0; c < kChannels; ++c) g[c] = dy_n + (static_cast<std::size_t>(co0 + c) * ho + oh0 + r) * wo;
    const T* p = plane + static_cast<std::size_t>(r) * wp;
    for (int ow0 = 0; ow0 < full; ow0 += L) {
      Vec d[kChannels];
      for (int c = 0; c < kChannels; ++c) std::memcpy(&d[c], g[c] + ow0, sizeof d[c]);
      add(d, p, ow0);
    }
    if (full < wo) {
      Vec d[kChannels];
      for (int c = 0; c < kChannels; ++c) load_first(d[c], g[c] + full, wo - full);
      add(d, p, full);
    }
  }
  for (int c = 0; c < kChannels; ++c)
    for (int i = 0; i < kSums; ++i) {
      T sum = acc[c][i][0];
      for (int j = 1; j < L; ++j) sum += acc[c][i][j];
      part[(co0 + c) * kSums + i] = sum;
    }
}

// part (C_out, kSums) for one chunk: backward_channels four channels at a time (measured on Zen 4
// with the model's shape: 1.5x two at a time, and faster than eight, which spill), then the rest.
template <typename T>
SER_CONV_DIRECT_CLONES void backward_chunk(const Conv2dShape& s, const T* plane, int wp, const T* dy_n, int oh0,
                                           int rows, T* part) {
  int co = 0;
  for (; co + 4 <= s.c_out; co += 4) backward_channels<T, 4>(s, plane, wp, dy_n, oh0, rows, co, part);
  for (; co + 2 <= s.c_out; co += 2) backward_channels<T, 2>(s, plane, wp, dy_n, oh0, rows, co, part);
  if (co < s.c_out) backward_channels<T, 1>(s, plane, wp, dy_n, oh0, rows, co, part);
}

int chunks_per_sample(const Conv2dShape& s) { return (s.h_out() + kRowsPerChunk - 1) / kRowsPerChunk; }

// Threads for `flops` of work in `chunks` chunks: a thread start costs some tens of microseconds,
// so each thread gets at least a few MFLOP (and one chunk).
int thread_count(int requested, double flops, int chunks) {
  if (requested > 0) return std::min(requested, chunks);
  constexpr double kMinFlopsPerThread = 4e6;
  const int cores = cpu_threads();  // the process's share of the machine (--threads)
  const int worth = static_cast<int>(std::max(1.0, flops / kMinFlopsPerThread));
  return std::max(1, std::min({cores, worth, chunks}));
}

// work(slot, chunk) for every chunk in [0, chunks), on `threads` threads (slot 0 the calling one;
// slot s owns scratch slice s). Threads take the next chunk as they finish one, so a core that is
// busy with something else takes fewer; which thread runs a chunk changes none of its bits.
template <typename Work>
void run_chunks(int threads, int chunks, const Work& work) {
  std::atomic<int> next{0};
  const auto worker = [&](int slot) {
    for (;;) {
      const int c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks) return;
      work(slot, c);
    }
  };
  std::vector<std::jthread> helpers;  // joined when they go out of scope
  helpers.reserve(threads - 1);
  for (int t = 1; t < threads; ++t) helpers.emplace_back(worker, t);
  worker(0);
}

// Grow-only scratch of the calling thread, at least `count` elements (the helpers use slices of it).
template <typename T>
T* scratch(std::size_t count) {
  thread_local std::vector<T> buf;
  if (buf.size() < count) buf.resize(count);
  return buf.data();
}

}  // namespace

bool conv2d_direct_applies(const Conv2dShape& s) {
  return s.c_in == 1 && s.kh == 3 && s.kw == 3 && s.sh == 1 && s.sw == 1 && s.ph <= 1 && s.pw <= 1;
}

template <typename T>
void conv2d_direct_forward_cpu(const Conv2dShape& s, const T* x, const T* w, const T* b, T* y, int threads) {
  const int per_sample = chunks_per_sample(s);
  const int chunks = s.n * per_sample;
  const int wp = plane_width(s, Simd<T>::lanes);
  const std::size_t plane_n = static_cast<std::size_t>(kRowsPerChunk + 2) * wp;
  const std::size_t out_plane = static_cast<std::size_t>(s.c_out) * s.h_out() * s.w_out();
  threads = thread_count(threads, s.flops_forward(), chunks);
  T* planes = scratch<T>(plane_n * threads);  // (threads, kRowsPerChunk + 2, wp)
  run_chunks(threads, chunks, [&](int slot, int c) {
    T* plane = planes + slot * plane_n;
    const int n = c / per_sample, oh0 = (c % per_sample) * kRowsPerChunk;
    const int rows = std::min(kRowsPerChunk, s.h_out() - oh0);
    fill_plane(s, x + static_cast<std::size_t>(n) * s.h * s.w, oh0, rows, wp, plane);
    forward_chunk(s, plane, wp, w, b, oh0, rows, y + n * out_plane);
  });
}

template <typename T>
void conv2d_direct_backward_params_cpu(const Conv2dShape& s, const T* x, const T* dy, T* dw, T* db, int threads) {
  if (!dw && !db) return;
  const int per_sample = chunks_per_sample(s);
  const int chunks = s.n * per_sample;
  const int wp = plane_width(s, Simd<T>::lanes);
  const std::size_t plane_n = static_cast<std::size_t>(kRowsPerChunk + 2) * wp;
  const std::size_t part_n = static_cast<std::size_t>(s.c_out) * kSums;
  const std::size_t out_plane = static_cast<std::size_t>(s.c_out) * s.h_out() * s.w_out();
  threads = thread_count(threads, s.flops_forward(), chunks);
  T* planes = scratch<T>(plane_n * threads + part_n * chunks);  // (threads, kRowsPerChunk + 2, wp)
  T* parts = planes + plane_n * threads;                        // (chunks, C_out, kSums)
  run_chunks(threads, chunks, [&](int slot, int c) {
    T* plane = planes + slot * plane_n;
    const int n = c / per_sample, oh0 = (c % per_sample) * kRowsPerChunk;
    const int rows = std::min(kRowsPerChunk, s.h_out() - oh0);
    fill_plane(s, x + static_cast<std::size_t>(n) * s.h * s.w, oh0, rows, wp, plane);
    backward_chunk(s, plane, wp, dy + n * out_plane, oh0, rows, parts + c * part_n);
  });
  // The chunks' partials, added in chunk order, then to the gradients.
  for (int co = 0; co < s.c_out; ++co)
    for (int i = 0; i < kSums; ++i) {
      if (i < kTaps ? !dw : !db) continue;
      T sum = 0;
      for (int c = 0; c < chunks; ++c) sum += parts[c * part_n + co * kSums + i];
      if (i < kTaps) dw[co * kTaps + i] += sum;
      else db[co] += sum;
    }
}

template void conv2d_direct_forward_cpu<float>(const Conv2dShape&, const float*, const float*, const float*, float*,
                                               int);
template void conv2d_direct_forward_cpu<double>(const Conv2dShape&, const double*, const double*, const double*,
                                                double*, int);
template void conv2d_direct_backward_params_cpu<float>(const Conv2dShape&, const float*, const float*, float*, float*,
                                                       int);
template void conv2d_direct_backward_params_cpu<double>(const Conv2dShape&, const double*, const double*, double*,
                                                        double*, int);

}  // namespace ser::nn
