// Masked 2-D max-pooling, CPU twin (kernels/maxpool2d/cpu.cpp): forward against a naive reference,
// the masking and tie rules, backward against central finite differences in double (inputs spaced
// apart so no perturbation changes a window's winner), the overwrite contract of dx, and the shape
// checks of the dispatch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/pool.hpp"

namespace ser::nn {
namespace {

using test::cast_vector;
using test::dot;
using test::expect_gradient_matches;
using test::random_nonzero;

const ExecContext kCpu{};

Pool2dShape make(int n, int c, int h, int w, int kh, int kw, int sh, int sw) {
  Pool2dShape s;
  s.n = n; s.c = c; s.h = h; s.w = w; s.kh = kh; s.kw = kw; s.sh = sh; s.sw = sw;
  return s;
}

std::size_t in_count(const Pool2dShape& s) { return std::size_t(s.n) * s.c * s.h * s.w; }
std::size_t out_count(const Pool2dShape& s) { return std::size_t(s.n) * s.c * s.h_out() * s.w_out(); }

// Distinct values spaced `gap` apart in random order (no ties anywhere), shifted to straddle 0.
std::vector<double> spaced(std::size_t n, std::uint64_t seed, double gap = 0.01) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = (static_cast<double>(i) - 0.5 * n) * gap + 0.003;
  std::shuffle(v.begin(), v.end(), std::mt19937_64(seed));
  return v;
}

// The obvious loops, written independently of the twin: max over the window with ties to the first
// in row-major order; rows past the valid output length zero with argmax -1.
void reference(const Pool2dShape& s, const std::vector<double>& x, const int* len, std::vector<double>& y,
               std::vector<std::int32_t>& am) {
  const int ho = s.h_out(), wo = s.w_out();
  y.assign(out_count(s), 0.0);
  am.assign(out_count(s), -1);
  for (int n = 0; n < s.n; ++n) {
    const int l = len ? std::clamp(len[n], 0, s.h) : s.h;
    const int valid = l < s.kh ? 0 : (l - s.kh) / s.sh + 1;
    for (int c = 0; c < s.c; ++c)
      for (int oh = 0; oh < valid; ++oh)
        for (int ow = 0; ow < wo; ++ow) {
          double best = -std::numeric_limits<double>::infinity();
          int best_i = -1;
          for (int i = 0; i < s.kh; ++i)
            for (int j = 0; j < s.kw; ++j) {
              const int h = oh * s.sh + i, w = ow * s.sw + j;
              const double v = x[((std::size_t(n) * s.c + c) * s.h + h) * s.w + w];
              if (best_i < 0 || v > best) {
                best = v;
                best_i = h * s.w + w;
              }
            }
          const std::size_t o = ((std::size_t(n) * s.c + c) * ho + oh) * wo + ow;
          y[o] = best;
          am[o] = best_i;
        }
  }
}

struct Case {
  Pool2dShape s;
  std::vector<int> lengths;  // empty: nullptr
};

std::vector<Case> cases() {
  return {
      {make(3, 2, 11, 9, 3, 2, 2, 3), {11, 4, 0}},   // overlapping rows, gaps between columns, a length-0 sample
      {make(2, 3, 8, 8, 2, 2, 2, 2), {7, 8}},        // the usual 2x2 / 2, odd length
      {make(2, 2, 9, 7, 3, 3, 1, 1), {2, 9}},        // heavy overlap; length < kh gives no valid row
      {make(1, 2, 5, 7, 5, 7, 1, 1), {}},            // one global window, no lengths
      {make(2, 1, 6, 5, 1, 1, 1, 1), {3, 6}},        // identity pooling
  };
}

TEST(MaxPool2dCpu, ForwardMatchesNaiveReference) {
  for (const Case& cs : cases()) {
    const Pool2dShape& s = cs.s;
    const int* len = cs.lengths.empty() ? nullptr : cs.lengths.data();
    const std::vector<double> x = spaced(in_count(s), 11);
    std::vector<double> ry;
    std::vector<std::int32_t> ram;
    reference(s, x, len, ry, ram);

    std::vector<double> yd(out_count(s), 7.0);
    std::vector<std::int32_t> ad(out_count(s), 12345);
    maxpool2d_forward_cpu<double>(s, x.data(), len, yd.data(), ad.data());
    EXPECT_EQ(yd, ry);
    EXPECT_EQ(ad, ram);

    const std::vector<float> xf = cast_vector<float>(x);
    std::vector<float> yf(out_count(s), 7.0f);
    std::vector<std::int32_t> af(out_count(s), 12345);
    maxpool2d_forward(kCpu, s, xf.data(), len, yf.data(), af.data());  // the dispatch
    EXPECT_EQ(af, ram);
    for (std::size_t i = 0; i < yf.size(); ++i) ASSERT_EQ(yf[i], static_cast<float>(ry[i])) << i;
  }
}

TEST(MaxPool2dCpu, MaskedRowsAreExactlyZeroWithArgmaxMinusOne) {
  const Pool2dShape s = make(4, 2, 10, 6, 2, 2, 2, 2);
  const std::vector<int> len = {10, 5, 1, 0};  // valid output rows 5, 2, 0, 0
  const std::vector<int> valid = {5, 2, 0, 0};
  const std::vector<float> x = random_nonzero<float>(in_count(s), 3, 1.0, 2.0);  // all > 0: a real max is never 0
  std::vector<float> y(out_count(s), -9.0f);
  std::vector<std::int32_t> am(out_count(s), 77);
  maxpool2d_forward_cpu<float>(s, x.data(), len.data(), y.data(), am.data());
  const int ho = s.h_out(), wo = s.w_out();
  for (int n = 0; n < s.n; ++n)
    for (int c = 0; c < s.c; ++c)
      for (int oh = 0; oh < ho; ++oh)
        for (int ow = 0; ow < wo; ++ow) {
          const std::size_t o = ((std::size_t(n) * s.c + c) * ho + oh) * wo + ow;
          if (oh < valid[n]) {
            EXPECT_GE(y[o], 1.0f) << o;
            EXPECT_GE(am[o], 0) << o;
          } else {
            EXPECT_EQ(y[o], 0.0f) << o;
            EXPECT_FALSE(std::signbit(y[o])) << o;
            EXPECT_EQ(am[o], -1) << o;
          }
        }
  EXPECT_EQ(Pool2dShape::out_length(10, 2, 2), 5);
  EXPECT_EQ(Pool2dShape::out_length(1, 2, 2), 0);
  EXPECT_EQ(Pool2dShape::out_length(7, 3, 2), 3);
}

TEST(MaxPool2dCpu, TiesGoToTheFirstMaximumInRowMajorWindowOrder) {
  // One plane 4 x 4, windows 2 x 2 stride 2.
  const Pool2dShape s = make(1, 1, 4, 4, 2, 2, 2, 2);
  const std::vector<float> x = {
      1, 3,  5, 5,   //
      3, 2,  5, 5,   //
      0, -1, 2, 1,   //
      -1, 0, 1, 2,   //
  };
  std::vector<float> y(4);
  std::vector<std::int32_t> am(4);
  maxpool2d_forward_cpu<float>(s, x.data(), nullptr, y.data(), am.data());
  EXPECT_EQ(am[0], 1);   // 3 at (0,1) beats the 3 at (1,0), later in row-major order
  EXPECT_EQ(am[1], 2);   // four 5s: the first, (0,2)
  EXPECT_EQ(am[2], 8);   // 0 at (2,0) and (3,1): the first
  EXPECT_EQ(am[3], 10);  // 2 at (2,2) and (3,3)
  EXPECT_EQ(y, (std::vector<float>{3, 5, 0, 2}));

  // Backward routes each gradient to that first maximum only.
  const std::vector<float> dy = {10, 20, 30, 40};
  std::vector<float> dx(16, -1.0f);
  maxpool2d_backward_cpu<float>(s, dy.data(), am.data(), dx.data());
  std::vector<float> want(16, 0.0f);
  want[1] = 10; want[2] = 20; want[8] = 30; want[10] = 40;
  EXPECT_EQ(dx, want);
}

TEST(MaxPool2dCpu, NaNPropagatesAndTheFirstNaNWins) {
  const Pool2dShape s = make(1, 1, 2, 4, 2, 2, 2, 2);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {1, 2, 5, nan,  //
                                nan, 9, nan, 7};
  std::vector<float> y(2);
  std::vector<std::int32_t> am(2);
  maxpool2d_forward_cpu<float>(s, x.data(), nullptr, y.data(), am.data());
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(am[0], 4);
  EXPECT_TRUE(std::isnan(y[1]));
  EXPECT_EQ(am[1], 3);
}

TEST(MaxPool2dCpu, BackwardMatchesFiniteDifferences) {
  for (const Case& cs : cases()) {
    const Pool2dShape& s = cs.s;
    const int* len = cs.lengths.empty() ? nullptr : cs.lengths.data();
    std::vector<double> x = spaced(in_count(s), 5);
    const std::vector<double> r = random_nonzero<double>(out_count(s), 6);
    std::vector<double> y(out_count(s));
    std::vector<std::int32_t> am(out_count(s));
    maxpool2d_forward_cpu<double>(s, x.data(), len, y.data(), am.data());
    std::vector<double> dx(in_count(s));
    maxpool2d_backward_cpu<double>(s, r.data(), am.data(), dx.data());
    const auto f = [&] {
      std::vector<double> yy(out_count(s));
      std::vector<std::int32_t> aa(out_count(s));
      maxpool2d_forward_cpu<double>(s, x.data(), len, yy.data(), aa.data());
      return dot(r, yy);
    };
    expect_gradient_matches("maxpool dx", x, dx, f);
    // With stride 1 windows overlap heavily and a local maximum wins several of them: its gradient
    // is a sum (checked above), and this makes sure the case really occurs.
    if (s.sh == 1 && s.sw == 1 && s.kh * s.kw > 1 && s.h_out() * s.w_out() > 1) {
      std::vector<int> hits(in_count(s), 0);
      const std::size_t plane = std::size_t(s.h) * s.w, oplane = std::size_t(s.h_out()) * s.w_out();
      for (std::size_t o = 0; o < am.size(); ++o)
        if (am[o] >= 0) ++hits[o / oplane * plane + static_cast<std::size_t>(am[o])];
      EXPECT_GT(*std::max_element(hits.begin(), hits.end()), 1) << "test does not exercise overlap";
    }
  }
}

TEST(MaxPool2dCpu, BackwardOverwritesDx) {
  const Pool2dShape s = make(2, 3, 7, 6, 2, 3, 2, 3);
  const std::vector<int> len = {7, 3};
  const std::vector<float> x = random_nonzero<float>(in_count(s), 21);
  const std::vector<float> dy = random_nonzero<float>(out_count(s), 22);
  std::vector<float> y(out_count(s));
  std::vector<std::int32_t> am(out_count(s));
  maxpool2d_forward(kCpu, s, x.data(), len.data(), y.data(), am.data());
  std::vector<float> clean(in_count(s), 0.0f), dirty(in_count(s), std::numeric_limits<float>::quiet_NaN());
  maxpool2d_backward(kCpu, s, dy.data(), am.data(), clean.data());
  maxpool2d_backward(kCpu, s, dy.data(), am.data(), dirty.data());
  EXPECT_EQ(dirty, clean);
  // Exactly one element per window with a valid output row receives gradient (no overlap here).
  std::size_t nonzero = 0;
  for (float v : clean) nonzero += v != 0.0f;
  std::size_t valid_outputs = 0;
  for (std::int32_t a : am) valid_outputs += a >= 0;
  EXPECT_EQ(nonzero, valid_outputs);
  // Input rows of sample 1 past its length get no gradient.
  for (int c = 0; c < s.c; ++c)
    for (int h = len[1]; h < s.h; ++h)
      for (int w = 0; w < s.w; ++w) EXPECT_EQ(clean[((std::size_t(1) * s.c + c) * s.h + h) * s.w + w], 0.0f);
}

TEST(MaxPool2dCpu, RejectsBadShapes) {
  std::vector<float> buf(1024);
  std::vector<std::int32_t> am(1024);
  for (const Pool2dShape& s : {make(1, 1, 3, 4, 4, 2, 2, 2), make(1, 1, 4, 1, 2, 2, 2, 2),
                               make(1, 1, 4, 4, 2, 2, 0, 2), make(0, 1, 4, 4, 2, 2, 2, 2),
                               make(1, 1, 4, 4, 0, 2, 2, 2)}) {
    EXPECT_THROW(maxpool2d_forward(kCpu, s, buf.data(), nullptr, buf.data(), am.data()), Error);
    EXPECT_THROW(maxpool2d_backward_cpu<double>(s, nullptr, am.data(), nullptr), Error);
  }
}

}  // namespace
}  // namespace ser::nn
