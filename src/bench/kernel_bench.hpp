// src/bench/kernel_bench.hpp — `ser bench kernels`: every training op at the shapes a model uses,
// timed on one device, each against its comparison measured in the same run: convolution against
// cuDNN (TFLOP/s), the attention core alone (TFLOP/s; PyTorch's side comes from
// tools/torch_bench_ops.py), the memory-bound ops (pooling, elementwise, batch norm, Adam) against a
// device-to-device copy of the same byte count (GB/s). On the CPU the same drivers time the CPU
// twins; there is no vendor path there, and the bandwidth baseline is std::memcpy.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/model_shapes.hpp"

namespace ser::bench {

struct KernelBenchOptions {
  std::string device = "auto";  // auto | cpu | cuda
  std::string config;           // run config (TOML); empty: the built-in cnn_attn defaults
  int batch = 16, frames = 300, n_mels = 64;  // Emo-DB-like: 16 utterances of about 3 s
  int n_prosody = 0;            // fused functionals; <= 0: the front-end's count
  int n_classes = 7;
  int warmup = 3, repeat = 20;
  double min_sample_seconds = 0;  // 0: OpClock's default (100 µs GPU, 1 ms CPU)
  std::string command;          // the command line, for the report
};

struct KernelBenchRow {
  std::string section;          // "conv2d" | "sdpa" | "memory"
  std::string op;               // "forward", "backward-data", ..., "relu forward", "adam update"
  std::string layer;            // "L0 conv2d 1->16 k3x3 s1x1 p1x1", or "all parameters"
  std::string shape;            // tensor shapes in words
  double flops = 0;             // compute-bound rows: FLOPs of one call (op_cost.hpp)
  double bytes = 0;             // memory-bound rows: compulsory bytes of one call (op_cost.hpp)
  double seconds = 0;           // ser: median time of one call
  std::string baseline;         // what it is compared with, or why nothing ("n/a (CPU)")
  double baseline_seconds = 0;  // 0: not measured in this run
  bool in_training = true;      // false: a pass training does not run (dx of the first layer)
  int inner = 1;                // calls per timed sample (ser's side)
  bool host_bound = false;      // GPU: a sample could not be held back (see OpTiming)
  double tflops() const { return seconds > 0 ? flops / seconds / 1e12 : 0; }
  double gbps() const { return seconds > 0 ? bytes / seconds / 1e9 : 0; }
  // > 1: ser is faster than the baseline.
  double speed_vs_baseline() const { return seconds > 0 && baseline_seconds > 0 ? baseline_seconds / seconds : 0; }
};

struct KernelBenchReport {
  std::string device;           // "cuda: NVIDIA H100 80GB HBM3, driver 13.0" or "cpu: <model>, N threads"
  bool gpu = false;
  std::string timing, precision, command, config;
  ModelShapes shapes;
  std::vector<KernelBenchRow> rows;
};

// Runs every driver; progress lines go to `log`.
KernelBenchReport run_kernel_bench(const KernelBenchOptions& o, std::ostream& log);

std::string kernel_bench_markdown(const KernelBenchReport& r);
nlohmann::json kernel_bench_json(const KernelBenchReport& r);

}  // namespace ser::bench
