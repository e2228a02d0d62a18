// The GPU fully connected layer (kernels/linear/cuda.cu: cuBLAS SGEMM, bias broadcast, column-sum db)
// against the CPU twin, through the dispatch on a GpuHandles context: y and dx overwritten (start as
// NaN), dw and db accumulated onto random values, the nullptr options, M = 0, run-to-run determinism,
// and the handle checks. Skips without a usable GPU.
#ifdef SER_WITH_CUDA

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/exec.hpp"
#include "ser/nn/linear.hpp"
#include "test_util.hpp"

namespace ser::nn {
namespace {

using test::DeviceArray;
using test::nmse;
using test::random_nonzero;

void expect_close(const std::vector<float>& gpu, const std::vector<float>& cpu, const std::string& what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  double max_ref = 0;
  for (float v : cpu) max_ref = std::max(max_ref, double(std::abs(v)));
  std::size_t bad = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i)
    if (!(std::abs(double(gpu[i]) - cpu[i]) <= 1e-5 * (1 + max_ref)) && ++bad <= 5)
      ADD_FAILURE() << what << "[" << i << "]: gpu " << gpu[i] << ", cpu " << cpu[i];
  EXPECT_EQ(bad, 0u) << what;
  EXPECT_LE(nmse(gpu, cpu), 1e-10) << what;
}

const LinearShape kShapes[] = {{1, 1, 1}, {37, 53, 19}, {4099, 129, 65}, {64, 256, 4}, {300, 7, 1000}};

TEST(LinearCuda, MatchesCpuTwinAndAccumulates) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  std::uint64_t seed = 1;
  for (const LinearShape& s : kShapes)
    for (bool bias : {true, false}) {
      const std::string what = "M " + std::to_string(s.m) + " in " + std::to_string(s.in) + " out " +
                               std::to_string(s.out) + (bias ? " bias" : "");
      const std::size_t m = static_cast<std::size_t>(s.m), nw = std::size_t(s.out) * s.in;
      const auto x = random_nonzero<float>(m * s.in, seed++), w = random_nonzero<float>(nw, seed++);
      const auto b = random_nonzero<float>(s.out, seed++), dy = random_nonzero<float>(m * s.out, seed++);
      const auto dw0 = random_nonzero<float>(nw, seed++), db0 = random_nonzero<float>(s.out, seed++);

      std::vector<float> y_c(m * s.out), dx_c(m * s.in), dw_c = dw0, db_c = db0;
      linear_forward_cpu<float>(s, x.data(), w.data(), bias ? b.data() : nullptr, y_c.data());
      linear_backward_cpu<float>(s, x.data(), w.data(), dy.data(), dx_c.data(), dw_c.data(), db_c.data());

      DeviceArray<float> d_x(x), d_w(w), d_b(b), d_dy(dy);
      std::vector<float> first_y, first_dx, first_dw, first_db;
      for (int run = 0; run < 2; ++run) {
        DeviceArray<float> d_y(m * s.out), d_dx(m * s.in), d_dw(dw0), d_db(db0);  // y, dx: NaN
        linear_forward(gpu, s, d_x.get(), d_w.get(), bias ? d_b.get() : nullptr, d_y.get());
        linear_backward(gpu, s, d_x.get(), d_w.get(), d_dy.get(), d_dx.get(), d_dw.get(), d_db.get());
        h.synchronize();
        const auto y = d_y.download(), dx = d_dx.download(), dw = d_dw.download(), db = d_db.download();
        if (run == 0) {
          expect_close(y, y_c, what + " y");
          expect_close(dx, dx_c, what + " dx");
          expect_close(dw, dw_c, what + " dw (accumulated)");
          expect_close(db, db_c, what + " db (accumulated)");
          first_y = y;
          first_dx = dx;
          first_dw = dw;
          first_db = db;
        } else {
          EXPECT_EQ(std::memcmp(y.data(), first_y.data(), y.size() * 4), 0) << what << " y not deterministic";
          EXPECT_EQ(std::memcmp(dx.data(), first_dx.data(), dx.size() * 4), 0) << what << " dx not deterministic";
          EXPECT_EQ(std::memcmp(dw.data(), first_dw.data(), dw.size() * 4), 0) << what << " dw not deterministic";
          EXPECT_EQ(std::memcmp(db.data(), first_db.data(), db.size() * 4), 0) << what << " db not deterministic";
        }
      }
    }
}

TEST(LinearCuda, NullOutputsAreSkippedAndZeroRowsWriteNothing) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  const LinearShape s{23, 11, 5};
  const auto x = random_nonzero<float>(23 * 11, 1), w = random_nonzero<float>(55, 2), dy = random_nonzero<float>(23 * 5, 3);
  std::vector<float> dx_c(23 * 11), dw_c(55, 0.0f);
  linear_backward_cpu<float>(s, x.data(), w.data(), dy.data(), dx_c.data(), dw_c.data(), nullptr);
  DeviceArray<float> d_x(x), d_w(w), d_dy(dy), d_dw(std::vector<float>(55, 0.0f));
  linear_backward(gpu, s, d_x.get(), d_w.get(), d_dy.get(), nullptr, d_dw.get(), nullptr);
  h.synchronize();
  expect_close(d_dw.download(), dw_c, "dw with dx and db skipped");

  const LinearShape empty{0, 11, 5};
  const std::vector<float> keep(55, 3.0f);
  DeviceArray<float> d_keep(keep), d_db(std::vector<float>(5, 4.0f));
  linear_forward(gpu, empty, nullptr, d_w.get(), nullptr, nullptr);
  linear_backward(gpu, empty, nullptr, d_w.get(), nullptr, nullptr, d_keep.get(), d_db.get());
  h.synchronize();
  EXPECT_EQ(d_keep.download(), keep);
  EXPECT_EQ(d_db.download(), std::vector<float>(5, 4.0f));
}

TEST(LinearCuda, RejectsAContextWithoutAMatchingCublasHandle) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  ExecContext gpu = h.context(KernelPath::handwritten);
  const LinearShape s{2, 3, 4};
  DeviceArray<float> d_x(6), d_w(12), d_y(8);
  ExecContext no_blas = gpu;
  no_blas.cublas = nullptr;
  EXPECT_THROW(linear_forward(no_blas, s, d_x.get(), d_w.get(), nullptr, d_y.get()), Error);
  ExecContext other_stream = gpu;
  other_stream.stream = nullptr;  // the handle is bound to h's own stream
  EXPECT_THROW(linear_forward(other_stream, s, d_x.get(), d_w.get(), nullptr, d_y.get()), Error);
}

}  // namespace
}  // namespace ser::nn

#endif  // SER_WITH_CUDA
