// src/train/bench_train.hpp — `ser bench train`: training throughput, memory and per-layer time of a
// model on a cache, for one device and kernel path (a benchmark, not a test).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ser::train {

struct BenchTrainOptions {
  std::string cache, config;
  std::string device = "auto", kernels = "handwritten";
  int steps = 20;        // timed optimizer steps (after 2 warm-up steps)
  int batch_size = 0;    // > 0 overrides [train] batch_size
  bool profile = false;  // `ser profile`: the timed steps run between cudaProfilerStart and Stop
  bool kernel_timing = false;  // also a per-op time table (nn/kernel_timer.hpp) over a few more steps
};

// Runs the benchmark and returns one result row (also the per-layer table), printing to `log`.
nlohmann::json bench_train(const BenchTrainOptions& o, std::ostream& log);

}  // namespace ser::train
