// The CUDA batch-norm kernels (kernels/batchnorm/cuda.cu) against the CPU twin, through the dispatch on
// a GpuHandles context: training forward (y, mean, invstd, running statistics), inference forward
// and backward (dx overwritten, dgamma/dbeta accumulated onto random values; also without dx). The
// shapes cover both reduction plans (one block per channel; a channel split over several blocks
// with its partial sums parked in y / dx), y and dx at an address that is not 8-byte aligned,
// lengths of 0 and 1, all lengths 0, and no lengths. Outputs start poisoned with NaN; padded values
// of x hold large garbage. Each plan is run twice and must repeat bit for bit. Skips without a
// usable GPU.
#ifdef SER_WITH_CUDA

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/nn/batchnorm.hpp"
#include "ser/nn/exec.hpp"
#include "test_util.hpp"

namespace ser::nn {
namespace {

using test::DeviceArray;
using test::nmse;
using test::random_nonzero;

BatchNormShape make(int n, int c, int h, int w) {
  BatchNormShape s;
  s.n = n; s.c = c; s.h = h; s.w = w;
  return s;
}

// `count` floats starting `offset` floats into a NaN-poisoned allocation.
class OffsetOut {
 public:
  OffsetOut(std::size_t count, int offset) : dev_(count + offset), offset_(offset), count_(count) {}
  float* get() const { return dev_.get() + offset_; }
  void poison() const { SER_CUDA_CHECK(cudaMemset(dev_.get(), 0xFF, (count_ + offset_) * sizeof(float))); }
  std::vector<float> download() const {
    const std::vector<float> all = dev_.download();
    return std::vector<float>(all.begin() + offset_, all.begin() + offset_ + static_cast<std::ptrdiff_t>(count_));
  }

 private:
  DeviceArray<float> dev_;
  int offset_;
  std::size_t count_;
};

void upload_to(const DeviceArray<float>& d, const std::vector<float>& h) {
  SER_CUDA_CHECK(cudaMemcpy(d.get(), h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice));
}

void expect_bit_equal(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << what << " differs between runs";
}

void expect_close(const std::vector<float>& gpu, const std::vector<float>& cpu, double nmse_tol, double abs_tol,
                  const std::string& what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i)
    if (!(std::abs(double(gpu[i]) - cpu[i]) <= abs_tol) && ++bad <= 5)
      ADD_FAILURE() << what << "[" << i << "]: gpu " << gpu[i] << ", cpu " << cpu[i];
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << cpu.size() << " elements differ";
  EXPECT_LE(nmse(gpu, cpu), nmse_tol) << what;
}

void expect_rel(const std::vector<float>& gpu, const std::vector<float>& cpu, double rel, const std::string& what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  for (std::size_t i = 0; i < cpu.size(); ++i)
    EXPECT_NEAR(gpu[i], cpu[i], rel * std::max(1.0, std::abs(double(cpu[i])))) << what << "[" << i << "]";
}

int valid_len(const BatchNormShape& s, const std::vector<int>& len, int n) {
  return len.empty() ? s.h : std::min(std::max(len[n], 0), s.h);
}

struct Case {
  BatchNormShape s;
  std::vector<int> lengths;  // empty: nullptr
  const char* plan;
};

std::vector<Case> cases() {
  return {
      {make(3, 5, 17, 9), {17, 4, 0}, "one block per channel (small channels)"},
      {make(2, 600, 9, 5), {9, 2}, "one block per channel (C >= 512)"},
      {make(5, 3, 301, 41), {301, 120, 0, 1, 77}, "split (S = 16)"},
      {make(4, 1, 1001, 64), {}, "split (C = 1, no lengths)"},
      {make(7, 37, 123, 13), {123, 1, 60, 0, 122, 5, 99}, "split (S = 3)"},
      {make(2, 2, 3000, 4), {0, 0}, "split, every length 0"},
  };
}

TEST(BatchNormCuda, MatchesCpuTwinOnBothReductionPlans) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  std::uint64_t seed = 1;
  for (const Case& cs : cases())
    for (int offset : {0, 1}) {
      const BatchNormShape& s = cs.s;
      const std::string what = std::string(cs.plan) + (offset ? ", outputs offset by one float" : "");
      const std::size_t count = std::size_t(s.n) * s.c * s.h * s.w;
      const int* len = cs.lengths.empty() ? nullptr : cs.lengths.data();
      // |mean| well above std: the shifted sums must not lose the variance.
      std::vector<float> x = random_nonzero<float>(count, seed++, -1.0, 3.0);
      for (int n = 0; n < s.n; ++n)
        for (int c = 0; c < s.c; ++c)
          for (std::size_t i = std::size_t(valid_len(s, cs.lengths, n)) * s.w; i < std::size_t(s.h) * s.w; ++i)
            x[(std::size_t(n) * s.c + c) * s.h * s.w + i] = 1000.0f + float(i % 7);
      const auto dy = random_nonzero<float>(count, seed++);
      const auto g = random_nonzero<float>(s.c, seed++, 0.5, 1.5), b = random_nonzero<float>(s.c, seed++);
      const auto rm0 = random_nonzero<float>(s.c, seed++), rv0 = random_nonzero<float>(s.c, seed++, 0.5, 2.0);
      const auto dg0 = random_nonzero<float>(s.c, seed++), db0 = random_nonzero<float>(s.c, seed++);

      // CPU twin.
      std::vector<float> y_c(count), m_c(s.c), is_c(s.c), rm_c = rm0, rv_c = rv0, yi_c(count), dx_c(count);
      std::vector<float> dg_c = dg0, db_c = db0;
      batchnorm_forward_train_cpu<float>(s, x.data(), len, g.data(), b.data(), y_c.data(), m_c.data(), is_c.data(),
                                         rm_c.data(), rv_c.data());
      batchnorm_forward_infer_cpu<float>(s, x.data(), len, g.data(), b.data(), rm0.data(), rv0.data(), yi_c.data());
      batchnorm_backward_cpu<float>(s, x.data(), dy.data(), len, g.data(), m_c.data(), is_c.data(), dx_c.data(),
                                    dg_c.data(), db_c.data());

      DeviceArray<float> d_x(x), d_dy(dy), d_g(g), d_b(b), d_rm(rm0), d_rv(rv0), d_dg(dg0), d_db(db0);
      DeviceArray<float> d_m(std::size_t(s.c)), d_is(std::size_t(s.c)), d_mc(m_c), d_isc(is_c);
      DeviceArray<int> d_len(cs.lengths.empty() ? std::vector<int>{0} : cs.lengths);
      const int* dlen = len ? d_len.get() : nullptr;
      OffsetOut d_y(count, offset), d_yi(count, offset), d_dx(count, offset);

      std::vector<float> first_y, first_m, first_is, first_dx, first_dg;
      for (int run = 0; run < 2; ++run) {
        upload_to(d_rm, rm0);
        upload_to(d_rv, rv0);
        upload_to(d_dg, dg0);
        upload_to(d_db, db0);
        d_y.poison();
        d_dx.poison();
        SER_CUDA_CHECK(cudaMemset(d_m.get(), 0xFF, s.c * sizeof(float)));
        SER_CUDA_CHECK(cudaMemset(d_is.get(), 0xFF, s.c * sizeof(float)));
        batchnorm_forward_train(gpu, s, d_x.get(), dlen, d_g.get(), d_b.get(), d_y.get(), d_m.get(), d_is.get(),
                                d_rm.get(), d_rv.get());
        // Backward takes the twin's saved statistics, so it is compared on its own.
        batchnorm_backward(gpu, s, d_x.get(), d_dy.get(), dlen, d_g.get(), d_mc.get(), d_isc.get(), d_dx.get(),
                           d_dg.get(), d_db.get());
        h.synchronize();
        const auto y = d_y.download(), m = d_m.download(), is = d_is.download(), dx = d_dx.download();
        const auto dg = d_dg.download(), db = d_db.download();
        if (run == 1) {
          expect_bit_equal(y, first_y, what + " y");
          expect_bit_equal(m, first_m, what + " mean");
          expect_bit_equal(is, first_is, what + " invstd");
          expect_bit_equal(dx, first_dx, what + " dx");
          expect_bit_equal(dg, first_dg, what + " dgamma");
          continue;
        }
        first_y = y;
        first_m = m;
        first_is = is;
        first_dx = dx;
        first_dg = dg;
        expect_close(y, y_c, 1e-10, 1e-4, what + " y");
        expect_rel(m, m_c, 3e-7, what + " mean");
        expect_rel(is, is_c, 1e-6, what + " invstd");
        expect_rel(d_rm.download(), rm_c, 1e-6, what + " running_mean");
        expect_rel(d_rv.download(), rv_c, 1e-6, what + " running_var");
        expect_close(dx, dx_c, 1e-10, 1e-4, what + " dx");
        expect_rel(dg, dg_c, 1e-5, what + " dgamma");
        expect_rel(db, db_c, 1e-5, what + " dbeta");
        // Masking: padded outputs and gradients exactly 0.
        for (int n = 0; n < s.n; ++n)
          for (int c = 0; c < s.c; ++c)
            for (std::size_t i = std::size_t(valid_len(s, cs.lengths, n)) * s.w; i < std::size_t(s.h) * s.w; ++i) {
              const std::size_t k = (std::size_t(n) * s.c + c) * s.h * s.w + i;
              ASSERT_EQ(y[k], 0.0f) << what << " y " << k;
              ASSERT_EQ(dx[k], 0.0f) << what << " dx " << k;
            }
      }

      // dx = nullptr (one block per channel whatever the shape): the same parameter gradients.
      upload_to(d_dg, dg0);
      upload_to(d_db, db0);
      batchnorm_backward(gpu, s, d_x.get(), d_dy.get(), dlen, d_g.get(), d_mc.get(), d_isc.get(), nullptr, d_dg.get(),
                         d_db.get());
      h.synchronize();
      expect_rel(d_dg.download(), dg_c, 1e-5, what + " dgamma without dx");
      expect_rel(d_db.download(), db_c, 1e-5, what + " dbeta without dx");

      // Inference with the initial running statistics.
      DeviceArray<float> d_rm_in(rm0), d_rv_in(rv0);
      d_yi.poison();
      batchnorm_forward_infer(gpu, s, d_x.get(), dlen, d_g.get(), d_b.get(), d_rm_in.get(), d_rv_in.get(), d_yi.get());
      h.synchronize();
      expect_close(d_yi.download(), yi_c, 1e-12, 1e-5, what + " inference y");
    }
}

}  // namespace
}  // namespace ser::nn

#endif  // SER_WITH_CUDA
