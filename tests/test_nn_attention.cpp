// CPU twins of ser/nn/attention.hpp — scaled dot-product attention with a key-padding mask, masked
// mean pooling and attention pooling — against naive references written here in double (the whole
// softmax matrix at once), central finite differences in double, the masking rules (masked rows and
// keys, a length-0 sequence: zeros, never NaN), stability at large logits, and the gradient contract
// (activation gradients overwrite, parameter gradients accumulate).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/attention.hpp"
#include "ser/nn/exec.hpp"

namespace ser::nn {
namespace {

using test::cast_vector;
using test::dot;
using test::expect_gradient_matches;
using test::random_nonzero;

const ExecContext kCpu{};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int len_of(const std::vector<int>& lengths, int n, int t) {
  return lengths.empty() ? t : std::clamp(lengths[static_cast<std::size_t>(n)], 0, t);
}
const int* ptr(const std::vector<int>& lengths) { return lengths.empty() ? nullptr : lengths.data(); }

std::size_t elems(const SdpaShape& s) { return static_cast<std::size_t>(s.n) * s.t * s.heads * s.head_dim; }
std::size_t stat_elems(const SdpaShape& s) { return static_cast<std::size_t>(s.n) * s.heads * s.t; }

// Index of element (n, t, h, d) of a (N, T, heads, head_dim) tensor, and of (n, h, t) of lse.
std::size_t at(const SdpaShape& s, int n, int t, int h, int d) {
  return ((static_cast<std::size_t>(n) * s.t + t) * s.heads + h) * s.head_dim + d;
}
std::size_t at_stat(const SdpaShape& s, int n, int h, int t) {
  return (static_cast<std::size_t>(n) * s.heads + h) * s.t + t;
}

// ---- naive double references ---------------------------------------------------------------------

// Softmax matrix P (L, L) of one (n, h), straight from the definition.
std::vector<double> naive_probs(const SdpaShape& s, const std::vector<double>& q, const std::vector<double>& k,
                                int n, int h, int len, std::vector<double>* lse) {
  std::vector<double> p(static_cast<std::size_t>(len) * len);
  for (int i = 0; i < len; ++i) {
    double mx = -std::numeric_limits<double>::infinity();
    for (int j = 0; j < len; ++j) {
      double acc = 0;
      for (int d = 0; d < s.head_dim; ++d) acc += q[at(s, n, i, h, d)] * k[at(s, n, j, h, d)];
      p[static_cast<std::size_t>(i) * len + j] = static_cast<double>(s.scale) * acc;
      mx = std::max(mx, p[static_cast<std::size_t>(i) * len + j]);
    }
    double sum = 0;
    for (int j = 0; j < len; ++j) sum += std::exp(p[static_cast<std::size_t>(i) * len + j] - mx);
    for (int j = 0; j < len; ++j)
      p[static_cast<std::size_t>(i) * len + j] = std::exp(p[static_cast<std::size_t>(i) * len + j] - mx) / sum;
    if (lse) (*lse)[at_stat(s, n, h, i)] = mx + std::log(sum);
  }
  return p;
}

struct SdpaOut {
  std::vector<double> o, lse;
};

SdpaOut naive_forward(const SdpaShape& s, const std::vector<double>& q, const std::vector<double>& k,
                      const std::vector<double>& v, const std::vector<int>& lengths) {
  SdpaOut r{std::vector<double>(elems(s), 0.0), std::vector<double>(stat_elems(s), 0.0)};
  for (int n = 0; n < s.n; ++n)
    for (int h = 0; h < s.heads; ++h) {
      const int len = len_of(lengths, n, s.t);
      const std::vector<double> p = naive_probs(s, q, k, n, h, len, &r.lse);
      for (int i = 0; i < len; ++i)
        for (int d = 0; d < s.head_dim; ++d) {
          double acc = 0;
          for (int j = 0; j < len; ++j) acc += p[static_cast<std::size_t>(i) * len + j] * v[at(s, n, j, h, d)];
          r.o[at(s, n, i, h, d)] = acc;
        }
    }
  return r;
}

struct SdpaGrads {
  std::vector<double> dq, dk, dv;
};

// dS_ij = P_ij (dP_ij - Σ_l P_il dP_il): the softmax Jacobian written out, not the D_i = dO_i · O_i
// shortcut the twin uses.
SdpaGrads naive_backward(const SdpaShape& s, const std::vector<double>& q, const std::vector<double>& k,
                         const std::vector<double>& v, const std::vector<double>& dout,
                         const std::vector<int>& lengths) {
  SdpaGrads g{std::vector<double>(elems(s), 0.0), std::vector<double>(elems(s), 0.0),
              std::vector<double>(elems(s), 0.0)};
  for (int n = 0; n < s.n; ++n)
    for (int h = 0; h < s.heads; ++h) {
      const int len = len_of(lengths, n, s.t);
      const std::vector<double> p = naive_probs(s, q, k, n, h, len, nullptr);
      for (int i = 0; i < len; ++i) {
        std::vector<double> dp(static_cast<std::size_t>(len));
        double row = 0;
        for (int j = 0; j < len; ++j) {
          double acc = 0;
          for (int d = 0; d < s.head_dim; ++d) acc += dout[at(s, n, i, h, d)] * v[at(s, n, j, h, d)];
          dp[static_cast<std::size_t>(j)] = acc;
          row += p[static_cast<std::size_t>(i) * len + j] * acc;
        }
        for (int j = 0; j < len; ++j) {
          const double pij = p[static_cast<std::size_t>(i) * len + j];
          const double ds = pij * (dp[static_cast<std::size_t>(j)] - row);
          for (int d = 0; d < s.head_dim; ++d) {
            g.dv[at(s, n, j, h, d)] += pij * dout[at(s, n, i, h, d)];
            g.dq[at(s, n, i, h, d)] += s.scale * ds * k[at(s, n, j, h, d)];
            g.dk[at(s, n, j, h, d)] += s.scale * ds * q[at(s, n, i, h, d)];
          }
        }
      }
    }
  return g;
}

// max |a - ref| / max(1, max |ref|), with NaN in a counted as a failure (returns +inf).
template <typename T>
double rel_max_err(const std::vector<T>& a, const std::vector<double>& ref) {
  double err = 0, mag = 1;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(static_cast<double>(a[i]))) return std::numeric_limits<double>::infinity();
    err = std::max(err, std::abs(static_cast<double>(a[i]) - ref[i]));
    mag = std::max(mag, std::abs(ref[i]));
  }
  return err / mag;
}

// ---- SDPA ---------------------------------------------------------------------------------------

struct SdpaCase {
  SdpaShape shape;
  std::vector<int> lengths;  // empty = all T
  std::string name;
};

std::vector<SdpaCase> sdpa_cases() {
  auto shape = [](int n, int t, int heads, int hd) {
    return SdpaShape{n, t, heads, hd, static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)))};
  };
  return {
      {shape(4, 13, 3, 8), {13, 7, 1, 0}, "mixed lengths incl. 1 and 0"},
      {shape(2, 9, 2, 5), {}, "no mask, odd head_dim"},
      {shape(3, 17, 1, 16), {17, 16, 3}, "one head"},
      {shape(2, 6, 4, 3), {4, 6}, "many small heads"},
  };
}

template <typename T>
void check_forward_against_naive(const SdpaCase& c, double tol) {
  const SdpaShape& s = c.shape;
  const auto q = random_nonzero<double>(elems(s), 11), k = random_nonzero<double>(elems(s), 12),
             v = random_nonzero<double>(elems(s), 13);
  const SdpaOut ref = naive_forward(s, q, k, v, c.lengths);
  const auto qt = cast_vector<T>(q), kt = cast_vector<T>(k), vt = cast_vector<T>(v);
  std::vector<T> o(elems(s), static_cast<T>(kNaN)), lse(stat_elems(s), static_cast<T>(kNaN));
  sdpa_forward_cpu<T>(s, qt.data(), kt.data(), vt.data(), ptr(c.lengths), o.data(), lse.data());
  EXPECT_LE(rel_max_err(o, ref.o), tol) << c.name;
  EXPECT_LE(rel_max_err(lse, ref.lse), tol) << c.name;
  // Masked query rows are exactly zero (o and lse).
  for (int n = 0; n < s.n; ++n)
    for (int t = len_of(c.lengths, n, s.t); t < s.t; ++t)
      for (int h = 0; h < s.heads; ++h) {
        EXPECT_EQ(lse[at_stat(s, n, h, t)], T(0)) << c.name;
        for (int d = 0; d < s.head_dim; ++d) EXPECT_EQ(o[at(s, n, t, h, d)], T(0)) << c.name;
      }
}

TEST(NnAttention, SdpaForwardMatchesNaiveReference) {
  for (const SdpaCase& c : sdpa_cases()) {
    check_forward_against_naive<double>(c, 1e-13);
    check_forward_against_naive<float>(c, 2e-6);
  }
}

TEST(NnAttention, SdpaForwardIgnoresMaskedKeysAndValues) {
  // Changing q, k, v at steps >= len (even to NaN) must not change anything.
  const SdpaShape s{2, 8, 2, 4, 0.5f};
  const std::vector<int> lengths{5, 3};
  auto q = random_nonzero<double>(elems(s), 21), k = random_nonzero<double>(elems(s), 22),
       v = random_nonzero<double>(elems(s), 23);
  std::vector<double> o1(elems(s)), lse1(stat_elems(s)), o2(elems(s)), lse2(stat_elems(s));
  sdpa_forward_cpu<double>(s, q.data(), k.data(), v.data(), lengths.data(), o1.data(), lse1.data());
  for (int n = 0; n < s.n; ++n)
    for (int t = lengths[static_cast<std::size_t>(n)]; t < s.t; ++t)
      for (int h = 0; h < s.heads; ++h)
        for (int d = 0; d < s.head_dim; ++d) q[at(s, n, t, h, d)] = k[at(s, n, t, h, d)] = v[at(s, n, t, h, d)] = kNaN;
  sdpa_forward_cpu<double>(s, q.data(), k.data(), v.data(), lengths.data(), o2.data(), lse2.data());
  EXPECT_EQ(o1, o2);
  EXPECT_EQ(lse1, lse2);
}

TEST(NnAttention, SdpaLengthZeroGivesZerosNeverNaN) {
  const SdpaShape s{2, 5, 2, 3, 0.6f};
  const std::vector<int> lengths{0, 5};
  const auto q = random_nonzero<double>(elems(s), 31), k = random_nonzero<double>(elems(s), 32),
             v = random_nonzero<double>(elems(s), 33), dout = random_nonzero<double>(elems(s), 34);
  std::vector<double> o(elems(s), kNaN), lse(stat_elems(s), kNaN);
  sdpa_forward_cpu<double>(s, q.data(), k.data(), v.data(), lengths.data(), o.data(), lse.data());
  std::vector<double> dq(elems(s), kNaN), dk(elems(s), kNaN), dv(elems(s), kNaN);
  sdpa_backward_cpu<double>(s, q.data(), k.data(), v.data(), o.data(), lse.data(), dout.data(), lengths.data(),
                            dq.data(), dk.data(), dv.data());
  const std::size_t first_seq = elems(s) / 2;
  for (std::size_t i = 0; i < elems(s); ++i)
    for (const auto* x : {&o, &dq, &dk, &dv}) {
      ASSERT_TRUE(std::isfinite((*x)[i])) << i;
      if (i < first_seq) {
        EXPECT_EQ((*x)[i], 0.0) << i;
      }
    }
  for (std::size_t i = 0; i < stat_elems(s); ++i) {
    ASSERT_TRUE(std::isfinite(lse[i]));
    if (i < stat_elems(s) / 2) {
      EXPECT_EQ(lse[i], 0.0);
    }
  }
  // The second sequence is unaffected by its neighbour: its output is not all zero.
  EXPECT_NE(std::count(o.begin() + static_cast<std::ptrdiff_t>(first_seq), o.end(), 0.0),
            static_cast<std::ptrdiff_t>(first_seq));
}

TEST(NnAttention, SdpaLargeLogitsStayFiniteAndAccurate) {
  // scale * q · k of order 1e3: exp without the maximum subtracted would overflow.
  SdpaShape s{2, 11, 2, 8, 1.0f};
  const std::vector<int> lengths{11, 6};
  auto q = random_nonzero<double>(elems(s), 41, -20.0, 20.0);
  const auto k = random_nonzero<double>(elems(s), 42, -20.0, 20.0), v = random_nonzero<double>(elems(s), 43);
  s.scale = 1.5f;  // |scale q · k| reaches ~1e3
  const SdpaOut ref = naive_forward(s, q, k, v, lengths);
  double max_logit = 0;
  for (double x : ref.lse) max_logit = std::max(max_logit, std::abs(x));
  EXPECT_GT(max_logit, 300.0);
  std::vector<double> o(elems(s)), lse(stat_elems(s));
  sdpa_forward_cpu<double>(s, q.data(), k.data(), v.data(), lengths.data(), o.data(), lse.data());
  EXPECT_LE(rel_max_err(o, ref.o), 1e-12);
  EXPECT_LE(rel_max_err(lse, ref.lse), 1e-12);
  const auto qf = cast_vector<float>(q), kf = cast_vector<float>(k), vf = cast_vector<float>(v);
  std::vector<float> of(elems(s)), lsef(stat_elems(s));
  sdpa_forward_cpu<float>(s, qf.data(), kf.data(), vf.data(), lengths.data(), of.data(), lsef.data());
  EXPECT_LE(rel_max_err(of, ref.o), 2e-3);  // float logits of 1e3 carry ~1e-4 absolute error
  EXPECT_LE(rel_max_err(lsef, ref.lse), 1e-5);
  // The backward stays finite too.
  const auto dout = random_nonzero<double>(elems(s), 44);
  std::vector<double> dq(elems(s)), dk(elems(s)), dv(elems(s));
  sdpa_backward_cpu<double>(s, q.data(), k.data(), v.data(), o.data(), lse.data(), dout.data(), lengths.data(),
                            dq.data(), dk.data(), dv.data());
  const SdpaGrads g = naive_backward(s, q, k, v, dout, lengths);
  EXPECT_LE(rel_max_err(dq, g.dq), 1e-10);
  EXPECT_LE(rel_max_err(dk, g.dk), 1e-10);
  EXPECT_LE(rel_max_err(dv, g.dv), 1e-10);
}

template <typename T>
void check_backward_against_naive(const SdpaCase& c, double tol) {
  const SdpaShape& s = c.shape;
  const auto q = random_nonzero<double>(elems(s), 51), k = random_nonzero<double>(elems(s), 52),
             v = random_nonzero<double>(elems(s), 53), dout = random_nonzero<double>(elems(s), 54);
  const SdpaGrads ref = naive_backward(s, q, k, v, dout, c.lengths);
  const auto qt = cast_vector<T>(q), kt = cast_vector<T>(k), vt = cast_vector<T>(v), dt = cast_vector<T>(dout);
  std::vector<T> o(elems(s)), lse(stat_elems(s));
  sdpa_forward_cpu<T>(s, qt.data(), kt.data(), vt.data(), ptr(c.lengths), o.data(), lse.data());
  std::vector<T> dq(elems(s), static_cast<T>(kNaN)), dk(elems(s), static_cast<T>(kNaN)),
      dv(elems(s), static_cast<T>(kNaN));
  sdpa_backward_cpu<T>(s, qt.data(), kt.data(), vt.data(), o.data(), lse.data(), dt.data(), ptr(c.lengths),
                       dq.data(), dk.data(), dv.data());
  EXPECT_LE(rel_max_err(dq, ref.dq), tol) << c.name;
  EXPECT_LE(rel_max_err(dk, ref.dk), tol) << c.name;
  EXPECT_LE(rel_max_err(dv, ref.dv), tol) << c.name;
  for (int n = 0; n < s.n; ++n)
    for (int t = len_of(c.lengths, n, s.t); t < s.t; ++t)
      for (int h = 0; h < s.heads; ++h)
        for (int d = 0; d < s.head_dim; ++d) {
          EXPECT_EQ(dq[at(s, n, t, h, d)], T(0)) << c.name;
          EXPECT_EQ(dk[at(s, n, t, h, d)], T(0)) << c.name;
          EXPECT_EQ(dv[at(s, n, t, h, d)], T(0)) << c.name;
        }
}

TEST(NnAttention, SdpaBackwardMatchesNaiveReference) {
  for (const SdpaCase& c : sdpa_cases()) {
    check_backward_against_naive<double>(c, 1e-12);
    check_backward_against_naive<float>(c, 5e-6);
  }
}

TEST(NnAttention, SdpaGradientsMatchFiniteDifferences) {
  const SdpaShape s{3, 5, 2, 3, 0.7f};
  const std::vector<int> lengths{5, 3, 1};
  std::vector<double> q = random_nonzero<double>(elems(s), 61), k = random_nonzero<double>(elems(s), 62),
                      v = random_nonzero<double>(elems(s), 63);
  const std::vector<double> r = random_nonzero<double>(elems(s), 64);  // objective Σ r ∘ o
  std::vector<double> o(elems(s)), lse(stat_elems(s));
  const auto f = [&] {
    sdpa_forward_cpu<double>(s, q.data(), k.data(), v.data(), lengths.data(), o.data(), lse.data());
    return dot(r, o);
  };
  f();
  std::vector<double> dq(elems(s)), dk(elems(s)), dv(elems(s));
  sdpa_backward_cpu<double>(s, q.data(), k.data(), v.data(), o.data(), lse.data(), r.data(), lengths.data(),
                            dq.data(), dk.data(), dv.data());
  expect_gradient_matches("dq", q, dq, f);
  expect_gradient_matches("dk", k, dk, f);
  expect_gradient_matches("dv", v, dv, f);
  // Not vacuous: the valid part of each gradient is non-zero.
  for (const auto* g : {&dq, &dk, &dv})
    EXPECT_GT(std::count_if(g->begin(), g->end(), [](double x) { return std::abs(x) > 1e-6; }), 20);
}

TEST(NnAttention, SdpaBackwardOverwritesItsGradients) {
  const SdpaShape s{2, 7, 3, 4, 0.5f};
  const std::vector<int> lengths{7, 4};
  const auto q = random_nonzero<float>(elems(s), 71), k = random_nonzero<float>(elems(s), 72),
             v = random_nonzero<float>(elems(s), 73), dout = random_nonzero<float>(elems(s), 74);
  std::vector<float> o(elems(s)), lse(stat_elems(s));
  sdpa_forward(kCpu, s, q.data(), k.data(), v.data(), lengths.data(), o.data(), lse.data(), nullptr);
  std::vector<std::vector<float>> runs;
  for (float fill : {0.0f, 123.0f, std::numeric_limits<float>::quiet_NaN()}) {
    std::vector<float> dq(elems(s), fill), dk(elems(s), fill), dv(elems(s), fill);
    sdpa_backward(kCpu, s, q.data(), k.data(), v.data(), o.data(), lse.data(), dout.data(), lengths.data(),
                  dq.data(), dk.data(), dv.data(), nullptr);
    dq.insert(dq.end(), dk.begin(), dk.end());
    dq.insert(dq.end(), dv.begin(), dv.end());
    runs.push_back(dq);
  }
  for (float x : runs[0]) ASSERT_TRUE(std::isfinite(x));
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[0], runs[2]);
}

TEST(NnAttention, SdpaDispatchOnCpuIsTheTwinAndNeedsNoWorkspace) {
  const SdpaShape s{2, 6, 2, 4, 0.5f};
  const std::vector<int> lengths{6, 2};
  EXPECT_EQ(sdpa_workspace_bytes(kCpu, s), 0u);
  const auto q = random_nonzero<float>(elems(s), 81), k = random_nonzero<float>(elems(s), 82),
             v = random_nonzero<float>(elems(s), 83);
  std::vector<float> o1(elems(s)), l1(stat_elems(s)), o2(elems(s)), l2(stat_elems(s));
  sdpa_forward(kCpu, s, q.data(), k.data(), v.data(), lengths.data(), o1.data(), l1.data(), nullptr);
  sdpa_forward_cpu<float>(s, q.data(), k.data(), v.data(), lengths.data(), o2.data(), l2.data());
  EXPECT_EQ(o1, o2);
  EXPECT_EQ(l1, l2);
}

TEST(NnAttention, SdpaRejectsBadShapes) {
  std::vector<float> buf(64);
  for (const SdpaShape& s : {SdpaShape{1, 0, 1, 4, 1.f}, SdpaShape{1, 4, 0, 4, 1.f}, SdpaShape{1, 4, 1, 0, 1.f},
                             SdpaShape{-1, 4, 1, 4, 1.f}}) {
    EXPECT_THROW(sdpa_forward(kCpu, s, buf.data(), buf.data(), buf.data(), nullptr, buf.data(), buf.data(), nullptr),
                 Error);
    EXPECT_THROW(sdpa_workspace_bytes(kCpu, s), Error);
  }
}

TEST(NnAttention, CudaDispatchWithoutUsableGpuThrows) {
  if (probe_cuda().usable) GTEST_SKIP() << "a GPU is present (tests/test_nn_attention_cuda.cpp covers it)";
  ExecContext gpu;
  gpu.device = Device::cuda;
  std::vector<float> x(16, 1.0f), y(16);
  const SdpaShape s{1, 2, 1, 2, 1.f};
  EXPECT_THROW(sdpa_forward(gpu, s, x.data(), x.data(), x.data(), nullptr, y.data(), y.data(), nullptr), Error);
  EXPECT_THROW(mean_pool_forward(gpu, 1, 4, 4, x.data(), nullptr, y.data()), Error);
  EXPECT_THROW(attn_pool_forward(gpu, 1, 4, 4, x.data(), x.data(), x.data(), nullptr, y.data(), y.data()), Error);
}

// ---- masked mean pooling --------------------------------------------------------------------------

TEST(NnTemporalPool, MeanPoolMatchesDefinition) {
  const int n = 4, t = 9, d = 5;
  const std::vector<int> lengths{9, 4, 1, 0};
  const auto x = random_nonzero<double>(static_cast<std::size_t>(n) * t * d, 91);
  std::vector<double> y(static_cast<std::size_t>(n) * d, kNaN);
  mean_pool_forward_cpu<double>(n, t, d, x.data(), lengths.data(), y.data());
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < d; ++c) {
      double ref = 0;
      const int len = lengths[static_cast<std::size_t>(b)];
      for (int s = 0; s < len; ++s) ref += x[(static_cast<std::size_t>(b) * t + s) * d + c];
      if (len > 0) ref /= len;
      EXPECT_NEAR(y[static_cast<std::size_t>(b) * d + c], ref, 1e-14) << b << "," << c;
    }
  // nullptr lengths = all T, and the float dispatch agrees with the float twin.
  std::vector<double> y_all(static_cast<std::size_t>(n) * d);
  const std::vector<int> full(static_cast<std::size_t>(n), t);
  mean_pool_forward_cpu<double>(n, t, d, x.data(), nullptr, y_all.data());
  mean_pool_forward_cpu<double>(n, t, d, x.data(), full.data(), y.data());
  EXPECT_EQ(y_all, y);
}

TEST(NnTemporalPool, MeanPoolBackwardMatchesFiniteDifferencesAndOverwrites) {
  const int n = 3, t = 6, d = 4;
  const std::vector<int> lengths{6, 2, 0};
  std::vector<double> x = random_nonzero<double>(static_cast<std::size_t>(n) * t * d, 101);
  const auto r = random_nonzero<double>(static_cast<std::size_t>(n) * d, 102);
  std::vector<double> y(static_cast<std::size_t>(n) * d);
  const auto f = [&] {
    mean_pool_forward_cpu<double>(n, t, d, x.data(), lengths.data(), y.data());
    return dot(r, y);
  };
  std::vector<double> dx(x.size(), kNaN);
  mean_pool_backward_cpu<double>(n, t, d, r.data(), lengths.data(), dx.data());
  expect_gradient_matches("mean pool dx", x, dx, f);
  for (double g : dx) ASSERT_TRUE(std::isfinite(g));
  // Float dispatch: overwrites garbage, the same bits as from a zeroed buffer.
  const auto rf = cast_vector<float>(r);
  std::vector<float> a(x.size(), 0.0f), b(x.size(), -7.0f);
  mean_pool_backward(kCpu, n, t, d, rf.data(), lengths.data(), a.data());
  mean_pool_backward(kCpu, n, t, d, rf.data(), lengths.data(), b.data());
  EXPECT_EQ(a, b);
}

// ---- attention pooling ----------------------------------------------------------------------------

struct PoolRef {
  std::vector<double> y, alpha;
};

PoolRef naive_attn_pool(int n, int t, int d, const std::vector<double>& x, const std::vector<double>& w, double b,
                        const std::vector<int>& lengths) {
  PoolRef r{std::vector<double>(static_cast<std::size_t>(n) * d, 0.0),
            std::vector<double>(static_cast<std::size_t>(n) * t, 0.0)};
  for (int i = 0; i < n; ++i) {
    const int len = len_of(lengths, i, t);
    std::vector<double> e(static_cast<std::size_t>(len));
    double mx = -std::numeric_limits<double>::infinity(), z = 0;
    for (int s = 0; s < len; ++s) {
      double acc = b;
      for (int c = 0; c < d; ++c) acc += w[static_cast<std::size_t>(c)] * x[(static_cast<std::size_t>(i) * t + s) * d + c];
      e[static_cast<std::size_t>(s)] = acc;
      mx = std::max(mx, acc);
    }
    for (double& v : e) z += (v = std::exp(v - mx));
    for (int s = 0; s < len; ++s) {
      const double a = e[static_cast<std::size_t>(s)] / z;
      r.alpha[static_cast<std::size_t>(i) * t + s] = a;
      for (int c = 0; c < d; ++c)
        r.y[static_cast<std::size_t>(i) * d + c] += a * x[(static_cast<std::size_t>(i) * t + s) * d + c];
    }
  }
  return r;
}

TEST(NnTemporalPool, AttnPoolMatchesNaiveReference) {
  const int n = 4, t = 10, d = 6;
  const std::vector<int> lengths{10, 5, 1, 0};
  const auto x = random_nonzero<double>(static_cast<std::size_t>(n) * t * d, 111);
  const auto w = random_nonzero<double>(static_cast<std::size_t>(d), 112);
  const double b = 0.3;
  const PoolRef ref = naive_attn_pool(n, t, d, x, w, b, lengths);
  std::vector<double> y(static_cast<std::size_t>(n) * d, kNaN), alpha(static_cast<std::size_t>(n) * t, kNaN);
  attn_pool_forward_cpu<double>(n, t, d, x.data(), w.data(), &b, lengths.data(), y.data(), alpha.data());
  EXPECT_LE(rel_max_err(y, ref.y), 1e-14);
  EXPECT_LE(rel_max_err(alpha, ref.alpha), 1e-14);
  for (int i = 0; i < n; ++i) {
    double sum = 0;
    for (int s = 0; s < t; ++s) {
      const double a = alpha[static_cast<std::size_t>(i) * t + s];
      if (s >= lengths[static_cast<std::size_t>(i)]) {
        EXPECT_EQ(a, 0.0);
      }
      sum += a;
    }
    EXPECT_NEAR(sum, lengths[static_cast<std::size_t>(i)] > 0 ? 1.0 : 0.0, 1e-14);
  }
  for (int c = 0; c < d; ++c) EXPECT_EQ(y[static_cast<std::size_t>(3) * d + c], 0.0);  // length 0
  // Float twin.
  const auto xf = cast_vector<float>(x), wf = cast_vector<float>(w);
  const float bf = static_cast<float>(b);
  std::vector<float> yf(y.size()), af(alpha.size());
  attn_pool_forward(kCpu, n, t, d, xf.data(), wf.data(), &bf, lengths.data(), yf.data(), af.data());
  EXPECT_LE(rel_max_err(yf, ref.y), 1e-6);
  EXPECT_LE(rel_max_err(af, ref.alpha), 1e-6);
}

TEST(NnTemporalPool, AttnPoolLargeScoresStayFinite) {
  const int n = 2, t = 7, d = 4;
  const std::vector<int> lengths{7, 3};
  const auto x = random_nonzero<double>(static_cast<std::size_t>(n) * t * d, 121, -30.0, 30.0);
  const auto w = random_nonzero<double>(static_cast<std::size_t>(d), 122, -30.0, 30.0);  // scores ~1e3
  const double b = 500.0;
  const PoolRef ref = naive_attn_pool(n, t, d, x, w, b, lengths);
  std::vector<double> y(static_cast<std::size_t>(n) * d), alpha(static_cast<std::size_t>(n) * t);
  attn_pool_forward_cpu<double>(n, t, d, x.data(), w.data(), &b, lengths.data(), y.data(), alpha.data());
  EXPECT_LE(rel_max_err(y, ref.y), 1e-13);
  EXPECT_LE(rel_max_err(alpha, ref.alpha), 1e-13);
}

TEST(NnTemporalPool, AttnPoolGradientsMatchFiniteDifferences) {
  const int n = 3, t = 5, d = 4;
  const std::vector<int> lengths{5, 2, 0};
  std::vector<double> x = random_nonzero<double>(static_cast<std::size_t>(n) * t * d, 131);
  std::vector<double> w = random_nonzero<double>(static_cast<std::size_t>(d), 132);
  std::vector<double> b{0.2};
  const auto r = random_nonzero<double>(static_cast<std::size_t>(n) * d, 133);
  std::vector<double> y(static_cast<std::size_t>(n) * d), alpha(static_cast<std::size_t>(n) * t);
  const auto f = [&] {
    attn_pool_forward_cpu<double>(n, t, d, x.data(), w.data(), b.data(), lengths.data(), y.data(), alpha.data());
    return dot(r, y);
  };
  f();
  std::vector<double> dx(x.size(), kNaN), dw(w.size(), 0.0), db(1, 0.0);
  attn_pool_backward_cpu<double>(n, t, d, x.data(), w.data(), alpha.data(), r.data(), lengths.data(), dx.data(),
                                 dw.data(), db.data());
  expect_gradient_matches("attn pool dx", x, dx, f);
  expect_gradient_matches("attn pool dw", w, dw, f);
  expect_gradient_matches("attn pool db", b, db, f);
  EXPECT_GT(std::count_if(dw.begin(), dw.end(), [](double g) { return std::abs(g) > 1e-4; }), 0);
  EXPECT_NEAR(db[0], 0.0, 1e-12);  // softmax is shift invariant
}

TEST(NnTemporalPool, AttnPoolBackwardAccumulatesParamsAndOverwritesDx) {
  const int n = 3, t = 6, d = 5;
  const std::vector<int> lengths{6, 3, 0};
  const auto x = random_nonzero<float>(static_cast<std::size_t>(n) * t * d, 141);
  const auto w = random_nonzero<float>(static_cast<std::size_t>(d), 142);
  const float b = -0.1f;
  const auto dy = random_nonzero<float>(static_cast<std::size_t>(n) * d, 143);
  std::vector<float> y(static_cast<std::size_t>(n) * d), alpha(static_cast<std::size_t>(n) * t);
  attn_pool_forward(kCpu, n, t, d, x.data(), w.data(), &b, lengths.data(), y.data(), alpha.data());
  std::vector<float> dx0(x.size(), 0.0f), dw0(w.size(), 0.0f), db0(1, 0.0f);
  attn_pool_backward(kCpu, n, t, d, x.data(), w.data(), alpha.data(), dy.data(), lengths.data(), dx0.data(),
                     dw0.data(), db0.data());
  // Second call on pre-filled buffers: dx overwritten (garbage gone), dw and db accumulate.
  std::vector<float> dx1(x.size(), std::numeric_limits<float>::quiet_NaN()), dw1(w.size(), 2.0f), db1(1, 3.0f);
  attn_pool_backward(kCpu, n, t, d, x.data(), w.data(), alpha.data(), dy.data(), lengths.data(), dx1.data(),
                     dw1.data(), db1.data());
  EXPECT_EQ(dx0, dx1);
  for (std::size_t c = 0; c < w.size(); ++c) EXPECT_NEAR(dw1[c], 2.0f + dw0[c], 1e-5) << c;
  EXPECT_FLOAT_EQ(db1[0], 3.0f + db0[0]);
  for (int s = 0; s < t; ++s)  // the length-0 sequence gets zero gradient
    for (int c = 0; c < d; ++c) EXPECT_EQ(dx1[(static_cast<std::size_t>(2) * t + s) * d + c], 0.0f);
}

TEST(NnTemporalPool, RejectsBadShapes) {
  std::vector<float> buf(16);
  EXPECT_THROW(mean_pool_forward(kCpu, 1, 0, 4, buf.data(), nullptr, buf.data()), Error);
  EXPECT_THROW(mean_pool_backward(kCpu, 1, 4, 0, buf.data(), nullptr, buf.data()), Error);
  EXPECT_THROW(attn_pool_forward(kCpu, -1, 4, 4, buf.data(), buf.data(), buf.data(), nullptr, buf.data(), buf.data()),
               Error);
}

}  // namespace
}  // namespace ser::nn
