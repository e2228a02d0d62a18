// src/bench/train_bench.cpp — `ser bench train`: timing training steps, inference forwards, each
// layer's forward and backward, and each op.
#include "bench/train_bench.hpp"

#include <cstdio>
#include <memory>
#include <numeric>
#include <ostream>

#include "engine/engine_session.hpp"
#include "nn/kernel_timer.hpp"
#include "nn/memory.hpp"
#include "nn/model.hpp"
#include "nn/nvtx.hpp"
#include "ser/cache.hpp"
#include "ser/classic.hpp"
#include "ser/device.hpp"
#include "ser/error.hpp"
#include "ser/model_config.hpp"
#include "train/optimizer.hpp"
#include "train/train_step.hpp"
#include "util/wall_clock.hpp"

namespace ser::bench {

namespace {

// Makes b exactly `frames` frames long with every frame valid: b was cropped to at most `frames`
// by the BatchMaker; shorter utterances are zero-padded and their lengths set to `frames`.
void force_full_frames(engine::HostBatch& b, int frames) {
  if (b.t > frames) throw Error("bench train: batch longer than --frames");
  const std::size_t mels = b.x.size() / (static_cast<std::size_t>(b.n) * static_cast<std::size_t>(std::max(b.t, 1)));
  std::vector<float> x(static_cast<std::size_t>(b.n) * static_cast<std::size_t>(frames) * mels, 0.0f);  // (n, 1, frames, mels)
  for (int i = 0; i < b.n; ++i)
    std::copy_n(b.x.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) * b.t * mels), static_cast<std::size_t>(b.t) * mels,
                x.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) * frames * mels));
  b.x = std::move(x);
  b.t = frames;
  std::fill(b.lengths.begin(), b.lengths.end(), frames);
}

FeatureCache bench_cache(const std::string& path, const RunConfig& rc) {
  return rc.model.functionals == "utterance" ? classic::with_utterance_features(read_cache(path)) : read_cache(path);
}

// Everything one benchmark run holds: the cache, a planned model attached to a session, its
// optimizer, and up to 8 batches that the timed steps cycle through.
struct TrainBench {
  TrainBench(const BenchTrainOptions& o, std::ostream& log);
  // One optimizer step on batch s (cycled).
  void step(std::int64_t s) {
    const engine::HostBatch& b = batch(s);
    session.load_batch(b);
    train::train_step(model, session, *opt, b.n, static_cast<std::uint64_t>(s), 1e-4, false);
  }
  const engine::HostBatch& batch(std::int64_t s) const { return host[static_cast<std::size_t>(s) % host.size()]; }

  RunConfig rc;
  FeatureCache cache;
  std::vector<int> all;  // every utterance of the cache
  engine::Normalizer norm;
  engine::EngineSession session;
  nn::Model<float> model;
  engine::BatchMaker maker;
  std::unique_ptr<train::Optimizer> opt;
  std::vector<engine::HostBatch> host;
  std::size_t device_bytes_taken = 0;  // GPU: free memory before planning minus after attaching
  double hop_s = 0;
};

RunConfig bench_config(const BenchTrainOptions& o) {
  RunConfig rc = o.config.empty() ? RunConfig{} : load_run_config(o.config);
  if (o.batch_size > 0) rc.train.batch_size = o.batch_size;
  return rc;
}

std::vector<int> every_utterance(const FeatureCache& cache) {
  std::vector<int> all(cache.n_utterances());
  std::iota(all.begin(), all.end(), 0);
  return all;
}

TrainBench::TrainBench(const BenchTrainOptions& o, std::ostream& log)
    : rc(bench_config(o)),
      cache(bench_cache(o.cache, rc)),
      all(every_utterance(cache)),
      norm(engine::fit_normalizer(cache, all)),
      session(o.device, o.kernels, false, log),
      model(rc.model, nn::ModelInputs{cache.n_mels(),
                                      rc.model.uses_functionals() ? static_cast<int>(cache.functional_names.size()) : 0,
                                      static_cast<int>(cache.class_names.size())}),
      maker(cache, norm, model.min_frames()),
      hop_s(double(cache.config.logmel.hop_length) / cache.config.logmel.sample_rate) {
  if (o.frames > 0 && o.frames < model.min_frames())
    throw Error("bench train: --frames " + std::to_string(o.frames) + " is below the model's minimum of " +
                std::to_string(model.min_frames()) + " frames");
  const int crop = o.frames > 0 ? o.frames : rc.train.max_frames;
  int max_frames = o.frames;
  if (o.frames <= 0)
    for (int u : all) max_frames = std::max(max_frames, maker.length_of(u, crop));
  std::size_t free0 = 0, free1 = 0, total = 0;
  nn::device_memory_info(session.ctx().device, &free0, &total);
  model.plan(session.ctx(), rc.train.batch_size, max_frames, rc.train.seed);
  session.attach(model);
  opt = std::make_unique<train::Optimizer>(session.ctx(), model.param_table(), rc.train);
  session.set_class_weights(std::vector<float>(cache.class_names.size(), 1.0f));
  session.set_label_smoothing(rc.train.label_smoothing);
  nn::device_memory_info(session.ctx().device, &free1, &total);
  device_bytes_taken = free0 - free1;

  // Up to 8 batches of the first epoch; with --frames only full ones (batch_size utterances each).
  for (const auto& ids : engine::epoch_batches(all, maker, rc.train.batch_size, rc.train.bucket_batches,
                                               rc.train.max_frames, rc.train.seed, 0)) {
    if (host.size() == 8) break;
    if (o.frames > 0 && static_cast<int>(ids.size()) != rc.train.batch_size) continue;
    maker.make(ids, crop, 1, host.emplace_back());
    if (o.frames > 0) force_full_frames(host.back(), o.frames);
  }
  if (host.empty())
    throw Error("bench train: " + o.cache + " has fewer than batch_size = " + std::to_string(rc.train.batch_size) +
                " utterances");
}

struct Throughput {
  double train_seconds = 0, train_utterances = 0, train_frames = 0;
  double eval_seconds = 0, eval_utterances = 0;
};

// `steps` timed optimizer steps after two warm-up steps, then as many inference forwards of the
// same batches (no gradients).
Throughput time_steps(TrainBench& tb, int steps, bool profile) {
  for (int s = 0; s < 2; ++s) tb.step(s);
  nn::synchronize(tb.session.ctx());
  Throughput t;
  if (profile) nn::profiler_start();
  const double t0 = now_seconds();
  for (int s = 0; s < steps; ++s) {
    const nn::NvtxRange range("train step");
    tb.step(s);
    t.train_utterances += tb.batch(s).n;
    for (int l : tb.batch(s).lengths) t.train_frames += l;
  }
  nn::synchronize(tb.session.ctx());
  t.train_seconds = now_seconds() - t0;
  if (profile) nn::profiler_stop();

  const double e0 = now_seconds();
  for (int s = 0; s < steps; ++s) {
    tb.session.load_batch(tb.batch(s));
    tb.model.forward(tb.session.ctx(), false, 0);
    t.eval_utterances += tb.batch(s).n;
  }
  nn::synchronize(tb.session.ctx());
  t.eval_seconds = now_seconds() - e0;
  return t;
}

struct LayerTimes {
  std::vector<double> forward, backward;  // (layers) mean seconds per step
};

// Mean per-layer times over `steps` more steps, with a synchronisation after every layer.
LayerTimes time_layers(TrainBench& tb, int steps) {
  LayerTimes lt{std::vector<double>(tb.model.layer_count(), 0), std::vector<double>(tb.model.layer_count(), 0)};
  tb.model.set_layer_timing(true);
  for (int s = 0; s < steps; ++s) {
    tb.step(s);
    for (std::size_t i = 0; i < tb.model.layer_count(); ++i) {
      lt.forward[i] += tb.model.forward_seconds()[i] / steps;
      lt.backward[i] += tb.model.backward_seconds()[i] / steps;
    }
  }
  tb.model.set_layer_timing(false);
  return lt;
}

// Per-op times over `steps` more steps with every op dispatch bracketed (events on the GPU, read
// after the steps; no synchronisation per op).
void time_ops(TrainBench& tb, nn::KernelTimer& op_timer, int steps) {
  op_timer.start_recording();
  for (int s = 0; s < steps; ++s) {
    op_timer.begin_step();
    tb.step(s);
    op_timer.end_step();
  }
  op_timer.stop_recording();
  op_timer.resolve();
}

// The result row's summary fields, printed as one line too.
nlohmann::json summary_row(const BenchTrainOptions& o, const TrainBench& tb, const Throughput& t, std::ostream& log) {
  // CPU: every engine buffer alive now (model, optimizer, batch), as allocated.
  const std::size_t peak = tb.session.on_gpu() ? tb.device_bytes_taken : nn::live_bytes(Device::cpu);
  const double train_rate = t.train_utterances / t.train_seconds, eval_rate = t.eval_utterances / t.eval_seconds;
  const double audio_rate = t.train_frames * tb.hop_s / t.train_seconds;
  nlohmann::json row{{"device", tb.session.describe()}, {"model", tb.rc.model.name}, {"batch_size", tb.rc.train.batch_size},
                     {"frames", o.frames},
                     {"n_mels", tb.model.inputs().n_mels}, {"n_prosody", tb.model.inputs().n_prosody},
                     {"n_classes", static_cast<int>(tb.cache.class_names.size())}, {"steps", o.steps},
                     {"seconds", t.train_seconds}, {"train_utterances_per_s", train_rate},
                     {"eval_utterances_per_s", eval_rate}, {"audio_seconds_per_second", audio_rate},
                     {"peak_memory_bytes", peak}, {"parameters", tb.model.param_table().payload()},
                     {"layers", nlohmann::json::array()}};
  char line[240];
  log << "\n" << row["device"].get<std::string>() << ": " << tb.rc.model.name << ", batch " << tb.rc.train.batch_size << "\n";
  std::snprintf(line, sizeof line,
                "  %.1f training utterances/s, %.0f audio-s/s, %.1f inference utterances/s, peak memory %.1f MiB (%s)\n",
                train_rate, audio_rate, eval_rate, peak / 1048576.0,
                tb.session.on_gpu() ? "device memory taken" : "every engine buffer held");
  log << line;
  return row;
}

// The per-layer table, printed and added to row["layers"]. GFLOP/s of the layers whose work is
// counted (convolutions, attention, linear) on the CPU with --frames (every timed step then has the
// same dims): backward is two products of the forward's size (data and weight gradients), one for
// the first layer (no dx).
void layer_table(const TrainBench& tb, const LayerTimes& lt, bool gflops, nlohmann::json& row, std::ostream& log) {
  const CpuPeak peak_fma = gflops ? cpu_fma_peak() : CpuPeak{};
  if (gflops) log << "  FP32 peak: " << peak_fma.how << "\n";
  log << "  | layer | forward ms | backward ms |" << (gflops ? " forward GFLOP/s | backward GFLOP/s | % of peak |" : "")
      << "\n  |---|---:|---:|" << (gflops ? "---:|---:|---:|" : "") << "\n";
  char line[240];
  for (std::size_t i = 0; i < tb.model.layer_count(); ++i) {
    const double fwd = lt.forward[i], bwd = lt.backward[i];
    const double f_flops = tb.model.layer(i).forward_flops(tb.model.current_dims()[i]);
    const double b_flops = f_flops * (i == 0 ? 1.0 : 2.0);
    std::snprintf(line, sizeof line, "  | %zu %s | %.3f | %.3f |", i, tb.model.layer(i).describe().c_str(), fwd * 1e3,
                  bwd * 1e3);
    log << line;
    nlohmann::json layer{{"layer", tb.model.layer(i).describe()}, {"forward_ms", fwd * 1e3}, {"backward_ms", bwd * 1e3}};
    if (gflops && f_flops > 0 && fwd > 0 && bwd > 0) {
      const double gf = f_flops / fwd / 1e9, gb = b_flops / bwd / 1e9;
      const double pct = 100.0 * (f_flops + b_flops) / (fwd + bwd) / peak_fma.flops_per_second;
      std::snprintf(line, sizeof line, " %.1f | %.1f | %.0f |", gf, gb, pct);
      log << line;
      layer["forward_gflops"] = gf;
      layer["backward_gflops"] = gb;
      layer["percent_of_peak"] = pct;
    } else if (gflops) {
      log << " | | |";
    }
    log << "\n";
    row["layers"].push_back(layer);
  }
  if (gflops) row["cpu_peak_gflops"] = peak_fma.flops_per_second / 1e9;
}

// The per-op table, printed and added to row["kernels"].
void op_table(const nn::KernelTimer& op_timer, bool on_gpu, nlohmann::json& row, std::ostream& log) {
  log << "\n  per-op time over " << op_timer.steps() << " steps (" << (on_gpu ? "CUDA events" : "steady_clock")
      << " around each op dispatch):\n";
  const std::string table = op_timer.table();
  for (std::size_t a = 0, b; a < table.size(); a = b + 1) {
    b = table.find('\n', a);
    if (b == std::string::npos) b = table.size();
    log << "  " << table.substr(a, b - a) << "\n";
  }
  row["kernels"] = nlohmann::json::array();
  for (const auto& r : op_timer.rows())
    row["kernels"].push_back({{"op", r.name}, {"calls", r.calls}, {"total_ms", r.seconds * 1e3},
                              {"percent_of_step", 100.0 * r.seconds / op_timer.step_seconds()}});
  row["kernel_timing_steps"] = op_timer.steps();
  row["kernel_timing_step_ms"] = op_timer.step_seconds() * 1e3;
}

}  // namespace

nlohmann::json bench_train(const BenchTrainOptions& o, std::ostream& log) {
  TrainBench tb(o, log);
  const Throughput t = time_steps(tb, o.steps, o.profile);
  // Profiling: the window above is what counts, so no layer or op timing after it.
  const LayerTimes lt = time_layers(tb, o.profile ? 0 : std::min(o.steps, 5));
  nn::KernelTimer op_timer(tb.session.ctx());
  if (o.kernel_timing && !o.profile) time_ops(tb, op_timer, std::min(o.steps, 5));

  nlohmann::json row = summary_row(o, tb, t, log);
  if (o.profile) {
    log << "  profiled " << o.steps << " steps between cudaProfilerStart and cudaProfilerStop\n";
    return row;
  }
  layer_table(tb, lt, !tb.session.on_gpu() && o.frames > 0, row, log);
  if (op_timer.steps() > 0) op_table(op_timer, tb.session.on_gpu(), row, log);
  return row;
}

}  // namespace ser::bench
