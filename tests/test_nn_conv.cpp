// The CPU twin of 2-D convolution (kernels/conv2d/cpu.cpp: im2col + OpenBLAS) against a naive
// direct convolution written here in double, on odd shapes (non-square kernels, strides 1-3,
// paddings 0-2, the 1x1 shortcut, a shape that needs several im2col chunks); the backward against
// central finite differences in double; the gradient contract (dw/db accumulate, dx overwrites,
// null outputs skipped); shape validation; and the FastDiv used by the CUDA kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../kernels/fastdiv.cuh"
#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/conv.hpp"
#include "ser/nn/exec.hpp"

namespace ser::nn {
namespace {

using test::random_nonzero;

std::size_t x_size(const Conv2dShape& s) { return std::size_t(s.n) * s.c_in * s.h * s.w; }
std::size_t y_size(const Conv2dShape& s) { return std::size_t(s.n) * s.c_out * s.h_out() * s.w_out(); }
std::size_t w_size(const Conv2dShape& s) { return std::size_t(s.c_out) * s.c_in * s.kh * s.kw; }

std::string describe(const Conv2dShape& s) {
  return "N" + std::to_string(s.n) + " Cin" + std::to_string(s.c_in) + " " + std::to_string(s.h) + "x" +
         std::to_string(s.w) + " Cout" + std::to_string(s.c_out) + " k" + std::to_string(s.kh) + "x" +
         std::to_string(s.kw) + " s" + std::to_string(s.sh) + "x" + std::to_string(s.sw) + " p" +
         std::to_string(s.ph) + "x" + std::to_string(s.pw);
}

Conv2dShape shape(int n, int c_in, int h, int w, int c_out, int kh, int kw, int sh, int sw, int ph, int pw) {
  Conv2dShape s;
  s.n = n, s.c_in = c_in, s.h = h, s.w = w, s.c_out = c_out;
  s.kh = kh, s.kw = kw, s.sh = sh, s.sw = sw, s.ph = ph, s.pw = pw;
  return s;
}

// Odd shapes covering every branch of the twin: 3x3 s1 p1 (the models' case), non-square kernels,
// strides 2 and 3 (also unequal), zero and large padding, the 1x1 / s1 / p0 shortcut, a strided 1x1;
// for dx both the stride-1 "forward with the flipped kernel" path (C_in >= 8, padding <= kernel - 1)
// and the col2im path (strides > 1, C_in < 8, or padding > kernel - 1 as in the 2x3 kernel padded by 2).
std::vector<Conv2dShape> odd_shapes() {
  return {
      shape(2, 3, 7, 5, 4, 3, 3, 1, 1, 1, 1),  shape(1, 2, 9, 8, 3, 3, 2, 2, 1, 1, 0),
      shape(3, 1, 6, 7, 5, 1, 1, 1, 1, 0, 0),  shape(2, 4, 11, 10, 3, 5, 3, 2, 2, 2, 1),
      shape(1, 3, 5, 13, 2, 2, 4, 1, 3, 0, 2), shape(2, 2, 8, 9, 3, 3, 3, 2, 2, 0, 0),
      shape(2, 3, 7, 6, 2, 1, 1, 2, 2, 0, 0),  shape(1, 2, 4, 5, 3, 3, 3, 1, 1, 2, 2),
      shape(1, 5, 3, 3, 7, 3, 3, 3, 3, 1, 1),  shape(2, 9, 7, 6, 4, 3, 3, 1, 1, 1, 1),
      shape(1, 8, 6, 9, 3, 2, 4, 1, 1, 0, 2),  shape(2, 10, 5, 6, 4, 3, 3, 1, 1, 0, 0),
      shape(2, 8, 5, 6, 4, 2, 3, 1, 1, 2, 1),
  };
}

// ---- naive reference (double) ---------------------------------------------------------------------

double x_at(const Conv2dShape& s, const std::vector<double>& x, int n, int c, int ih, int iw) {
  if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) return 0.0;
  return x[((std::size_t(n) * s.c_in + c) * s.h + ih) * s.w + iw];
}

std::vector<double> naive_forward(const Conv2dShape& s, const std::vector<double>& x, const std::vector<double>& w,
                                  const double* b) {
  const int ho = s.h_out(), wo = s.w_out();
  std::vector<double> y(y_size(s));
  for (int n = 0; n < s.n; ++n)
    for (int co = 0; co < s.c_out; ++co)
      for (int oh = 0; oh < ho; ++oh)
        for (int ow = 0; ow < wo; ++ow) {
          double acc = b ? b[co] : 0.0;
          for (int c = 0; c < s.c_in; ++c)
            for (int r = 0; r < s.kh; ++r)
              for (int q = 0; q < s.kw; ++q)
                acc += w[((std::size_t(co) * s.c_in + c) * s.kh + r) * s.kw + q] *
                       x_at(s, x, n, c, oh * s.sh - s.ph + r, ow * s.sw - s.pw + q);
          y[((std::size_t(n) * s.c_out + co) * ho + oh) * wo + ow] = acc;
        }
  return y;
}

struct Grads {
  std::vector<double> dx, dw, db;
};

// Scatter form of the backward: every (output, tap) pair adds its product once.
Grads naive_backward(const Conv2dShape& s, const std::vector<double>& x, const std::vector<double>& w,
                     const std::vector<double>& dy) {
  const int ho = s.h_out(), wo = s.w_out();
  Grads g{std::vector<double>(x_size(s)), std::vector<double>(w_size(s)), std::vector<double>(s.c_out)};
  for (int n = 0; n < s.n; ++n)
    for (int co = 0; co < s.c_out; ++co)
      for (int oh = 0; oh < ho; ++oh)
        for (int ow = 0; ow < wo; ++ow) {
          const double d = dy[((std::size_t(n) * s.c_out + co) * ho + oh) * wo + ow];
          g.db[co] += d;
          for (int c = 0; c < s.c_in; ++c)
            for (int r = 0; r < s.kh; ++r)
              for (int q = 0; q < s.kw; ++q) {
                const int ih = oh * s.sh - s.ph + r, iw = ow * s.sw - s.pw + q;
                if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                const std::size_t wi = ((std::size_t(co) * s.c_in + c) * s.kh + r) * s.kw + q;
                const std::size_t xi = ((std::size_t(n) * s.c_in + c) * s.h + ih) * s.w + iw;
                g.dw[wi] += d * x[xi];
                g.dx[xi] += d * w[wi];
              }
        }
  return g;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// ---- forward ------------------------------------------------------------------------------------------

TEST(NnConv, ForwardDoubleMatchesNaiveOnOddShapes) {
  std::uint64_t seed = 1;
  for (const Conv2dShape& s : odd_shapes()) {
    SCOPED_TRACE(describe(s));
    const auto x = random_nonzero<double>(x_size(s), seed++);
    const auto w = random_nonzero<double>(w_size(s), seed++);
    const auto b = random_nonzero<double>(s.c_out, seed++);
    std::vector<double> y(y_size(s), std::numeric_limits<double>::quiet_NaN());
    conv2d_forward_cpu<double>(s, x.data(), w.data(), b.data(), y.data());
    EXPECT_LE(max_abs_diff(y, naive_forward(s, x, w, b.data())), 1e-12);
  }
}

TEST(NnConv, ForwardFloatMatchesNaiveOnOddShapes) {
  std::uint64_t seed = 100;
  for (const Conv2dShape& s : odd_shapes()) {
    SCOPED_TRACE(describe(s));
    const auto x = random_nonzero<double>(x_size(s), seed++);
    const auto w = random_nonzero<double>(w_size(s), seed++);
    const auto b = random_nonzero<double>(s.c_out, seed++);
    const auto xf = test::cast_vector<float>(x), wf = test::cast_vector<float>(w), bf = test::cast_vector<float>(b);
    std::vector<float> y(y_size(s), std::numeric_limits<float>::quiet_NaN());
    conv2d_forward_cpu<float>(s, xf.data(), wf.data(), bf.data(), y.data());
    // reference from the float-rounded inputs, in double
    const auto ref = naive_forward(s, test::cast_vector<double>(xf), test::cast_vector<double>(wf),
                                   test::cast_vector<double>(bf).data());
    EXPECT_LT(test::nmse(y, test::cast_vector<float>(ref)), 1e-12);
  }
}

TEST(NnConv, ForwardWithoutBiasAndThroughTheCpuDispatch) {
  const Conv2dShape s = shape(2, 3, 7, 6, 5, 3, 3, 1, 1, 1, 1);
  const auto x = random_nonzero<double>(x_size(s), 7);
  const auto w = random_nonzero<double>(w_size(s), 8);
  std::vector<double> y(y_size(s), 1e300);
  conv2d_forward_cpu<double>(s, x.data(), w.data(), nullptr, y.data());
  EXPECT_LE(max_abs_diff(y, naive_forward(s, x, w, nullptr)), 1e-12);

  const auto xf = test::cast_vector<float>(x), wf = test::cast_vector<float>(w);
  const auto bf = random_nonzero<float>(s.c_out, 9);
  std::vector<float> twin(y_size(s)), disp(y_size(s), std::numeric_limits<float>::quiet_NaN());
  conv2d_forward_cpu<float>(s, xf.data(), wf.data(), bf.data(), twin.data());
  const ExecContext cpu{};
  EXPECT_EQ(conv2d_workspace_bytes(cpu, s), 0u);
  conv2d_forward(cpu, s, xf.data(), wf.data(), bf.data(), disp.data(), nullptr);
  EXPECT_EQ(disp, twin);
}

// H_out = 60 rows of 64 columns with C_in*9 = 576: 56 rows per im2col chunk, so two chunks (the
// second one short); the 1x1 shortcut and single-chunk shapes are covered above.
TEST(NnConv, SeveralIm2colChunksMatchNaive) {
  const Conv2dShape s = shape(2, 64, 60, 64, 3, 3, 3, 1, 1, 1, 1);
  const auto x = random_nonzero<double>(x_size(s), 11);
  const auto w = random_nonzero<double>(w_size(s), 12);
  const auto b = random_nonzero<double>(s.c_out, 13);
  std::vector<double> y(y_size(s));
  conv2d_forward_cpu<double>(s, x.data(), w.data(), b.data(), y.data());
  EXPECT_LE(max_abs_diff(y, naive_forward(s, x, w, b.data())), 1e-11);

  const auto dy = random_nonzero<double>(y_size(s), 14);
  std::vector<double> dx(x_size(s)), dw(w_size(s), 0.0), db(s.c_out, 0.0);
  conv2d_backward_cpu<double>(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
  const Grads ref = naive_backward(s, x, w, dy);
  EXPECT_LE(max_abs_diff(dx, ref.dx), 1e-11);
  EXPECT_LE(max_abs_diff(dw, ref.dw), 1e-9);  // sums of ~7,700 products of order 1
  EXPECT_LE(max_abs_diff(db, ref.db), 1e-10);
}

// ---- backward -------------------------------------------------------------------------------------

TEST(NnConv, BackwardDoubleMatchesNaiveOnOddShapes) {
  std::uint64_t seed = 200;
  for (const Conv2dShape& s : odd_shapes()) {
    SCOPED_TRACE(describe(s));
    const auto x = random_nonzero<double>(x_size(s), seed++);
    const auto w = random_nonzero<double>(w_size(s), seed++);
    const auto dy = random_nonzero<double>(y_size(s), seed++);
    std::vector<double> dx(x_size(s), std::numeric_limits<double>::quiet_NaN());
    std::vector<double> dw(w_size(s), 0.0), db(s.c_out, 0.0);
    conv2d_backward_cpu<double>(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
    const Grads ref = naive_backward(s, x, w, dy);
    EXPECT_LE(max_abs_diff(dx, ref.dx), 1e-12);
    EXPECT_LE(max_abs_diff(dw, ref.dw), 1e-12);
    EXPECT_LE(max_abs_diff(db, ref.db), 1e-12);
  }
}

TEST(NnConv, BackwardFloatMatchesNaiveOnOddShapes) {
  std::uint64_t seed = 300;
  for (const Conv2dShape& s : odd_shapes()) {
    SCOPED_TRACE(describe(s));
    const auto xf = random_nonzero<float>(x_size(s), seed++);
    const auto wf = random_nonzero<float>(w_size(s), seed++);
    const auto dyf = random_nonzero<float>(y_size(s), seed++);
    std::vector<float> dx(x_size(s), std::numeric_limits<float>::quiet_NaN());
    std::vector<float> dw(w_size(s), 0.0f), db(s.c_out, 0.0f);
    conv2d_backward_cpu<float>(s, xf.data(), wf.data(), dyf.data(), dx.data(), dw.data(), db.data());
    const Grads ref = naive_backward(s, test::cast_vector<double>(xf), test::cast_vector<double>(wf),
                                     test::cast_vector<double>(dyf));
    EXPECT_LT(test::nmse(dx, test::cast_vector<float>(ref.dx)), 1e-12);
    EXPECT_LT(test::nmse(dw, test::cast_vector<float>(ref.dw)), 1e-12);
    EXPECT_LT(test::nmse(db, test::cast_vector<float>(ref.db)), 1e-12);
  }
}

// Objective Σ r·y with random r: dy = r, and every gradient is checked by central differences.
TEST(NnConv, BackwardMatchesFiniteDifferences) {
  const std::vector<Conv2dShape> shapes = {shape(2, 2, 5, 4, 3, 3, 3, 1, 1, 1, 1),
                                           shape(1, 3, 7, 6, 2, 3, 2, 2, 1, 1, 0),
                                           shape(2, 2, 6, 7, 2, 2, 3, 2, 3, 1, 2),
                                           shape(1, 8, 4, 5, 2, 3, 3, 1, 1, 1, 1)};
  std::uint64_t seed = 400;
  for (const Conv2dShape& s : shapes) {
    SCOPED_TRACE(describe(s));
    auto x = random_nonzero<double>(x_size(s), seed++);
    auto w = random_nonzero<double>(w_size(s), seed++);
    auto b = random_nonzero<double>(s.c_out, seed++);
    const auto r = random_nonzero<double>(y_size(s), seed++);
    std::vector<double> y(y_size(s));
    const auto objective = [&] {
      conv2d_forward_cpu<double>(s, x.data(), w.data(), b.data(), y.data());
      return test::dot(r, y);
    };
    std::vector<double> dx(x_size(s)), dw(w_size(s), 0.0), db(s.c_out, 0.0);
    conv2d_backward_cpu<double>(s, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data());
    test::expect_gradient_matches("dx", x, dx, objective);
    test::expect_gradient_matches("dw", w, dw, objective);
    test::expect_gradient_matches("db", b, db, objective);
  }
}

TEST(NnConv, ParameterGradientsAccumulateInputGradientOverwrites) {
  const Conv2dShape s = shape(2, 3, 6, 5, 4, 3, 3, 2, 1, 1, 1);
  const auto x = random_nonzero<double>(x_size(s), 500);
  const auto w = random_nonzero<double>(w_size(s), 501);
  const auto dy = random_nonzero<double>(y_size(s), 502);
  const Grads ref = naive_backward(s, x, w, dy);

  const auto dw0 = random_nonzero<double>(w_size(s), 503, 5.0, 10.0);  // what was already there
  const auto db0 = random_nonzero<double>(s.c_out, 504, 5.0, 10.0);
  std::vector<double> dx(x_size(s), 1e300), dw = dw0, db = db0;
  conv2d_backward_cpu<double>(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
  EXPECT_LE(max_abs_diff(dx, ref.dx), 1e-12);  // the garbage in dx is gone
  for (std::size_t i = 0; i < dw.size(); ++i) EXPECT_NEAR(dw[i], dw0[i] + ref.dw[i], 1e-12) << "dw " << i;
  for (int i = 0; i < s.c_out; ++i) EXPECT_NEAR(db[i], db0[i] + ref.db[i], 1e-12) << "db " << i;

  // A second call adds a second copy of the gradient and writes dx again, unchanged.
  conv2d_backward_cpu<double>(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
  EXPECT_LE(max_abs_diff(dx, ref.dx), 1e-12);
  for (std::size_t i = 0; i < dw.size(); ++i) EXPECT_NEAR(dw[i], dw0[i] + 2 * ref.dw[i], 1e-12) << "dw " << i;
  for (int i = 0; i < s.c_out; ++i) EXPECT_NEAR(db[i], db0[i] + 2 * ref.db[i], 1e-12) << "db " << i;
}

TEST(NnConv, NullGradientsAreSkipped) {
  for (const Conv2dShape& s : {shape(2, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1), shape(2, 3, 6, 5, 4, 1, 1, 1, 1, 0, 0)}) {
    SCOPED_TRACE(describe(s));
    const auto x = random_nonzero<double>(x_size(s), 600);
    const auto w = random_nonzero<double>(w_size(s), 601);
    const auto dy = random_nonzero<double>(y_size(s), 602);
    const Grads ref = naive_backward(s, x, w, dy);
    {  // dx == nullptr: dw and db still right
      std::vector<double> dw(w_size(s), 0.0), db(s.c_out, 0.0);
      conv2d_backward_cpu<double>(s, x.data(), w.data(), dy.data(), nullptr, dw.data(), db.data());
      EXPECT_LE(max_abs_diff(dw, ref.dw), 1e-12);
      EXPECT_LE(max_abs_diff(db, ref.db), 1e-12);
    }
    {  // db == nullptr and dw == nullptr: dx alone
      std::vector<double> dx(x_size(s), 1e300);
      conv2d_backward_cpu<double>(s, x.data(), w.data(), dy.data(), dx.data(), nullptr, nullptr);
      EXPECT_LE(max_abs_diff(dx, ref.dx), 1e-12);
    }
    {  // db only
      std::vector<double> db(s.c_out, 0.0);
      conv2d_backward_cpu<double>(s, x.data(), w.data(), dy.data(), nullptr, nullptr, db.data());
      EXPECT_LE(max_abs_diff(db, ref.db), 1e-12);
    }
  }
}

TEST(NnConv, BadShapesThrow) {
  std::vector<float> buf(4096, 1.0f);
  const auto fwd = [&](const Conv2dShape& s) { conv2d_forward_cpu<float>(s, buf.data(), buf.data(), nullptr, buf.data()); };
  Conv2dShape s = shape(1, 1, 4, 4, 1, 3, 3, 1, 1, 1, 1);
  EXPECT_NO_THROW(fwd(s));
  s.sh = 0;
  EXPECT_THROW(fwd(s), Error);
  s = shape(1, 1, 4, 4, 1, 3, 3, 1, 1, -1, 1);
  EXPECT_THROW(fwd(s), Error);
  s = shape(1, 1, 2, 4, 1, 5, 3, 1, 1, 1, 1);  // kernel taller than the padded input
  EXPECT_THROW(fwd(s), Error);
  s = shape(1, 0, 4, 4, 1, 3, 3, 1, 1, 1, 1);
  EXPECT_THROW(fwd(s), Error);
  s = shape(1 << 16, 64, 1024, 64, 1, 3, 3, 1, 1, 1, 1);  // input of 2^38 elements
  EXPECT_THROW(conv2d_workspace_bytes(ExecContext{}, s), Error);
}

TEST(NnConv, FlopsForward) {
  const Conv2dShape s = shape(2, 3, 7, 5, 4, 3, 3, 2, 1, 1, 1);  // H_out 4, W_out 5
  EXPECT_DOUBLE_EQ(s.flops_forward(), 2.0 * 2 * 4 * 4 * 5 * 3 * 3 * 3);
}

// ---- FastDiv (kernels/fastdiv.cuh, host side) ------------------------------------------------------

TEST(NnConvFastDiv, MatchesIntegerDivision) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> any_n(0, std::numeric_limits<int>::max());
  std::vector<int> divisors = {1, 2, 3, 5, 7, 9, 64, 100, 127, 6400, 25600, 65535, 65537, (1 << 30) + 1,
                               std::numeric_limits<int>::max()};
  std::uniform_int_distribution<int> any_d(1, std::numeric_limits<int>::max());
  for (int i = 0; i < 40; ++i) divisors.push_back(any_d(rng));
  for (int d : divisors) {
    const cuda::FastDiv f(d);
    std::vector<int> ns = {0, 1, d - 1, d, std::numeric_limits<int>::max(), std::numeric_limits<int>::max() - 1};
    if (d < std::numeric_limits<int>::max() / 3) ns.insert(ns.end(), {2 * d - 1, 2 * d, 3 * d + 1});
    for (int i = 0; i < 2000; ++i) ns.push_back(any_n(rng));
    for (int i = 0; i < 200 && d < (1 << 20); ++i) ns.push_back(i);
    for (int n : ns) {
      int q = -1, r = -1;
      f.divmod(n, q, r);
      ASSERT_EQ(q, n / d) << n << " / " << d;
      ASSERT_EQ(r, n % d) << n << " % " << d;
    }
  }
}

}  // namespace
}  // namespace ser::nn
