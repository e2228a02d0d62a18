// The direct 3x3 convolution of one input channel (kernels/conv2d/direct_cpu.cpp, the CPU
// twin's path for the first layer) against a naive reference written here in double: forward, dw
// and db, float and double, on shapes that stress the vector tail (W_out not a multiple of the
// 8-float vector, or smaller than it), several row chunks, N = 1 and N > 1, padding 0 and 1 per
// axis, C_out not a multiple of 8. Small-integer inputs make every float sum exact, so there the
// float path must match the reference bit for bit; random real inputs are held to the worst-case
// rounding bound of a sum. Results must be the same bits for every thread count, the CPU twin must
// take this path (and still compute dx from the general one), and outputs must not be written past
// their end.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "conv2d/direct_cpu.hpp"
#include "nn_test_util.hpp"
#include "ser/nn/conv.hpp"

namespace ser::nn {
namespace {

using test::cast_vector;
using test::random_nonzero;

Conv2dShape first_layer(int n, int h, int w, int c_out, int ph, int pw) {
  Conv2dShape s;
  s.n = n, s.c_in = 1, s.h = h, s.w = w, s.c_out = c_out;
  s.kh = s.kw = 3, s.sh = s.sw = 1, s.ph = ph, s.pw = pw;
  return s;
}

std::string describe(const Conv2dShape& s) {
  std::ostringstream o;
  o << "N" << s.n << " " << s.h << "x" << s.w << " Cout" << s.c_out << " p" << s.ph << "x" << s.pw;
  return o.str();
}

// W_out 64 (the models' 64 mel bands, two 32-row chunks plus a short one), 13 and 9 (a vector and
// a tail), 5 and 1 (less than one vector); odd H and W; padding 0 / 1 on each axis.
std::vector<Conv2dShape> shapes() {
  return {first_layer(2, 70, 64, 16, 1, 1), first_layer(1, 7, 5, 3, 1, 1), first_layer(3, 9, 13, 5, 1, 1),
          first_layer(2, 11, 11, 7, 0, 0),  first_layer(1, 33, 17, 10, 0, 1), first_layer(2, 40, 3, 6, 1, 0),
          first_layer(1, 3, 3, 1, 0, 0)};
}

std::size_t x_size(const Conv2dShape& s) { return std::size_t(s.n) * s.h * s.w; }
std::size_t y_size(const Conv2dShape& s) { return std::size_t(s.n) * s.c_out * s.h_out() * s.w_out(); }
std::size_t w_size(const Conv2dShape& s) { return std::size_t(s.c_out) * 9; }

// A reference value with the sum of its terms' magnitudes and their number (for the rounding bound).
struct Ref {
  std::vector<double> value, magnitude;
  int terms = 0;
};
struct Refs {
  Ref y, dw, db;
};

// Naive double loops over every (output, tap) pair, skipping taps in the padding.
Refs reference(const Conv2dShape& s, const std::vector<double>& x, const std::vector<double>& w,
               const std::vector<double>& b, const std::vector<double>& dy) {
  const int ho = s.h_out(), wo = s.w_out();
  Refs r;
  r.y.value.assign(y_size(s), 0.0), r.y.magnitude.assign(y_size(s), 0.0);
  r.y.terms = 10;
  r.dw.value.assign(w_size(s), 0.0), r.dw.magnitude.assign(w_size(s), 0.0);
  r.db.value.assign(s.c_out, 0.0), r.db.magnitude.assign(s.c_out, 0.0);
  r.dw.terms = r.db.terms = s.n * ho * wo;
  for (int n = 0; n < s.n; ++n)
    for (int co = 0; co < s.c_out; ++co)
      for (int oh = 0; oh < ho; ++oh)
        for (int ow = 0; ow < wo; ++ow) {
          const std::size_t yi = ((std::size_t(n) * s.c_out + co) * ho + oh) * wo + ow;
          double acc = b[co], mag = std::abs(b[co]);
          for (int kr = 0; kr < 3; ++kr)
            for (int kq = 0; kq < 3; ++kq) {
              const int ih = oh - s.ph + kr, iw = ow - s.pw + kq;
              if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
              const double xv = x[(std::size_t(n) * s.h + ih) * s.w + iw];
              const std::size_t wi = std::size_t(co) * 9 + kr * 3 + kq;
              acc += w[wi] * xv;
              mag += std::abs(w[wi] * xv);
              r.dw.value[wi] += dy[yi] * xv;
              r.dw.magnitude[wi] += std::abs(dy[yi] * xv);
            }
          r.y.value[yi] = acc;
          r.y.magnitude[yi] = mag;
          r.db.value[co] += dy[yi];
          r.db.magnitude[co] += std::abs(dy[yi]);
        }
  return r;
}

// Worst case of any summation order of `terms` rounded products, unit roundoff u:
// |got - exact| <= (terms + 1) u Σ|term| (first order; the factor 2 covers the rest).
template <typename T>
void expect_within_rounding(const char* what, const std::vector<T>& got, const Ref& ref) {
  const double u = std::numeric_limits<T>::epsilon() / 2;
  int bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double bound = 2.0 * (ref.terms + 1) * u * ref.magnitude[i];
    if (!(std::abs(static_cast<double>(got[i]) - ref.value[i]) <= bound) && ++bad <= 5)
      ADD_FAILURE() << what << "[" << i << "]: " << got[i] << ", reference " << ref.value[i] << ", bound " << bound;
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << got.size() << " outside the rounding bound";
}

// Integers in [-4, 4] without 0: products and partial sums of these shapes are exact in float.
std::vector<double> small_integers(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(1, 8);
  std::vector<double> v(n);
  for (auto& e : v) {
    const int k = pick(rng);
    e = k <= 4 ? -k : k - 4;
  }
  return v;
}

// Output buffers with sentinel elements after the end, to catch a vector store past it.
constexpr int kGuard = 16;
template <typename T>
std::vector<T> guarded(std::size_t n, T fill) {
  std::vector<T> v(n + kGuard, T(-7777));
  std::fill(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), fill);
  return v;
}
template <typename T>
void expect_guard_intact(const char* what, const std::vector<T>& v) {
  for (std::size_t i = v.size() - kGuard; i < v.size(); ++i)
    EXPECT_EQ(v[i], T(-7777)) << what << " written past its end";
}
template <typename T>
std::vector<T> unguarded(const std::vector<T>& v) {
  return std::vector<T>(v.begin(), v.end() - kGuard);
}

// The direct path's y, dw, db for T-typed copies of the inputs; dw and db start at zero.
template <typename T>
struct Result {
  std::vector<T> y, dw, db;
};
template <typename T>
Result<T> run_direct(const Conv2dShape& s, const std::vector<double>& x, const std::vector<double>& w,
                     const std::vector<double>& b, const std::vector<double>& dy, int threads) {
  const auto xt = cast_vector<T>(x), wt = cast_vector<T>(w), bt = cast_vector<T>(b), dyt = cast_vector<T>(dy);
  auto y = guarded<T>(y_size(s), std::numeric_limits<T>::quiet_NaN());
  auto dw = guarded<T>(w_size(s), T(0));
  auto db = guarded<T>(s.c_out, T(0));
  conv2d_direct_forward_cpu<T>(s, xt.data(), wt.data(), bt.data(), y.data(), threads);
  conv2d_direct_backward_params_cpu<T>(s, xt.data(), dyt.data(), dw.data(), db.data(), threads);
  expect_guard_intact("y", y);
  expect_guard_intact("dw", dw);
  expect_guard_intact("db", db);
  return {unguarded(y), unguarded(dw), unguarded(db)};
}

TEST(Conv2dDirect, AppliesToTheFirstLayersShapesOnly) {
  for (const Conv2dShape& s : shapes()) EXPECT_TRUE(conv2d_direct_applies(s)) << describe(s);
  Conv2dShape s = first_layer(2, 9, 9, 4, 1, 1);
  s.c_in = 2;
  EXPECT_FALSE(conv2d_direct_applies(s));
  s = first_layer(2, 9, 9, 4, 1, 1);
  s.sh = 2;
  EXPECT_FALSE(conv2d_direct_applies(s));
  s = first_layer(2, 9, 9, 4, 2, 1);
  EXPECT_FALSE(conv2d_direct_applies(s));
  s = first_layer(2, 9, 9, 4, 1, 1);
  s.kw = 5, s.pw = 2;
  EXPECT_FALSE(conv2d_direct_applies(s));
}

TEST(Conv2dDirect, FloatIsExactOnSmallIntegers) {
  std::uint64_t seed = 1;
  for (const Conv2dShape& s : shapes()) {
    SCOPED_TRACE(describe(s));
    const auto x = small_integers(x_size(s), seed++), w = small_integers(w_size(s), seed++);
    const auto b = small_integers(s.c_out, seed++), dy = small_integers(y_size(s), seed++);
    const Refs ref = reference(s, x, w, b, dy);
    const Result<float> got = run_direct<float>(s, x, w, b, dy, 0);
    EXPECT_EQ(cast_vector<double>(got.y), ref.y.value);
    EXPECT_EQ(cast_vector<double>(got.dw), ref.dw.value);
    EXPECT_EQ(cast_vector<double>(got.db), ref.db.value);
  }
}

// Random non-zero inputs representable in T, so the double reference sees exactly what the T path
// sees; every output of the direct kernels in T within its rounding bound.
template <typename T>
void expect_within_rounding_on_random_inputs(std::uint64_t seed) {
  for (const Conv2dShape& s : shapes()) {
    SCOPED_TRACE(describe(s));
    const auto draw = [&](std::size_t n) { return cast_vector<double>(random_nonzero<T>(n, seed++)); };
    const auto x = draw(x_size(s)), w = draw(w_size(s)), b = draw(s.c_out), dy = draw(y_size(s));
    const Refs ref = reference(s, x, w, b, dy);
    const Result<T> got = run_direct<T>(s, x, w, b, dy, 0);
    expect_within_rounding("y", got.y, ref.y);
    expect_within_rounding("dw", got.dw, ref.dw);
    expect_within_rounding("db", got.db, ref.db);
  }
}

TEST(Conv2dDirect, FloatWithinRoundingOnRandomInputs) { expect_within_rounding_on_random_inputs<float>(100); }
TEST(Conv2dDirect, DoubleWithinRoundingOnRandomInputs) { expect_within_rounding_on_random_inputs<double>(200); }

// Every output element and every chunk partial is computed by one thread in a fixed order, so the
// thread count changes nothing, not even the last bit.
TEST(Conv2dDirect, SameBitsForAnyThreadCount) {
  std::uint64_t seed = 300;
  for (const Conv2dShape& s : {first_layer(3, 101, 64, 16, 1, 1), first_layer(1, 70, 13, 5, 0, 1)}) {
    SCOPED_TRACE(describe(s));
    const auto x = random_nonzero<double>(x_size(s), seed++), w = random_nonzero<double>(w_size(s), seed++);
    const auto b = random_nonzero<double>(s.c_out, seed++), dy = random_nonzero<double>(y_size(s), seed++);
    const Result<float> one = run_direct<float>(s, x, w, b, dy, 1);
    for (int threads : {2, 3, 0}) {
      SCOPED_TRACE("threads " + std::to_string(threads));
      const Result<float> more = run_direct<float>(s, x, w, b, dy, threads);
      EXPECT_EQ(more.y, one.y);
      EXPECT_EQ(more.dw, one.dw);
      EXPECT_EQ(more.db, one.db);
    }
    const Result<double> one_d = run_direct<double>(s, x, w, b, dy, 1);
    const Result<double> two_d = run_direct<double>(s, x, w, b, dy, 2);
    EXPECT_EQ(two_d.y, one_d.y);
    EXPECT_EQ(two_d.dw, one_d.dw);
    EXPECT_EQ(two_d.db, one_d.db);
  }
}

// conv2d_forward_cpu / conv2d_backward_cpu give the direct path's bits; asked for dx as well, the
// backward still adds the direct dw / db and takes dx from the general path.
TEST(Conv2dDirect, TheCpuTwinUsesItAndStillComputesDx) {
  const Conv2dShape s = first_layer(2, 37, 21, 6, 1, 1);
  const auto x = random_nonzero<float>(x_size(s), 400), w = random_nonzero<float>(w_size(s), 401);
  const auto b = random_nonzero<float>(s.c_out, 402), dy = random_nonzero<float>(y_size(s), 403);
  const Result<float> direct = run_direct<float>(s, cast_vector<double>(x), cast_vector<double>(w),
                                                 cast_vector<double>(b), cast_vector<double>(dy), 0);

  std::vector<float> y(y_size(s)), dx(x_size(s), std::numeric_limits<float>::quiet_NaN());
  std::vector<float> dw(w_size(s), 0.0f), db(s.c_out, 0.0f);
  conv2d_forward_cpu<float>(s, x.data(), w.data(), b.data(), y.data());
  EXPECT_EQ(y, direct.y);
  conv2d_backward_cpu<float>(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
  EXPECT_EQ(dw, direct.dw);
  EXPECT_EQ(db, direct.db);

  // dx (N, 1, H, W)[ih, iw] = Σ_co Σ_taps w · dy, against a naive double scatter
  const int ho = s.h_out(), wo = s.w_out();
  std::vector<double> ref(x_size(s), 0.0), mag(x_size(s), 0.0);
  for (int n = 0; n < s.n; ++n)
    for (int co = 0; co < s.c_out; ++co)
      for (int oh = 0; oh < ho; ++oh)
        for (int ow = 0; ow < wo; ++ow)
          for (int kr = 0; kr < 3; ++kr)
            for (int kq = 0; kq < 3; ++kq) {
              const int ih = oh - s.ph + kr, iw = ow - s.pw + kq;
              if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
              const std::size_t yi = ((std::size_t(n) * s.c_out + co) * ho + oh) * wo + ow;
              const double t = double(w[co * 9 + kr * 3 + kq]) * dy[yi];
              ref[(std::size_t(n) * s.h + ih) * s.w + iw] += t;
              mag[(std::size_t(n) * s.h + ih) * s.w + iw] += std::abs(t);
            }
  expect_within_rounding("dx", dx, Ref{ref, mag, 9 * s.c_out});
}

TEST(Conv2dDirect, GradientsAccumulateAndNullOnesAreSkipped) {
  const Conv2dShape s = first_layer(2, 19, 10, 4, 1, 1);
  const auto x = small_integers(x_size(s), 500), w = small_integers(w_size(s), 501);
  const auto b = small_integers(s.c_out, 502), dy = small_integers(y_size(s), 503);
  const Refs ref = reference(s, x, w, b, dy);
  const auto xf = cast_vector<float>(x), dyf = cast_vector<float>(dy);

  std::vector<float> dw(w_size(s), 3.0f), db(s.c_out, -5.0f);  // what was already there
  conv2d_direct_backward_params_cpu<float>(s, xf.data(), dyf.data(), dw.data(), db.data());
  conv2d_direct_backward_params_cpu<float>(s, xf.data(), dyf.data(), dw.data(), db.data());
  for (std::size_t i = 0; i < dw.size(); ++i) EXPECT_EQ(dw[i], 3.0 + 2 * ref.dw.value[i]) << "dw " << i;
  for (int i = 0; i < s.c_out; ++i) EXPECT_EQ(db[i], -5.0 + 2 * ref.db.value[i]) << "db " << i;

  std::vector<float> dw_only(w_size(s), 0.0f), db_only(s.c_out, 0.0f);
  conv2d_direct_backward_params_cpu<float>(s, xf.data(), dyf.data(), dw_only.data(), nullptr);
  conv2d_direct_backward_params_cpu<float>(s, xf.data(), dyf.data(), nullptr, db_only.data());
  EXPECT_EQ(cast_vector<double>(dw_only), ref.dw.value);
  EXPECT_EQ(cast_vector<double>(db_only), ref.db.value);
  // Through the twin: db alone (dw == nullptr) takes the general path, the same exact sums.
  std::vector<float> db_twin(s.c_out, 0.0f);
  conv2d_backward_cpu<float>(s, xf.data(), cast_vector<float>(w).data(), dyf.data(), nullptr, nullptr, db_twin.data());
  EXPECT_EQ(cast_vector<double>(db_twin), ref.db.value);
}

}  // namespace
}  // namespace ser::nn
