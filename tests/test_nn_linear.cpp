// Fully connected layer, CPU twin (kernels/linear/cpu.cpp, OpenBLAS): forward and backward against
// naive double loops, backward against central finite differences in double for x, w and b, the
// accumulate (dw, db) / overwrite (dx, y) contract, the nullptr options, M = 0, and the shape checks.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/linear.hpp"

namespace ser::nn {
namespace {

using test::cast_vector;
using test::dot;
using test::expect_gradient_matches;
using test::random_nonzero;

const ExecContext kCpu{};
const float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Naive {
  std::vector<double> y, dx, dw, db;
};
Naive naive(const LinearShape& s, const std::vector<double>& x, const std::vector<double>& w,
            const std::vector<double>* b, const std::vector<double>& dy) {
  const std::size_t m = static_cast<std::size_t>(s.m);
  Naive r{std::vector<double>(m * s.out), std::vector<double>(m * s.in, 0.0),
          std::vector<double>(std::size_t(s.out) * s.in, 0.0), std::vector<double>(s.out, 0.0)};
  for (std::size_t i = 0; i < m; ++i)
    for (int o = 0; o < s.out; ++o) {
      double acc = b ? (*b)[o] : 0.0;
      for (int k = 0; k < s.in; ++k) acc += x[i * s.in + k] * w[std::size_t(o) * s.in + k];
      r.y[i * s.out + o] = acc;
      const double g = dy[i * s.out + o];
      r.db[o] += g;
      for (int k = 0; k < s.in; ++k) {
        r.dx[i * s.in + k] += g * w[std::size_t(o) * s.in + k];
        r.dw[std::size_t(o) * s.in + k] += g * x[i * s.in + k];
      }
    }
  return r;
}

const LinearShape kShapes[] = {{7, 13, 5}, {1, 1, 1}, {33, 64, 7}, {130, 17, 129}};

TEST(LinearCpu, ForwardAndBackwardMatchNaiveLoops) {
  std::uint64_t seed = 1;
  for (const LinearShape& s : kShapes)
    for (bool bias : {true, false}) {
      const std::size_t m = static_cast<std::size_t>(s.m);
      const auto x = random_nonzero<double>(m * s.in, seed++), w = random_nonzero<double>(std::size_t(s.out) * s.in, seed++);
      const auto b = random_nonzero<double>(s.out, seed++), dy = random_nonzero<double>(m * s.out, seed++);
      const Naive ref = naive(s, x, w, bias ? &b : nullptr, dy);
      const std::string what = "M " + std::to_string(s.m) + " in " + std::to_string(s.in) + " out " +
                               std::to_string(s.out) + (bias ? " bias" : "");

      std::vector<double> y(m * s.out, 123.0);
      linear_forward_cpu<double>(s, x.data(), w.data(), bias ? b.data() : nullptr, y.data());
      for (std::size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], ref.y[i], 1e-12) << what << " y " << i;
      std::vector<double> dx(m * s.in, 123.0), dw(std::size_t(s.out) * s.in, 0.0), db(s.out, 0.0);
      linear_backward_cpu<double>(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
      for (std::size_t i = 0; i < dx.size(); ++i) ASSERT_NEAR(dx[i], ref.dx[i], 1e-12) << what << " dx " << i;
      for (std::size_t i = 0; i < dw.size(); ++i) ASSERT_NEAR(dw[i], ref.dw[i], 1e-12) << what << " dw " << i;
      for (int i = 0; i < s.out; ++i) ASSERT_NEAR(db[i], ref.db[i], 1e-12) << what << " db " << i;

      // float through the dispatch; outputs start as NaN (y and dx must be overwritten).
      const auto xf = cast_vector<float>(x), wf = cast_vector<float>(w), bf = cast_vector<float>(b),
                 dyf = cast_vector<float>(dy);
      std::vector<float> yf(m * s.out, kNaN), dxf(m * s.in, kNaN), dwf(dw.size(), 0.0f), dbf(s.out, 0.0f);
      linear_forward(kCpu, s, xf.data(), wf.data(), bias ? bf.data() : nullptr, yf.data());
      linear_backward(kCpu, s, xf.data(), wf.data(), dyf.data(), dxf.data(), dwf.data(), dbf.data());
      EXPECT_LT(test::nmse(yf, cast_vector<float>(ref.y)), 1e-12) << what;
      EXPECT_LT(test::nmse(dxf, cast_vector<float>(ref.dx)), 1e-12) << what;
      EXPECT_LT(test::nmse(dwf, cast_vector<float>(ref.dw)), 1e-12) << what;
      EXPECT_LT(test::nmse(dbf, cast_vector<float>(ref.db)), 1e-12) << what;
    }
}

TEST(LinearCpu, BackwardMatchesFiniteDifferences) {
  const LinearShape s{5, 7, 3};
  std::vector<double> x = random_nonzero<double>(35, 40), w = random_nonzero<double>(21, 41), b = random_nonzero<double>(3, 42);
  const std::vector<double> r = random_nonzero<double>(15, 43);
  const auto f = [&] {
    std::vector<double> y(15);
    linear_forward_cpu<double>(s, x.data(), w.data(), b.data(), y.data());
    return dot(r, y);
  };
  std::vector<double> dx(35), dw(21, 0.0), db(3, 0.0);
  linear_backward_cpu<double>(s, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data());
  expect_gradient_matches("linear dx", x, dx, f);
  expect_gradient_matches("linear dw", w, dw, f);
  expect_gradient_matches("linear db", b, db, f);
}

TEST(LinearCpu, ParameterGradientsAccumulateInputGradientOverwrites) {
  const LinearShape s{9, 6, 4};
  const auto x = random_nonzero<float>(54, 50), w = random_nonzero<float>(24, 51), dy = random_nonzero<float>(36, 52);
  std::vector<float> dx0(54), dw0(24, 0.0f), db0(4, 0.0f);
  linear_backward(kCpu, s, x.data(), w.data(), dy.data(), dx0.data(), dw0.data(), db0.data());
  const auto pre_w = random_nonzero<float>(24, 53), pre_b = random_nonzero<float>(4, 54);
  std::vector<float> dx(54, kNaN), dw = pre_w, db = pre_b;
  linear_backward(kCpu, s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
  EXPECT_EQ(dx, dx0);
  for (std::size_t i = 0; i < dw.size(); ++i) EXPECT_NEAR(dw[i], pre_w[i] + dw0[i], 1e-6f) << i;
  for (std::size_t i = 0; i < db.size(); ++i) EXPECT_NEAR(db[i], pre_b[i] + db0[i], 1e-6f) << i;
  // Twice from zero: exactly double.
  std::vector<float> dw2(24, 0.0f), db2(4, 0.0f);
  linear_backward(kCpu, s, x.data(), w.data(), dy.data(), nullptr, dw2.data(), db2.data());
  linear_backward(kCpu, s, x.data(), w.data(), dy.data(), nullptr, dw2.data(), db2.data());
  for (std::size_t i = 0; i < dw2.size(); ++i) EXPECT_FLOAT_EQ(dw2[i], 2 * dw0[i]) << i;
  for (std::size_t i = 0; i < db2.size(); ++i) EXPECT_FLOAT_EQ(db2[i], 2 * db0[i]) << i;
  // dx and db nullptr: skipped; dw still accumulates.
  std::vector<float> dw3(24, 0.0f);
  linear_backward(kCpu, s, x.data(), w.data(), dy.data(), nullptr, dw3.data(), nullptr);
  EXPECT_EQ(dw3, dw0);
}

TEST(LinearCpu, ZeroRowsWritesNothing) {
  const LinearShape s{0, 3, 2};
  const std::vector<float> w = random_nonzero<float>(6, 60), b = {1, 2};
  std::vector<float> dw(6, 7.0f), db(2, 8.0f);
  linear_forward(kCpu, s, nullptr, w.data(), b.data(), nullptr);
  linear_backward(kCpu, s, nullptr, w.data(), nullptr, nullptr, dw.data(), db.data());
  EXPECT_EQ(dw, std::vector<float>(6, 7.0f));
  EXPECT_EQ(db, std::vector<float>(2, 8.0f));
}

TEST(LinearCpu, RejectsBadShapes) {
  std::vector<float> buf(64);
  for (const LinearShape& s : {LinearShape{-1, 3, 2}, LinearShape{2, 0, 2}, LinearShape{2, 3, 0},
                               LinearShape{std::int64_t(1) << 31, 3, 2}}) {
    EXPECT_THROW(linear_forward(kCpu, s, buf.data(), buf.data(), nullptr, buf.data()), Error);
    EXPECT_THROW(linear_backward(kCpu, s, buf.data(), buf.data(), buf.data(), buf.data(), buf.data(), buf.data()), Error);
  }
}

}  // namespace
}  // namespace ser::nn
