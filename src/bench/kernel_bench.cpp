// src/bench/kernel_bench.cpp — the drivers of `ser bench kernels` (kernel_bench.hpp): buffers of
// random non-zero values on the device, each op timed by OpClock through its dispatch function
// (the same call the layers make), its comparison timed by the same clock in the same run.
#include "bench/kernel_bench.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <ostream>
#include <random>

#include "bench/op_clock.hpp"
#include "bench/op_cost.hpp"
#include "nn/memory.hpp"
#include "ser/device.hpp"
#include "ser/error.hpp"
#include "ser/nn/attention.hpp"
#include "ser/nn/batchnorm.hpp"
#include "ser/nn/conv.hpp"
#include "ser/nn/elementwise.hpp"
#include "ser/nn/optim_ops.hpp"
#include "ser/nn/pool.hpp"
#include "ser/prosody.hpp"

namespace ser::bench {

namespace {

// Device buffers of one driver, freed with it. Values are uniform in [lo, hi) with |v| >= 5 % of
// the range's magnitude (never zero), from a fixed seed.
class Buffers {
 public:
  Buffers(const nn::ExecContext& ctx, std::uint64_t seed) : ctx_(ctx), rng_(seed) {}

  float* random(std::int64_t count, double lo = -1.0, double hi = 1.0) {
    std::uniform_real_distribution<double> u(lo, hi);
    const double floor = 0.05 * std::max(std::abs(lo), std::abs(hi));
    std::vector<float> v(static_cast<std::size_t>(count));
    for (float& x : v) {
      double d = 0;
      do d = u(rng_); while (std::abs(d) < floor);
      x = static_cast<float>(d);
    }
    return static_cast<float*>(upload(v.data(), v.size() * sizeof(float)));
  }
  float* zeros(std::int64_t count) {
    const std::vector<float> v(static_cast<std::size_t>(count), 0.0f);
    return static_cast<float*>(upload(v.data(), v.size() * sizeof(float)));
  }
  int* ints(std::int64_t count, int value) {
    const std::vector<int> v(static_cast<std::size_t>(count), value);
    return static_cast<int*>(upload(v.data(), v.size() * sizeof(int)));
  }
  std::uint8_t* mask(std::int64_t count) {  // random 0/1 bytes
    std::vector<std::uint8_t> v(static_cast<std::size_t>(count));
    for (auto& b : v) b = static_cast<std::uint8_t>(rng_() & 1u);
    return static_cast<std::uint8_t*>(upload(v.data(), v.size()));
  }
  void* raw(std::size_t bytes) {
    blocks_.push_back(std::make_unique<nn::Block>(ctx_.device, std::max<std::size_t>(bytes, 256), "benchmark buffer"));
    return blocks_.back()->get();
  }

 private:
  void* upload(const void* host, std::size_t bytes) {
    void* p = raw(bytes);
    if (bytes > 0) nn::upload(ctx_, p, host, bytes);
    return p;
  }
  nn::ExecContext ctx_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<nn::Block>> blocks_;
};

KernelBenchRow make_row(const char* section, const std::string& op, const std::string& layer, const std::string& shape,
                        double flops = 0) {
  KernelBenchRow r;
  r.section = section;
  r.op = op;
  r.layer = layer;
  r.shape = shape;
  r.flops = flops;
  return r;
}

std::string conv_shape(const nn::Conv2dShape& s) {
  return "x " + dims_string({s.n, s.c_in, s.h, s.w}) + ", w " + dims_string({s.c_out, s.c_in, s.kh, s.kw}) +
         " -> y " + dims_string({s.n, s.c_out, s.h_out(), s.w_out()});
}

struct Context {
  nn::ExecContext ctx;          // ser's kernels
  nn::ExecContext vendor;       // cuDNN (GPU with cuDNN only)
  bool has_vendor = false;
  std::string vendor_missing;   // why there is no vendor column
  OpClock* clock = nullptr;
  std::ostream* log = nullptr;
};

void bench_conv(const Context& c, const ModelShapes::Conv& conv, std::vector<KernelBenchRow>& rows) {
  const nn::Conv2dShape& s = conv.shape;
  *c.log << "  " << conv.layer << "\n";
  Buffers b(c.ctx, 11);
  const std::int64_t n_in = std::int64_t(s.n) * s.c_in * s.h * s.w;
  const std::int64_t n_out = std::int64_t(s.n) * s.c_out * s.h_out() * s.w_out();
  const std::int64_t n_w = std::int64_t(s.c_out) * s.c_in * s.kh * s.kw;
  const float* x = b.random(n_in);
  const float* w = b.random(n_w);
  const float* bias = b.random(s.c_out);
  const float* dy = b.random(n_out);
  float* y = b.zeros(n_out);
  float* dx = b.zeros(n_in);
  float* dw = b.zeros(n_w);
  std::size_t ws_bytes = nn::conv2d_workspace_bytes(c.ctx, s);
  if (c.has_vendor) ws_bytes = std::max(ws_bytes, nn::conv2d_workspace_bytes(c.vendor, s));
  void* ws = b.raw(ws_bytes);

  const double flops = conv2d_flops(s);
  struct Pass {
    const char* name;
    bool in_training;
  };
  const Pass passes[3] = {{"forward", true}, {"backward-data", conv.needs_dx}, {"backward-weight", true}};
  const auto run = [&](const nn::ExecContext& ctx, int pass) {
    if (pass == 0) nn::conv2d_forward(ctx, s, x, w, bias, y, ws);
    else if (pass == 1) nn::conv2d_backward(ctx, s, x, w, dy, dx, nullptr, nullptr, ws);
    else nn::conv2d_backward(ctx, s, x, w, dy, nullptr, dw, nullptr, ws);
  };
  KernelBenchRow total = make_row("conv2d", "training step (forward + backward)", conv.layer, conv_shape(s));
  total.baseline = c.has_vendor ? "cuDNN" : c.vendor_missing;
  bool total_host_bound = false;
  for (int p = 0; p < 3; ++p) {
    KernelBenchRow r = make_row("conv2d", passes[p].name, conv.layer, conv_shape(s), flops);
    r.in_training = passes[p].in_training;
    const OpTiming t = c.clock->time([&] { run(c.ctx, p); });
    r.seconds = t.seconds;
    r.inner = t.inner;
    r.host_bound = t.host_bound;
    r.baseline = total.baseline;
    if (c.has_vendor) {
      const OpTiming v = c.clock->time([&] { run(c.vendor, p); });
      r.baseline_seconds = v.seconds;
      r.host_bound = r.host_bound || v.host_bound;
    }
    if (r.in_training) {
      total.flops += r.flops;
      total.seconds += r.seconds;
      total.baseline_seconds += r.baseline_seconds;
      total_host_bound = total_host_bound || r.host_bound;
    }
    rows.push_back(r);
  }
  total.host_bound = total_host_bound;
  rows.push_back(total);
}

void bench_sdpa(const Context& c, const ModelShapes::Attention& a, std::vector<KernelBenchRow>& rows) {
  const nn::SdpaShape& s = a.shape;
  *c.log << "  " << a.layer << " (attention core)\n";
  Buffers b(c.ctx, 12);
  const std::int64_t n_qkv = std::int64_t(s.n) * s.t * s.heads * s.head_dim;
  const float* q = b.random(n_qkv);
  const float* k = b.random(n_qkv);
  const float* v = b.random(n_qkv);
  const float* dout = b.random(n_qkv);
  float* o = b.zeros(n_qkv);
  float* lse = b.zeros(std::int64_t(s.n) * s.heads * s.t);
  float* dq = b.zeros(n_qkv);
  float* dk = b.zeros(n_qkv);
  float* dv = b.zeros(n_qkv);
  const int* lengths = b.ints(s.n, s.t);
  void* ws = b.raw(nn::sdpa_workspace_bytes(c.ctx, s));
  const std::string shape = "q, k, v, o (N, T, heads, head_dim) = " + dims_string({s.n, s.t, s.heads, s.head_dim});
  const std::string baseline = "PyTorch SDPA: tools/torch_bench_ops.py";
  KernelBenchRow fwd = make_row("sdpa", "forward", a.layer, shape, sdpa_forward_flops(s));
  const OpTiming tf = c.clock->time([&] { nn::sdpa_forward(c.ctx, s, q, k, v, lengths, o, lse, ws); });
  fwd.seconds = tf.seconds;
  fwd.inner = tf.inner;
  fwd.host_bound = tf.host_bound;
  fwd.baseline = baseline;
  KernelBenchRow bwd = make_row("sdpa", "backward", a.layer, shape, sdpa_backward_flops(s));
  const OpTiming tb = c.clock->time(
      [&] { nn::sdpa_backward(c.ctx, s, q, k, v, o, lse, dout, lengths, dq, dk, dv, ws); });
  bwd.seconds = tb.seconds;
  bwd.inner = tb.inner;
  bwd.host_bound = tb.host_bound;
  bwd.baseline = baseline;
  KernelBenchRow both = make_row("sdpa", "forward + backward", a.layer, shape, fwd.flops + bwd.flops);
  both.seconds = fwd.seconds + bwd.seconds;
  both.host_bound = fwd.host_bound || bwd.host_bound;
  both.baseline = baseline;
  rows.push_back(fwd);
  rows.push_back(bwd);
  rows.push_back(both);
}

// The memory-bound ops: each against a copy moving the same number of bytes (bytes / 2 read and
// bytes / 2 written), timed once per byte count.
class MemoryBench {
 public:
  MemoryBench(const Context& c, std::size_t max_bytes) : c_(c), b_(c.ctx, 13) {
    const std::size_t half = (max_bytes / 2 + 255) / 256 * 256;
    src_ = b_.raw(half);
    dst_ = b_.raw(half);
    baseline_ = c.ctx.device == Device::cuda ? "cudaMemcpyAsync device-to-device" : "std::memcpy";
  }

  void add(std::vector<KernelBenchRow>& rows, const std::string& op, const std::string& layer, const std::string& shape,
           double bytes, const std::function<void()>& fn) {
    KernelBenchRow r = make_row("memory", op, layer, shape);
    r.bytes = bytes;
    const OpTiming t = c_.clock->time(fn);
    r.seconds = t.seconds;
    r.inner = t.inner;
    r.host_bound = t.host_bound;
    r.baseline = baseline_;
    const std::size_t half = static_cast<std::size_t>(bytes / 2) / 4 * 4;
    auto it = copies_.find(half);
    if (it == copies_.end()) {
      const OpTiming ct = c_.clock->time([&] { c_.clock->copy(dst_, src_, half); });
      it = copies_.emplace(half, ct.seconds).first;
    }
    // The copy moved 2 * half bytes; scale to exactly `bytes` (half was rounded down to floats).
    r.baseline_seconds = half > 0 ? it->second * bytes / (2.0 * static_cast<double>(half)) : 0;
    rows.push_back(r);
  }

 private:
  const Context& c_;
  Buffers b_;
  void* src_ = nullptr;
  void* dst_ = nullptr;
  std::string baseline_;
  std::map<std::size_t, double> copies_;
};

std::string pool_shape(const nn::Pool2dShape& s) {
  return "x " + dims_string({s.n, s.c, s.h, s.w}) + " -> y " + dims_string({s.n, s.c, s.h_out(), s.w_out()}) +
         ", window " + std::to_string(s.kh) + "x" + std::to_string(s.kw);
}

// Batch norm forward (training) and backward at every batch-norm layer.
void bench_batchnorms(const Context& c, const ModelShapes& m, MemoryBench& mb, std::vector<KernelBenchRow>& rows) {
  for (const auto& n : m.norms) {
    const nn::BatchNormShape& s = n.shape;
    *c.log << "  " << n.layer << "\n";
    Buffers b(c.ctx, 14);
    const std::int64_t count = std::int64_t(s.n) * s.c * s.h * s.w;
    const float* x = b.random(count);
    const float* dy = b.random(count);
    const float* gamma = b.random(s.c, 0.5, 1.5);
    const float* beta = b.random(s.c);
    float* y = b.zeros(count);
    float* dx = b.zeros(count);
    float* mean = b.zeros(s.c);
    float* invstd = b.zeros(s.c);
    float* rmean = b.zeros(s.c);
    float* rvar = b.random(s.c, 0.5, 1.5);
    float* dgamma = b.zeros(s.c);
    float* dbeta = b.zeros(s.c);
    const int* lengths = b.ints(s.n, s.h);
    const std::string shape = dims_string({s.n, s.c, s.h, s.w});
    mb.add(rows, "batchnorm forward (training)", n.layer, shape, batchnorm_forward_bytes(s), [&] {
      nn::batchnorm_forward_train(c.ctx, s, x, lengths, gamma, beta, y, mean, invstd, rmean, rvar);
    });
    mb.add(rows, "batchnorm backward", n.layer, shape, batchnorm_backward_bytes(s), [&] {
      nn::batchnorm_backward(c.ctx, s, x, dy, lengths, gamma, mean, invstd, dx, dgamma, dbeta);
    });
  }
}

// ReLU or dropout, forward and backward, at every elementwise layer.
void bench_elementwise(const Context& c, const ModelShapes& m, MemoryBench& mb, std::vector<KernelBenchRow>& rows) {
  for (const auto& e : m.elementwise) {
    *c.log << "  " << e.layer << "\n";
    Buffers b(c.ctx, 15);
    const float* x = b.random(e.count);
    const float* dy = b.random(e.count);
    float* y = b.zeros(e.count);
    float* dx = b.zeros(e.count);
    const std::string shape = e.dims + " = " + std::to_string(e.count) + " floats";
    if (e.op == "relu") {
      mb.add(rows, "relu forward", e.layer, shape, relu_forward_bytes(e.count),
             [&] { nn::relu_forward(c.ctx, e.count, x, y); });
      mb.add(rows, "relu backward", e.layer, shape, relu_backward_bytes(e.count),
             [&] { nn::relu_backward(c.ctx, e.count, y, dy, dx); });
    } else {
      mb.add(rows, "dropout forward", e.layer, shape, dropout_bytes(e.count),
             [&] { nn::dropout_forward(c.ctx, e.count, e.p, 1234, x, y); });
      mb.add(rows, "dropout backward", e.layer, shape, dropout_bytes(e.count),
             [&] { nn::dropout_backward(c.ctx, e.count, e.p, 1234, dy, dx); });
    }
  }
}

// Max-pool forward and backward at every pooling layer.
void bench_pools(const Context& c, const ModelShapes& m, MemoryBench& mb, std::vector<KernelBenchRow>& rows) {
  for (const auto& p : m.pools) {
    const nn::Pool2dShape& s = p.shape;
    *c.log << "  " << p.layer << "\n";
    Buffers b(c.ctx, 16);
    const std::int64_t n_in = std::int64_t(s.n) * s.c * s.h * s.w;
    const std::int64_t n_out = std::int64_t(s.n) * s.c * s.h_out() * s.w_out();
    const float* x = b.random(n_in);
    const float* dy = b.random(n_out);
    float* y = b.zeros(n_out);
    float* dx = b.zeros(n_in);
    auto* argmax = static_cast<std::int32_t*>(b.raw(static_cast<std::size_t>(n_out) * sizeof(std::int32_t)));
    const int* lengths = b.ints(s.n, s.h);
    mb.add(rows, "maxpool forward", p.layer, pool_shape(s), maxpool2d_forward_bytes(s),
           [&] { nn::maxpool2d_forward(c.ctx, s, x, lengths, y, argmax); });
    mb.add(rows, "maxpool backward", p.layer, pool_shape(s), maxpool2d_backward_bytes(s),
           [&] { nn::maxpool2d_backward(c.ctx, s, dy, argmax, dx); });
  }
}

// The residual add of every attention layer.
void bench_residual_adds(const Context& c, const ModelShapes& m, MemoryBench& mb, std::vector<KernelBenchRow>& rows) {
  for (const auto& a : m.attentions) {
    *c.log << "  " << a.layer << " (residual add)\n";
    Buffers b(c.ctx, 17);
    const float* x = b.random(a.tokens);
    const float* z = b.random(a.tokens);
    float* y = b.zeros(a.tokens);
    mb.add(rows, "residual add", a.layer, "(N, T, D) = " + std::to_string(a.tokens) + " floats", add_bytes(a.tokens),
           [&] { nn::add(c.ctx, a.tokens, x, z, y); });
  }
}

// One AdamW update of every parameter.
void bench_adam(const Context& c, const ModelShapes& m, MemoryBench& mb, std::vector<KernelBenchRow>& rows) {
  *c.log << "  Adam\n";
  Buffers b(c.ctx, 18);
  const std::int64_t count = m.parameters;
  float* params = b.random(count);
  const float* grads = b.random(count);
  float* mom = b.random(count);
  float* vel = b.random(count, 0.01, 1.0);
  const std::uint8_t* decay = b.mask(count);
  nn::AdamStep h;
  h.weight_decay = 1e-4f;
  mb.add(rows, "adamw update", "all parameters", std::to_string(count) + " parameters (+ decay mask)",
         adam_bytes(count, true), [&] { nn::adam_update(c.ctx, count, h, params, grads, mom, vel, decay); });
}

void bench_memory(const Context& c, const ModelShapes& m, std::vector<KernelBenchRow>& rows) {
  double max_bytes = adam_bytes(m.parameters, true);
  for (const auto& n : m.norms) max_bytes = std::max(max_bytes, batchnorm_backward_bytes(n.shape));
  for (const auto& p : m.pools) max_bytes = std::max({max_bytes, maxpool2d_forward_bytes(p.shape), maxpool2d_backward_bytes(p.shape)});
  for (const auto& e : m.elementwise) max_bytes = std::max(max_bytes, relu_backward_bytes(e.count));
  for (const auto& a : m.attentions) max_bytes = std::max(max_bytes, add_bytes(a.tokens));
  MemoryBench mb(c, static_cast<std::size_t>(max_bytes));

  bench_batchnorms(c, m, mb, rows);
  bench_elementwise(c, m, mb, rows);
  bench_pools(c, m, mb, rows);
  bench_residual_adds(c, m, mb, rows);
  bench_adam(c, m, mb, rows);
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

}  // namespace

KernelBenchReport run_kernel_bench(const KernelBenchOptions& o, std::ostream& log) {
  const RunConfig rc = o.config.empty() ? RunConfig{} : load_run_config(o.config);
  const int n_prosody = o.n_prosody > 0 ? o.n_prosody : static_cast<int>(functional_names().size());
  KernelBenchReport r;
  r.shapes = model_shapes(rc.model, o.batch, o.frames, o.n_mels, n_prosody, o.n_classes);
  r.command = o.command;
  r.config = o.config.empty() ? "built-in defaults" : o.config;
  const Device device = select_device(parse_device_request(o.device), log);
  r.gpu = device == Device::cuda;

  std::unique_ptr<nn::GpuHandles> gpu;
  Context c;
  c.log = &log;
  if (r.gpu) {
    gpu = std::make_unique<nn::GpuHandles>(false);
    c.ctx = gpu->context(nn::KernelPath::handwritten);
#ifdef SER_WITH_CUDNN
    c.vendor = gpu->context(nn::KernelPath::vendor);
    c.has_vendor = true;
#else
    c.vendor_missing = "n/a (built without cuDNN)";
#endif
    const CudaProbe& p = probe_cuda();
    r.device = "cuda: " + p.name + ", compute " + std::to_string(p.compute_major) + "." +
               std::to_string(p.compute_minor) + ", CUDA driver API " + std::to_string(p.driver_version / 1000) + "." +
               std::to_string(p.driver_version % 1000 / 10);
    r.timing = std::string("CUDA events; warm-up calls: ")
                   .append(std::to_string(o.warmup))
                   .append("; then the median of ")
                   .append(std::to_string(o.repeat))
                   .append(" samples, each k back-to-back calls enqueued behind a blocking kernel (so launch "
                           "overhead is hidden) and divided by k");
  } else {
    c.vendor_missing = "n/a (CPU)";
    r.device = "cpu: " + cpu_description();
    r.timing = std::string("steady_clock; warm-up calls: ")
                   .append(std::to_string(o.warmup))
                   .append("; then the median of ")
                   .append(std::to_string(o.repeat))
                   .append(" samples, each k back-to-back calls divided by k");
  }
  r.precision = "fp32 throughout; TF32 off (ser's kernels are FP32 FMA; cuDNN runs with CUDNN_FMA_MATH, "
                "algorithms by cuDNN's heuristics)";
  OpClock clock(c.ctx, o.warmup, o.repeat, o.min_sample_seconds);
  c.clock = &clock;

  log << "ser bench kernels on " << r.device << "\n";
  for (const auto& conv : r.shapes.convs) bench_conv(c, conv, r.rows);
  for (const auto& a : r.shapes.attentions) bench_sdpa(c, a, r.rows);
  bench_memory(c, r.shapes, r.rows);
  if (gpu) gpu->synchronize();
  return r;
}

std::string kernel_bench_markdown(const KernelBenchReport& r) {
  const ModelShapes& m = r.shapes;
  std::string out = "# ser bench kernels\n\n| | |\n|---|---|\n";
  out += "| device | " + r.device + " |\n";
  out += "| model | " + m.model + " (" + r.config + "), batch " + std::to_string(m.batch) + " x " +
         std::to_string(m.frames) + " frames x " + std::to_string(m.n_mels) + " mels, " + std::to_string(m.n_prosody) +
         " fused functionals, " + std::to_string(m.n_classes) + " classes; every utterance at full length |\n";
  out += "| precision | " + r.precision + " |\n";
  out += "| timing | " + r.timing + " |\n";
  if (!r.command.empty()) out += "| command | `" + r.command + "` |\n";

  out += "\n## Shapes\n\n| layer | input | output |\n|---|---|---|\n";
  for (const auto& l : m.layers) out += "| " + l.name + " | " + l.in + " | " + l.out + " |\n";

  const auto note = [](const KernelBenchRow& row) {
    std::string s;
    if (!row.in_training) s += " (not run in training: first layer)";
    if (row.host_bound) s += " (host-bound sample)";
    return s;
  };
  const auto vendor_cell = [](const KernelBenchRow& row, const std::string& value) {
    return row.baseline_seconds > 0 ? value : row.baseline;
  };

  out += "\n## Convolution: ser vs cuDNN (fp32, TF32 off)\n\n"
         "Speed vs cuDNN = cuDNN time / ser time (above 1: ser is faster). The training row adds the passes "
         "training runs (no backward-data for the first layer). Backward-weight is dw alone (the bias "
         "gradient is not timed).\n\n"
         "| layer | pass | shape | GFLOP | ser ms | ser TFLOP/s | cuDNN ms | cuDNN TFLOP/s | speed vs cuDNN |\n"
         "|---|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& row : r.rows) {
    if (row.section != "conv2d") continue;
    const double vt = row.baseline_seconds > 0 ? row.flops / row.baseline_seconds / 1e12 : 0;
    out += "| " + row.layer + " | " + row.op + note(row) + " | " + row.shape + " | " + fmt("%.3f", row.flops / 1e9) +
           " | " + fmt("%.4f", row.seconds * 1e3) + " | " + fmt("%.3f", row.tflops()) + " | " +
           vendor_cell(row, fmt("%.4f", row.baseline_seconds * 1e3)) + " | " + vendor_cell(row, fmt("%.3f", vt)) +
           " | " + vendor_cell(row, fmt("%.2fx", row.speed_vs_baseline())) + " |\n";
  }

  out += "\n## Attention core (fused SDPA)\n\n"
         "FLOPs count all T x T scores (forward 4 N h T^2 d, backward 2.5x that). PyTorch's "
         "scaled_dot_product_attention at the same shape: `tools/torch_bench_ops.py` (merged by "
         "tools/gpu_check.sh).\n\n"
         "| layer | pass | shape | MFLOP | ser us | ser TFLOP/s |\n|---|---|---|---:|---:|---:|\n";
  for (const auto& row : r.rows) {
    if (row.section != "sdpa") continue;
    out += "| " + row.layer + " | " + row.op + note(row) + " | " + row.shape + " | " + fmt("%.2f", row.flops / 1e6) +
           " | " + fmt("%.2f", row.seconds * 1e6) + " | " + fmt("%.3f", row.tflops()) + " |\n";
  }

  const std::string base = r.gpu ? "copy" : "memcpy";
  out += "\n## Memory-bound ops: GB/s against a " +
         std::string(r.gpu ? "cudaMemcpyAsync device-to-device copy" : "std::memcpy") +
         " of the same byte count\n\n"
         "Bytes are the compulsory traffic (each tensor read or written once; src/bench/op_cost.hpp); the copy "
         "reads half of them and writes the other half. % of " + base + " = copy time / op time.\n\n"
         "| op | layer | shape | MB | ser us | ser GB/s | " + base + " us | " + base + " GB/s | % of " + base +
         " |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& row : r.rows) {
    if (row.section != "memory") continue;
    const double cg = row.baseline_seconds > 0 ? row.bytes / row.baseline_seconds / 1e9 : 0;
    out += "| " + row.op + note(row) + " | " + row.layer + " | " + row.shape + " | " + fmt("%.3f", row.bytes / 1e6) +
           " | " + fmt("%.2f", row.seconds * 1e6) + " | " + fmt("%.1f", row.gbps()) + " | " +
           vendor_cell(row, fmt("%.2f", row.baseline_seconds * 1e6)) + " | " + vendor_cell(row, fmt("%.1f", cg)) +
           " | " + vendor_cell(row, fmt("%.0f %%", 100 * row.speed_vs_baseline())) + " |\n";
  }
  return out;
}

nlohmann::json kernel_bench_json(const KernelBenchReport& r) {
  const ModelShapes& m = r.shapes;
  nlohmann::json j = {{"device", r.device}, {"gpu", r.gpu}, {"timing", r.timing}, {"precision", r.precision},
                      {"command", r.command}, {"config", r.config}, {"model", m.model}, {"batch", m.batch},
                      {"frames", m.frames}, {"n_mels", m.n_mels}, {"n_prosody", m.n_prosody},
                      {"n_classes", m.n_classes}, {"parameters", m.parameters}};
  j["layers"] = nlohmann::json::array();
  for (const auto& l : m.layers) j["layers"].push_back({{"layer", l.name}, {"input", l.in}, {"output", l.out}});
  j["rows"] = nlohmann::json::array();
  for (const auto& row : r.rows) {
    nlohmann::json x = {{"section", row.section}, {"op", row.op}, {"layer", row.layer}, {"shape", row.shape},
                        {"seconds", row.seconds}, {"baseline", row.baseline}, {"in_training", row.in_training},
                        {"inner", row.inner}, {"host_bound", row.host_bound}};
    if (row.flops > 0) {
      x["flops"] = row.flops;
      x["tflops"] = row.tflops();
    }
    if (row.bytes > 0) {
      x["bytes"] = row.bytes;
      x["gbps"] = row.gbps();
    }
    if (row.baseline_seconds > 0) {
      x["baseline_seconds"] = row.baseline_seconds;
      x["speed_vs_baseline"] = row.speed_vs_baseline();
    }
    j["rows"].push_back(x);
  }
  return j;
}

}  // namespace ser::bench
