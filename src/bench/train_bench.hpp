// src/bench/train_bench.hpp — `ser bench train`: training throughput, memory and per-layer time of a
// model on a cache, for one device and kernel path (a benchmark, not a test).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ser::bench {

struct BenchTrainOptions {
  std::string cache, config;
  std::string device = "auto", kernels = "handwritten";
  int steps = 20;        // timed optimizer steps (after 2 warm-up steps)
  int batch_size = 0;    // > 0 overrides [train] batch_size
  int frames = 0;        // > 0: every utterance of every batch exactly this many frames, full mask
                         // (longer ones cropped, shorter ones zero-padded): identical work per step,
                         // as tools/torch_reference.py bench --frames does
  bool profile = false;  // `ser profile`: the timed steps run between cudaProfilerStart and Stop
  bool kernel_timing = false;  // also a per-op time table (nn/kernel_timer.hpp) over a few more steps
};

// Runs the benchmark and returns one result row (also the per-layer table), printing to `log`. The
// row's train_utterances_per_s is over timed optimizer steps, eval_utterances_per_s over as many
// inference forwards (no gradients) of the same batches.
nlohmann::json bench_train(const BenchTrainOptions& o, std::ostream& log);

}  // namespace ser::bench
