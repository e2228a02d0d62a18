// The CUDA attention and temporal-pooling kernels (kernels/sdpa/cuda.cu, kernels/temporal_pool/cuda.cu) against
// their CPU twins (kernels/sdpa/cpu.cpp, kernels/temporal_pool/cpu.cpp), through the dispatch functions
// with a Device::cuda context: odd sizes (T = 1, 7, 33, 130, 257; head_dim 5, 16, 24, 33, 64, 128;
// heads 1, 3, 4), key-padding masks with several lengths per batch (0 and 1 included), large logits,
// outputs poisoned with NaN before every launch, and determinism (two runs bit-identical). Skips
// without a usable GPU.
#ifdef SER_WITH_CUDA

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/attention.hpp"
#include "ser/nn/exec.hpp"
#include "test_util.hpp"

namespace ser::nn {
namespace {

using test::DeviceArray;
using test::nmse;
using test::random_nonzero;

ExecContext gpu_context() {
  ExecContext c;
  c.device = Device::cuda;
  return c;
}

const int* dptr(const DeviceArray<int>* lengths) { return lengths ? lengths->get() : nullptr; }

// All finite, max |gpu - cpu| <= abs_tol, and NMSE against the twin <= nmse_tol where the twin's
// values are not all rounding noise around 0 (RMS > 1e-4; e.g. dq, dk of a one-step sequence are 0 up
// to rounding, and the NMSE of noise against noise means nothing).
void expect_close(const std::vector<float>& gpu, const std::vector<float>& cpu, double nmse_tol, double abs_tol,
                  const std::string& what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  double max_abs = 0, sq = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    ASSERT_TRUE(std::isfinite(gpu[i])) << what << "[" << i << "] = " << gpu[i] << " (unwritten or NaN)";
    max_abs = std::max(max_abs, std::abs(static_cast<double>(gpu[i]) - cpu[i]));
    sq += static_cast<double>(cpu[i]) * cpu[i];
  }
  if (sq > 1e-8 * static_cast<double>(cpu.size())) {
    EXPECT_LE(nmse(gpu, cpu), nmse_tol) << what;
  }
  EXPECT_LE(max_abs, abs_tol) << what;
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Rows t >= lengths[n] of x (N, T, inner) are exactly zero (masked outputs / gradients).
void expect_masked_rows_zero(const std::vector<float>& x, int n, int t, std::size_t inner,
                             const std::vector<int>& lengths, const std::string& what) {
  ASSERT_EQ(x.size(), static_cast<std::size_t>(n) * t * inner) << what;
  if (lengths.empty()) return;
  std::size_t nonzero = 0;
  for (int b = 0; b < n; ++b)
    for (int s = std::max(lengths[static_cast<std::size_t>(b)], 0); s < t; ++s)
      for (std::size_t i = 0; i < inner; ++i)
        if (x[(static_cast<std::size_t>(b) * t + s) * inner + i] != 0.0f) ++nonzero;
  EXPECT_EQ(nonzero, 0u) << what;
}

// lse (N, heads, T): 0 at t >= lengths[n].
void expect_masked_lse_zero(const std::vector<float>& lse, int n, int heads, int t, const std::vector<int>& lengths,
                            const std::string& what) {
  for (int h = 0; h < heads; ++h) {
    std::vector<float> plane;  // (N, T) of head h
    for (int b = 0; b < n; ++b)
      for (int s = 0; s < t; ++s) plane.push_back(lse[(static_cast<std::size_t>(b) * heads + h) * t + s]);
    expect_masked_rows_zero(plane, n, t, 1, lengths, what);
  }
}

// ---- scaled dot-product attention ---------------------------------------------------------------------

struct SdpaCase {
  int n, t, heads, head_dim;
  std::vector<int> lengths;  // empty = all T
};

std::string name_of(const SdpaCase& c) {
  return "N" + std::to_string(c.n) + " T" + std::to_string(c.t) + " heads" + std::to_string(c.heads) +
         " head_dim" + std::to_string(c.head_dim);
}

SdpaShape shape_of(const SdpaCase& c) {
  return SdpaShape{c.n, c.t, c.heads, c.head_dim, static_cast<float>(1.0 / std::sqrt(double(c.head_dim)))};
}

std::vector<SdpaCase> sdpa_cases() {
  return {
      {2, 1, 1, 16, {1, 1}},          // a single step
      {3, 7, 3, 24, {7, 4, 0}},       // bucket 32 partly used, one empty sequence
      {2, 33, 4, 64, {33, 17}},       // one step past a tile
      {3, 130, 1, 16, {130, 65, 1}},  // five tiles, a length-1 sequence
      {2, 130, 3, 64, {97, 130}},
      {2, 33, 3, 5, {33, 20}},        // odd head_dim: scalar tile loads
      {1, 40, 2, 128, {}},            // largest bucket, no mask
      {2, 7, 4, 33, {0, 7}},          // bucket 64 barely used
  };
}

struct SdpaData {
  SdpaShape s;
  std::vector<float> q, k, v, dout;
  std::size_t count() const { return q.size(); }
  std::size_t stats() const { return static_cast<std::size_t>(s.n) * s.heads * s.t; }
};

SdpaData make_data(const SdpaCase& c, std::uint64_t seed, double range = 1.0) {
  SdpaData d;
  d.s = shape_of(c);
  const std::size_t count = static_cast<std::size_t>(c.n) * c.t * c.heads * c.head_dim;
  d.q = random_nonzero<float>(count, seed, -range, range);
  d.k = random_nonzero<float>(count, seed + 1, -range, range);
  d.v = random_nonzero<float>(count, seed + 2);
  d.dout = random_nonzero<float>(count, seed + 3);
  return d;
}

struct Forward {
  std::vector<float> o, lse;
};

Forward gpu_forward(const SdpaData& d, const std::vector<int>& lengths) {
  DeviceArray<float> q(d.q), k(d.k), v(d.v), o(d.count()), lse(d.stats());  // o, lse NaN-poisoned
  std::unique_ptr<DeviceArray<int>> len;
  if (!lengths.empty()) len = std::make_unique<DeviceArray<int>>(lengths);
  sdpa_forward(gpu_context(), d.s, q.get(), k.get(), v.get(), dptr(len.get()), o.get(), lse.get(), nullptr);
  return {o.download(), lse.download()};
}

struct Grads {
  std::vector<float> dq, dk, dv;
};

Grads gpu_backward(const SdpaData& d, const Forward& f, const std::vector<int>& lengths) {
  const ExecContext ctx = gpu_context();
  DeviceArray<float> q(d.q), k(d.k), v(d.v), o(f.o), lse(f.lse), dout(d.dout);
  DeviceArray<float> dq(d.count()), dk(d.count()), dv(d.count());  // NaN-poisoned
  DeviceArray<float> ws(sdpa_workspace_bytes(ctx, d.s) / sizeof(float));
  std::unique_ptr<DeviceArray<int>> len;
  if (!lengths.empty()) len = std::make_unique<DeviceArray<int>>(lengths);
  sdpa_backward(ctx, d.s, q.get(), k.get(), v.get(), o.get(), lse.get(), dout.get(), dptr(len.get()), dq.get(),
                dk.get(), dv.get(), ws.get());
  return {dq.download(), dk.download(), dv.download()};
}

Forward cpu_forward(const SdpaData& d, const std::vector<int>& lengths) {
  Forward f{std::vector<float>(d.count()), std::vector<float>(d.stats())};
  sdpa_forward_cpu<float>(d.s, d.q.data(), d.k.data(), d.v.data(), lengths.empty() ? nullptr : lengths.data(),
                          f.o.data(), f.lse.data());
  return f;
}

Grads cpu_backward(const SdpaData& d, const Forward& f, const std::vector<int>& lengths) {
  Grads g{std::vector<float>(d.count()), std::vector<float>(d.count()), std::vector<float>(d.count())};
  sdpa_backward_cpu<float>(d.s, d.q.data(), d.k.data(), d.v.data(), f.o.data(), f.lse.data(), d.dout.data(),
                           lengths.empty() ? nullptr : lengths.data(), g.dq.data(), g.dk.data(), g.dv.data());
  return g;
}

TEST(NnAttentionCuda, SdpaForwardMatchesCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 1000;
  for (const SdpaCase& c : sdpa_cases()) {
    const SdpaData d = make_data(c, seed += 10);
    const Forward cpu = cpu_forward(d, c.lengths);
    const Forward gpu = gpu_forward(d, c.lengths);
    expect_close(gpu.o, cpu.o, 1e-10, 1e-5, "o, " + name_of(c));
    expect_close(gpu.lse, cpu.lse, 1e-12, 1e-5, "lse, " + name_of(c));
    const std::size_t inner = static_cast<std::size_t>(c.heads) * c.head_dim;
    expect_masked_rows_zero(gpu.o, c.n, c.t, inner, c.lengths, "masked o rows, " + name_of(c));
    expect_masked_lse_zero(gpu.lse, c.n, c.heads, c.t, c.lengths, "masked lse, " + name_of(c));
  }
}

TEST(NnAttentionCuda, SdpaBackwardMatchesCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 2000;
  for (const SdpaCase& c : sdpa_cases()) {
    const SdpaData d = make_data(c, seed += 10);
    const Forward f = cpu_forward(d, c.lengths);  // both backwards start from the same o, lse
    const Grads cpu = cpu_backward(d, f, c.lengths);
    const Grads gpu = gpu_backward(d, f, c.lengths);
    expect_close(gpu.dq, cpu.dq, 1e-9, 2e-5, "dq, " + name_of(c));
    expect_close(gpu.dk, cpu.dk, 1e-9, 2e-5, "dk, " + name_of(c));
    expect_close(gpu.dv, cpu.dv, 1e-9, 2e-5, "dv, " + name_of(c));
    const std::size_t inner = static_cast<std::size_t>(c.heads) * c.head_dim;
    expect_masked_rows_zero(gpu.dq, c.n, c.t, inner, c.lengths, "masked dq rows, " + name_of(c));
    expect_masked_rows_zero(gpu.dk, c.n, c.t, inner, c.lengths, "masked dk rows, " + name_of(c));
    expect_masked_rows_zero(gpu.dv, c.n, c.t, inner, c.lengths, "masked dv rows, " + name_of(c));
  }
}

TEST(NnAttentionCuda, SdpaForwardThenBackwardMatchesCpuPipeline) {
  SER_SKIP_WITHOUT_GPU();
  const SdpaCase c{3, 61, 2, 32, {61, 30, 2}};
  const SdpaData d = make_data(c, 3000);
  const Forward fc = cpu_forward(d, c.lengths);
  const Forward fg = gpu_forward(d, c.lengths);
  const Grads gc = cpu_backward(d, fc, c.lengths);
  const Grads gg = gpu_backward(d, fg, c.lengths);  // D = dO · O from the GPU's own o
  expect_close(gg.dq, gc.dq, 1e-9, 2e-5, "dq");
  expect_close(gg.dk, gc.dk, 1e-9, 2e-5, "dk");
  expect_close(gg.dv, gc.dv, 1e-9, 2e-5, "dv");
}

TEST(NnAttentionCuda, SdpaLargeLogitsStayFinite) {
  SER_SKIP_WITHOUT_GPU();
  const SdpaCase c{2, 45, 2, 16, {45, 20}};
  const SdpaData d = make_data(c, 4000, 20.0);  // |scale q · k| up to ~1e3
  const Forward cpu = cpu_forward(d, c.lengths);
  const Forward gpu = gpu_forward(d, c.lengths);
  float max_lse = 0;
  for (float x : cpu.lse) max_lse = std::max(max_lse, std::abs(x));
  EXPECT_GT(max_lse, 200.0f);
  // Float logits of ~1e3 carry ~1e-4 absolute error on either side, so the tolerance is wider.
  expect_close(gpu.o, cpu.o, 1e-5, 5e-3, "o at large logits");
  expect_close(gpu.lse, cpu.lse, 1e-10, 2e-2, "lse at large logits");
  const Grads gg = gpu_backward(d, gpu, c.lengths);
  for (const auto* g : {&gg.dq, &gg.dk, &gg.dv})
    for (float x : *g) ASSERT_TRUE(std::isfinite(x));
}

TEST(NnAttentionCuda, SdpaIsDeterministic) {
  SER_SKIP_WITHOUT_GPU();
  const SdpaCase c{2, 130, 3, 64, {130, 77}};
  const SdpaData d = make_data(c, 5000);
  const Forward f1 = gpu_forward(d, c.lengths), f2 = gpu_forward(d, c.lengths);
  EXPECT_TRUE(bit_identical(f1.o, f2.o));
  EXPECT_TRUE(bit_identical(f1.lse, f2.lse));
  const Grads g1 = gpu_backward(d, f1, c.lengths), g2 = gpu_backward(d, f1, c.lengths);
  EXPECT_TRUE(bit_identical(g1.dq, g2.dq));
  EXPECT_TRUE(bit_identical(g1.dk, g2.dk));
  EXPECT_TRUE(bit_identical(g1.dv, g2.dv));
}

TEST(NnAttentionCuda, SdpaWorkspaceHoldsTheRowDotsAndWideHeadsAreRejected) {
  SER_SKIP_WITHOUT_GPU();
  const ExecContext ctx = gpu_context();
  const SdpaShape s{3, 50, 4, 32, 0.2f};
  EXPECT_GE(sdpa_workspace_bytes(ctx, s), std::size_t{3} * 50 * 4 * sizeof(float));
  DeviceArray<float> buf(std::size_t{3} * 50 * 4 * 200);
  const SdpaShape wide{1, 4, 1, 129, 0.1f};
  EXPECT_THROW(sdpa_forward(ctx, wide, buf.get(), buf.get(), buf.get(), nullptr, buf.get(), buf.get(), nullptr),
               Error);
}

// ---- temporal pooling ------------------------------------------------------------------------------------

struct PoolCase {
  int n, t, d;
  std::vector<int> lengths;  // empty = all T
};

std::string name_of(const PoolCase& c) {
  return "N" + std::to_string(c.n) + " T" + std::to_string(c.t) + " D" + std::to_string(c.d);
}

std::vector<PoolCase> pool_cases() {
  return {
      {3, 1, 37, {1, 0, 1}},
      {4, 130, 200, {130, 64, 1, 0}},
      {2, 33, 1, {20, 33}},
      {5, 257, 64, {257, 256, 255, 3, 100}},  // more steps than threads per block
      {2, 9, 70, {}},
  };
}

TEST(NnAttentionCuda, MeanPoolMatchesCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  const ExecContext ctx = gpu_context();
  std::uint64_t seed = 6000;
  for (const PoolCase& c : pool_cases()) {
    const auto x = random_nonzero<float>(static_cast<std::size_t>(c.n) * c.t * c.d, seed += 10);
    const auto dy = random_nonzero<float>(static_cast<std::size_t>(c.n) * c.d, seed + 1);
    const int* hl = c.lengths.empty() ? nullptr : c.lengths.data();
    std::vector<float> y_cpu(dy.size()), dx_cpu(x.size());
    mean_pool_forward_cpu<float>(c.n, c.t, c.d, x.data(), hl, y_cpu.data());
    mean_pool_backward_cpu<float>(c.n, c.t, c.d, dy.data(), hl, dx_cpu.data());
    std::unique_ptr<DeviceArray<int>> len;
    if (!c.lengths.empty()) len = std::make_unique<DeviceArray<int>>(c.lengths);
    DeviceArray<float> x_d(x), dy_d(dy), y(dy.size()), dx(x.size());
    std::vector<std::vector<float>> ys, dxs;
    for (int run = 0; run < 2; ++run) {
      SER_CUDA_CHECK(cudaMemset(y.get(), 0xFF, dy.size() * sizeof(float)));
      SER_CUDA_CHECK(cudaMemset(dx.get(), 0xFF, x.size() * sizeof(float)));
      mean_pool_forward(ctx, c.n, c.t, c.d, x_d.get(), dptr(len.get()), y.get());
      mean_pool_backward(ctx, c.n, c.t, c.d, dy_d.get(), dptr(len.get()), dx.get());
      ys.push_back(y.download());
      dxs.push_back(dx.download());
    }
    expect_close(ys[0], y_cpu, 1e-12, 1e-6, "mean pool y, " + name_of(c));
    EXPECT_TRUE(bit_identical(dxs[0], dx_cpu)) << "mean pool dx (the same division), " << name_of(c);
    EXPECT_TRUE(bit_identical(ys[0], ys[1])) << "mean pool y not deterministic, " << name_of(c);
    EXPECT_TRUE(bit_identical(dxs[0], dxs[1])) << name_of(c);
  }
}

TEST(NnAttentionCuda, AttnPoolMatchesCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  const ExecContext ctx = gpu_context();
  std::uint64_t seed = 7000;
  for (const PoolCase& c : pool_cases()) {
    const std::size_t nx = static_cast<std::size_t>(c.n) * c.t * c.d, ny = static_cast<std::size_t>(c.n) * c.d,
                      na = static_cast<std::size_t>(c.n) * c.t;
    const auto x = random_nonzero<float>(nx, seed += 10);
    const auto w = random_nonzero<float>(static_cast<std::size_t>(c.d), seed + 1, -0.5, 0.5);
    const std::vector<float> b{0.25f};
    const auto dy = random_nonzero<float>(ny, seed + 2);
    const auto dw0 = random_nonzero<float>(static_cast<std::size_t>(c.d), seed + 3);  // accumulated onto
    const std::vector<float> db0{0.5f};
    const int* hl = c.lengths.empty() ? nullptr : c.lengths.data();

    std::vector<float> y_cpu(ny), a_cpu(na), dx_cpu(nx), dw_cpu = dw0, db_cpu = db0;
    attn_pool_forward_cpu<float>(c.n, c.t, c.d, x.data(), w.data(), b.data(), hl, y_cpu.data(), a_cpu.data());
    attn_pool_backward_cpu<float>(c.n, c.t, c.d, x.data(), w.data(), a_cpu.data(), dy.data(), hl, dx_cpu.data(),
                                  dw_cpu.data(), db_cpu.data());

    std::unique_ptr<DeviceArray<int>> len;
    if (!c.lengths.empty()) len = std::make_unique<DeviceArray<int>>(c.lengths);
    DeviceArray<float> x_d(x), w_d(w), b_d(b), dy_d(dy), alpha_cpu_d(a_cpu);
    std::vector<std::vector<float>> ys, as, dxs, dws, dbs;
    for (int run = 0; run < 2; ++run) {
      DeviceArray<float> y(ny), alpha(na), dx(nx), dw(dw0), db(db0);  // outputs NaN-poisoned
      attn_pool_forward(ctx, c.n, c.t, c.d, x_d.get(), w_d.get(), b_d.get(), dptr(len.get()), y.get(),
                        alpha.get());
      // The backward starts from the twin's alpha, so it is compared on its own.
      attn_pool_backward(ctx, c.n, c.t, c.d, x_d.get(), w_d.get(), alpha_cpu_d.get(), dy_d.get(), dptr(len.get()),
                         dx.get(), dw.get(), db.get());
      ys.push_back(y.download());
      as.push_back(alpha.download());
      dxs.push_back(dx.download());
      dws.push_back(dw.download());
      dbs.push_back(db.download());
    }
    expect_close(ys[0], y_cpu, 1e-11, 2e-5, "attn pool y, " + name_of(c));
    expect_close(as[0], a_cpu, 1e-11, 5e-6, "attn pool alpha, " + name_of(c));
    expect_masked_rows_zero(as[0], c.n, c.t, 1, c.lengths, "masked alpha, " + name_of(c));
    expect_close(dxs[0], dx_cpu, 1e-10, 1e-5, "attn pool dx, " + name_of(c));
    expect_masked_rows_zero(dxs[0], c.n, c.t, static_cast<std::size_t>(c.d), c.lengths, "masked dx rows, " + name_of(c));
    expect_close(dws[0], dw_cpu, 1e-10, 1e-4, "attn pool dw (accumulated), " + name_of(c));
    expect_close(dbs[0], db_cpu, 1e-10, 1e-4, "attn pool db (accumulated), " + name_of(c));
    for (auto* runs : {&ys, &as, &dxs, &dws, &dbs})
      EXPECT_TRUE(bit_identical((*runs)[0], (*runs)[1])) << "not deterministic, " << name_of(c);
  }
}

}  // namespace
}  // namespace ser::nn

#endif  // SER_WITH_CUDA
