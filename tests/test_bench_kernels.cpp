// The benchmark machinery, off the GPU: FLOP and byte accounting against hand counts, the shapes
// `ser bench kernels` derives from cnn_attn, the kernel drivers on the CPU (finite positive times,
// the right rows), the op clock, and the per-op timing table's call counts (a known sequence of ops,
// and a whole model step, where every op dispatch must be bracketed exactly once).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench/kernel_bench.hpp"
#include "bench/model_shapes.hpp"
#include "bench/op_clock.hpp"
#include "bench/op_cost.hpp"
#include "nn/kernel_timer.hpp"
#include "nn/model.hpp"
#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/conv.hpp"
#include "ser/nn/elementwise.hpp"
#include "ser/nn/pool.hpp"

namespace ser::bench {
namespace {

const nn::ExecContext kCpu{};

std::map<std::string, std::int64_t> calls_by_op(const nn::KernelTimer& t) {
  std::map<std::string, std::int64_t> m;
  for (const auto& r : t.rows()) m[r.name] = r.calls;
  return m;
}

// ---- accounting ------------------------------------------------------------------------------------

TEST(BenchKernelsCost, FlopCountsMatchHandCounts) {
  nn::Conv2dShape c;
  c.n = 2; c.c_in = 3; c.h = 5; c.w = 4; c.c_out = 6;  // 3x3, stride 1, padding 1: 5x4 out
  // 2 * C_out * (N Ho Wo) * (C_in kh kw) = 2 * 6 * 40 * 27
  EXPECT_DOUBLE_EQ(conv2d_flops(c), 12960.0);
  EXPECT_DOUBLE_EQ(conv2d_flops(c), c.flops_forward());  // the engine's own count agrees
  c.sh = 2; c.sw = 2;  // stride 2: 3x2 out
  EXPECT_DOUBLE_EQ(conv2d_flops(c), 2.0 * 6 * (2 * 3 * 2) * 27);

  const nn::SdpaShape s{2, 5, 3, 4, 0.5f};
  EXPECT_DOUBLE_EQ(sdpa_forward_flops(s), 4.0 * 2 * 3 * 25 * 4);   // 2400
  EXPECT_DOUBLE_EQ(sdpa_backward_flops(s), 10.0 * 2 * 3 * 25 * 4);  // 6000
}

TEST(BenchKernelsCost, ByteCountsMatchHandCounts) {
  nn::Pool2dShape p;
  p.n = 2; p.c = 3; p.h = 6; p.w = 4;  // 2x2 window: (2, 3, 3, 2) out = 36, in = 144
  EXPECT_DOUBLE_EQ(maxpool2d_forward_bytes(p), 4.0 * (144 + 36 + 36));   // x; y and argmax
  EXPECT_DOUBLE_EQ(maxpool2d_backward_bytes(p), 4.0 * (36 + 36 + 144));  // dy, argmax; dx
  EXPECT_DOUBLE_EQ(relu_forward_bytes(10), 80.0);
  EXPECT_DOUBLE_EQ(relu_backward_bytes(10), 120.0);
  EXPECT_DOUBLE_EQ(dropout_bytes(10), 80.0);
  EXPECT_DOUBLE_EQ(add_bytes(10), 120.0);
  const nn::BatchNormShape bn{2, 3, 6, 4, 1e-5f, 0.1f};  // 144 elements
  EXPECT_DOUBLE_EQ(batchnorm_forward_bytes(bn), 1152.0);
  EXPECT_DOUBLE_EQ(batchnorm_backward_bytes(bn), 1728.0);
  EXPECT_DOUBLE_EQ(adam_bytes(10, false), 280.0);  // p, g, m, v read; p, m, v written
  EXPECT_DOUBLE_EQ(adam_bytes(10, true), 290.0);   // + one mask byte each
}

// ---- shapes ----------------------------------------------------------------------------------------

TEST(BenchKernelsShapes, CnnAttnAtEmoDbLikeInput) {
  const ModelConfig cfg;  // the built-in defaults are experiments/cnn_attn.toml's model
  const ModelShapes m = model_shapes(cfg, 16, 300, 64, 58, 7);
  ASSERT_EQ(m.convs.size(), 4u);
  const int c_in[4] = {1, 16, 32, 64}, c_out[4] = {16, 32, 64, 64}, h[4] = {300, 150, 75, 37}, w[4] = {64, 32, 16, 8};
  for (int i = 0; i < 4; ++i) {
    const nn::Conv2dShape& s = m.convs[static_cast<std::size_t>(i)].shape;
    EXPECT_EQ(s.n, 16);
    EXPECT_EQ(s.c_in, c_in[i]);
    EXPECT_EQ(s.c_out, c_out[i]);
    EXPECT_EQ(s.h, h[i]);
    EXPECT_EQ(s.w, w[i]);
    EXPECT_EQ(s.h_out(), h[i]);  // "same" padding
    EXPECT_EQ(m.convs[static_cast<std::size_t>(i)].needs_dx, i > 0) << "conv " << i;
  }
  ASSERT_EQ(m.norms.size(), 4u);
  EXPECT_EQ(m.norms[1].shape.c, 32);
  EXPECT_EQ(m.norms[1].shape.h, 150);
  ASSERT_EQ(m.pools.size(), 4u);
  EXPECT_EQ(m.pools[3].shape.h, 37);
  EXPECT_EQ(m.pools[3].shape.h_out(), 18);
  ASSERT_EQ(m.attentions.size(), 1u);  // after block 4: T = 18 tokens of D = 64 * 4
  const nn::SdpaShape& a = m.attentions[0].shape;
  EXPECT_EQ(a.n, 16);
  EXPECT_EQ(a.t, 18);
  EXPECT_EQ(a.heads, 4);
  EXPECT_EQ(a.head_dim, 32);
  EXPECT_FLOAT_EQ(a.scale, 1.0f / std::sqrt(32.0f));
  EXPECT_EQ(m.attentions[0].tokens, 16 * 18 * 256);
  // ReLU and dropout: four maps (after batch norm, after pooling) and the dense layer's (16, 128).
  int relus = 0, dropouts = 0;
  for (const auto& e : m.elementwise) {
    relus += e.op == "relu";
    dropouts += e.op == "dropout";
  }
  EXPECT_EQ(relus, 5);
  EXPECT_EQ(dropouts, 5);
  EXPECT_EQ(m.elementwise.front().count, 16LL * 16 * 300 * 64);
  EXPECT_FLOAT_EQ(m.elementwise.back().p, 0.3f);
  EXPECT_EQ(m.elementwise.back().count, 16 * 128);
  const nn::Model<float> model(cfg, nn::ModelInputs{64, 58, 7});
  EXPECT_EQ(m.parameters, model.param_table().total());
  EXPECT_EQ(m.layers.size(), model.layer_count());
  EXPECT_EQ(m.layers.front().in, "(16, 1, 300, 64)");
  EXPECT_EQ(m.layers.back().out, "(16, 7)");
  EXPECT_THROW(model_shapes(cfg, 16, 8, 64, 58, 7), Error);  // too short for four poolings
}

// ---- the clock -------------------------------------------------------------------------------------

TEST(BenchKernelsClock, CpuMedianMeasuresTheCall) {
  OpClock clock(kCpu, 1, 5, 1e-3);
  const auto spin = [] {  // ~200 µs of busy waiting
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::microseconds(200)) {}
  };
  const OpTiming t = clock.time(spin);
  EXPECT_GE(t.seconds, 200e-6);
  EXPECT_LT(t.seconds, 50e-3);
  // A 1 ms sample holds several 200 µs calls on an idle machine; under load one preempted warm-up
  // call can last over 1 ms and give one call per sample, so only the lower bound is asserted.
  EXPECT_GE(t.inner, 1);
  EXPECT_EQ(t.samples, 5);
  EXPECT_FALSE(t.host_bound);
  std::vector<float> a(100, 1.5f), b(100, 0.0f);
  clock.copy(b.data(), a.data(), 100 * sizeof(float));
  EXPECT_EQ(b, a);
  EXPECT_THROW(OpClock(kCpu, 0, 0), Error);
}

// ---- the drivers on the CPU ------------------------------------------------------------------------

TEST(BenchKernelsDrivers, CpuRunGivesFinitePositiveTimesAndTheRightRows) {
  KernelBenchOptions o;
  o.device = "cpu";
  o.batch = 2;
  o.frames = 24;
  o.n_mels = 16;
  o.n_prosody = 5;
  o.warmup = 1;
  o.repeat = 3;
  o.min_sample_seconds = 1e-5;
  std::ostringstream log;
  const KernelBenchReport r = run_kernel_bench(o, log);
  EXPECT_FALSE(r.gpu);
  std::map<std::string, int> per_section;
  for (const auto& row : r.rows) {
    ++per_section[row.section];
    EXPECT_TRUE(std::isfinite(row.seconds) && row.seconds > 0) << row.op << " " << row.layer;
    if (row.section == "memory") {
      EXPECT_GT(row.bytes, 0) << row.op;
      EXPECT_TRUE(std::isfinite(row.baseline_seconds) && row.baseline_seconds > 0) << row.op << ": memcpy baseline";
      EXPECT_EQ(row.baseline, "std::memcpy");
    } else {
      EXPECT_GT(row.flops, 0) << row.op;
      EXPECT_EQ(row.baseline_seconds, 0) << row.op << ": no vendor path on the CPU";
    }
    if (row.section == "conv2d") {
      EXPECT_EQ(row.baseline, "n/a (CPU)");
    }
  }
  // 4 conv layers x (forward, backward-data, backward-weight, training step); SDPA forward, backward,
  // both; batch norm 4 x 2, ReLU 5 x 2, dropout 5 x 2, pooling 4 x 2, residual add, Adam.
  EXPECT_EQ(per_section["conv2d"], 16);
  EXPECT_EQ(per_section["sdpa"], 3);
  EXPECT_EQ(per_section["memory"], 8 + 10 + 10 + 8 + 1 + 1);
  // The first layer's backward-data is timed but not part of its training step.
  ASSERT_GE(r.rows.size(), 4u);
  EXPECT_EQ(r.rows[1].op, "backward-data");
  EXPECT_FALSE(r.rows[1].in_training);
  EXPECT_EQ(r.rows[3].op, "training step (forward + backward)");
  EXPECT_DOUBLE_EQ(r.rows[3].seconds, r.rows[0].seconds + r.rows[2].seconds);
  EXPECT_DOUBLE_EQ(r.rows[3].flops, 2 * r.rows[0].flops);
  EXPECT_TRUE(r.rows[5].in_training);  // the second layer's backward-data

  const std::string md = kernel_bench_markdown(r);
  for (const char* s : {"## Shapes", "## Convolution", "## Attention core", "## Memory-bound ops", "n/a (CPU)",
                        "L0 conv2d 1->16", "(2, 1, 24, 16)", "TF32 off", "adamw update", "not run in training"})
    EXPECT_NE(md.find(s), std::string::npos) << "missing: " << s;
  const nlohmann::json j = kernel_bench_json(r);
  EXPECT_EQ(j["rows"].size(), r.rows.size());
  EXPECT_EQ(j["batch"], 2);
  EXPECT_FALSE(j["gpu"].get<bool>());
}

// ---- the per-op timing table -----------------------------------------------------------------------

TEST(BenchKernelsTimer, CountsEachOpCallOnce) {
  const auto x = test::random_nonzero<float>(64, 1);
  std::vector<float> y(64), z(64);
  nn::KernelTimer t(kCpu);
  nn::relu_forward(kCpu, 64, x.data(), y.data());  // before recording: not counted
  t.start_recording();
  EXPECT_TRUE(t.recording());
  EXPECT_EQ(nn::KernelTimer::active(), &t);
  t.begin_step();
  for (int i = 0; i < 3; ++i) nn::relu_forward(kCpu, 64, x.data(), y.data());
  for (int i = 0; i < 2; ++i) nn::add(kCpu, 64, x.data(), y.data(), z.data());
  nn::Pool2dShape p;
  p.n = 1; p.c = 1; p.h = 8; p.w = 8;
  std::vector<std::int32_t> am(16);
  nn::maxpool2d_forward(kCpu, p, x.data(), nullptr, z.data(), am.data());
  {  // an op inside another op is counted in the outer one only
    const nn::OpTimer outer(kCpu, "outer");
    nn::relu_forward(kCpu, 64, x.data(), y.data());
  }
  t.end_step();
  t.stop_recording();
  nn::relu_forward(kCpu, 64, x.data(), y.data());  // after recording: not counted
  EXPECT_EQ(nn::KernelTimer::active(), nullptr);
  t.resolve();
  const auto calls = calls_by_op(t);
  EXPECT_EQ(calls, (std::map<std::string, std::int64_t>{{"relu_forward", 3}, {"add", 2}, {"maxpool2d_forward", 1},
                                                         {"outer", 1}}));
  double ops = 0;
  for (const auto& r : t.rows()) {
    EXPECT_GE(r.seconds, 0) << r.name;
    ops += r.seconds;
  }
  EXPECT_EQ(t.steps(), 1);
  EXPECT_GE(t.step_seconds(), ops);
  const auto rows = t.rows();
  for (std::size_t i = 1; i < rows.size(); ++i) EXPECT_GE(rows[i - 1].seconds, rows[i].seconds);  // largest first
  const std::string table = t.table();
  EXPECT_NE(table.find("| relu_forward | 3 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| (all ops) | 7 |"), std::string::npos) << table;
  EXPECT_NE(table.find("1 steps"), std::string::npos) << table;
}

TEST(BenchKernelsTimer, RefusesMisuse) {
  nn::KernelTimer a(kCpu), b(kCpu);
  a.start_recording();
  EXPECT_THROW(b.start_recording(), Error);  // one recording timer per thread
  a.begin_step();
  EXPECT_THROW(a.begin_step(), Error);
  EXPECT_THROW(a.resolve(), Error);  // inside a step
  a.end_step();
  EXPECT_THROW(a.end_step(), Error);
  a.stop_recording();
  b.start_recording();  // now free
  EXPECT_TRUE(b.recording());
  b.stop_recording();
}

TEST(BenchKernelsTimer, WholeModelStepBracketsEveryOpOnce) {
  ModelConfig c;  // cnn_attn scaled down: 4 blocks, attention after block 4, attention pooling,
  c.conv_channels = {4, 4, 8, 8};  // prosody fused, one dense layer
  c.attention_head_dim = 4;
  nn::Model<float> m(c, nn::ModelInputs{16, 5, 3});
  m.plan(kCpu, 2, 32, 3);
  const auto x = test::random_nonzero<float>(2 * 32 * 16, 5);
  std::copy(x.begin(), x.end(), m.input());
  const auto pr = test::random_nonzero<float>(2 * 5, 6);
  std::copy(pr.begin(), pr.end(), m.prosody_input());
  m.set_batch(kCpu, 2, 32, {32, 20});
  nn::KernelTimer t(kCpu);
  t.start_recording();
  t.begin_step();
  m.forward(kCpu, true, 1);
  std::fill(m.dlogits(), m.dlogits() + 2 * 3, 0.25f);
  m.backward(kCpu, 1, m.dlogits());
  t.end_step();
  t.stop_recording();
  t.resolve();
  const auto calls = calls_by_op(t);
  const auto n = [&](const char* op) { return calls.count(op) ? calls.at(op) : 0; };
  EXPECT_EQ(n("conv2d_forward"), 4);
  EXPECT_EQ(n("conv2d_backward"), 4);
  EXPECT_EQ(n("batchnorm_forward_train"), 4);
  EXPECT_EQ(n("batchnorm_backward"), 4);
  EXPECT_EQ(n("maxpool2d_forward"), 4);
  EXPECT_EQ(n("maxpool2d_backward"), 4);
  EXPECT_EQ(n("relu_forward"), 5);
  EXPECT_EQ(n("relu_backward"), 5);
  EXPECT_EQ(n("dropout_forward"), 5);
  EXPECT_EQ(n("dropout_backward"), 5);
  EXPECT_EQ(n("sdpa_forward"), 1);
  EXPECT_EQ(n("sdpa_backward"), 1);
  EXPECT_EQ(n("linear_forward"), 6);   // q, k, v, out projections; dense; classifier
  EXPECT_EQ(n("linear_backward"), 6);
  EXPECT_EQ(n("attn_pool_forward"), 1);
  EXPECT_EQ(n("attn_pool_backward"), 1);
  EXPECT_EQ(n("accumulate"), 3);       // attention backward: k and v shares, the residual
  EXPECT_EQ(n("add"), 1);              // attention forward: the residual
  EXPECT_EQ(t.steps(), 1);
  EXPECT_GT(t.step_seconds(), 0);
}

}  // namespace
}  // namespace ser::bench
