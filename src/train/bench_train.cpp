// src/train/bench_train.cpp — timing training steps and each layer's forward and backward.
#include "train/bench_train.hpp"

#include <cstdio>
#include <numeric>
#include <ostream>

#include "nn/kernel_timer.hpp"
#include "nn/model.hpp"
#include "nn/nvtx.hpp"
#include "ser/cache.hpp"
#include "ser/classic.hpp"
#include "ser/device.hpp"
#include "ser/model_config.hpp"
#include "train/engine_session.hpp"
#include "train/optimizer.hpp"
#include "train/train_step.hpp"
#include "util/wall_clock.hpp"
#include "ser/error.hpp"

namespace ser::train {

namespace {

// Makes b exactly `frames` frames long with every frame valid: b was cropped to at most `frames`
// by the BatchMaker; shorter utterances are zero-padded and their lengths set to `frames`.
void force_full_frames(HostBatch& b, int frames) {
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

}  // namespace

nlohmann::json bench_train(const BenchTrainOptions& o, std::ostream& log) {
  RunConfig rc = o.config.empty() ? RunConfig{} : load_run_config(o.config);
  if (o.batch_size > 0) rc.train.batch_size = o.batch_size;
  const FeatureCache cache = rc.model.functionals == "utterance" ? classic::with_utterance_features(read_cache(o.cache))
                                                                   : read_cache(o.cache);
  const int k = static_cast<int>(cache.class_names.size());
  std::vector<int> all(cache.n_utterances());
  std::iota(all.begin(), all.end(), 0);
  const Normalizer norm = fit_normalizer(cache, all);
  EngineSession session(o.device, o.kernels, false, log);
  nn::Model<float> model(rc.model, nn::ModelInputs{cache.n_mels(),
                                                   rc.model.uses_functionals() ? static_cast<int>(cache.functional_names.size()) : 0, k});
  BatchMaker maker(cache, norm, model.min_frames());
  const auto batches = epoch_batches(all, maker, rc.train.batch_size, rc.train.bucket_batches, rc.train.max_frames,
                                     rc.train.seed, 0);
  const int crop = o.frames > 0 ? o.frames : rc.train.max_frames;
  if (o.frames > 0 && o.frames < model.min_frames())
    throw Error("bench train: --frames " + std::to_string(o.frames) + " is below the model's minimum of " +
                std::to_string(model.min_frames()) + " frames");
  int max_frames = o.frames;
  if (o.frames <= 0)
    for (int u : all) max_frames = std::max(max_frames, maker.length_of(u, crop));
  std::size_t free0 = 0, total0 = 0;
  nn::device_memory_info(session.ctx().device, &free0, &total0);
  model.plan(session.ctx(), rc.train.batch_size, max_frames, rc.train.seed);
  session.attach(model);
  Optimizer opt(session.ctx(), model.param_table(), rc.train);
  std::vector<float> w(static_cast<std::size_t>(k), 1.0f);
  session.set_class_weights(w);
  session.set_label_smoothing(rc.train.label_smoothing);
  std::size_t free1 = 0, total1 = 0;
  nn::device_memory_info(session.ctx().device, &free1, &total1);
  const double hop_s = double(cache.config.logmel.hop_length) / cache.config.logmel.sample_rate;

  // Up to 8 batches, cycled; with --frames only full ones (batch_size utterances each).
  std::vector<HostBatch> host;
  for (const auto& ids : batches) {
    if (host.size() == 8) break;
    if (o.frames > 0 && static_cast<int>(ids.size()) != rc.train.batch_size) continue;
    maker.make(ids, crop, 1, host.emplace_back());
    if (o.frames > 0) force_full_frames(host.back(), o.frames);
  }
  if (host.empty())
    throw Error("bench train: " + o.cache + " has fewer than batch_size = " + std::to_string(rc.train.batch_size) +
                " utterances");
  auto step = [&](const HostBatch& b, std::int64_t s) {
    session.load_batch(b);
    train_step(model, session, opt, b.n, static_cast<std::uint64_t>(s), 1e-4, false);
  };
  for (int s = 0; s < 2; ++s) step(host[static_cast<std::size_t>(s) % host.size()], s);
  nn::synchronize(session.ctx());
  double utts = 0, frames = 0;
  if (o.profile) nn::profiler_start();
  const double t0 = now_seconds();
  for (int s = 0; s < o.steps; ++s) {
    const nn::NvtxRange range("train step");
    const HostBatch& b = host[static_cast<std::size_t>(s) % host.size()];
    step(b, s);
    utts += b.n;
    for (int l : b.lengths) frames += l;
  }
  nn::synchronize(session.ctx());
  const double secs = now_seconds() - t0;
  if (o.profile) nn::profiler_stop();

  // Inference on the same batches: forward only, no gradients.
  double eval_utts = 0;
  const double e0 = now_seconds();
  for (int s = 0; s < o.steps; ++s) {
    const HostBatch& b = host[static_cast<std::size_t>(s) % host.size()];
    session.load_batch(b);
    model.forward(session.ctx(), false, 0);
    eval_utts += b.n;
  }
  nn::synchronize(session.ctx());
  const double eval_secs = now_seconds() - e0;

  // Per-layer times: a few more steps with a synchronisation after every layer.
  model.set_layer_timing(true);
  std::vector<double> fwd(model.layer_count(), 0), bwd(model.layer_count(), 0);
  const int timed = o.profile ? 0 : std::min(o.steps, 5);  // profiling: the window above is what counts
  for (int s = 0; s < timed; ++s) {
    step(host[static_cast<std::size_t>(s) % host.size()], s);
    for (std::size_t i = 0; i < model.layer_count(); ++i) {
      fwd[i] += model.forward_seconds()[i] / std::max(timed, 1);
      bwd[i] += model.backward_seconds()[i] / std::max(timed, 1);
    }
  }
  model.set_layer_timing(false);

  // Per-op times: a few more steps with every op dispatch bracketed (events on the GPU, read after
  // the steps; no synchronisation per op).
  nn::KernelTimer op_timer(session.ctx());
  if (o.kernel_timing && !o.profile) {
    op_timer.start_recording();
    for (int s = 0; s < std::min(o.steps, 5); ++s) {
      op_timer.begin_step();
      step(host[static_cast<std::size_t>(s) % host.size()], s);
      op_timer.end_step();
    }
    op_timer.stop_recording();
    op_timer.resolve();
  }

  // CPU: every engine buffer alive now (model, optimizer, batch), as allocated.
  const std::size_t peak = session.on_gpu() ? free0 - free1 : nn::live_bytes(Device::cpu);
  nlohmann::json row{{"device", session.describe()}, {"model", rc.model.name}, {"batch_size", rc.train.batch_size},
                     {"frames", o.frames},
                     {"n_mels", model.inputs().n_mels}, {"n_prosody", model.inputs().n_prosody},
                     {"n_classes", k}, {"steps", o.steps}, {"seconds", secs},
                     {"train_utterances_per_s", utts / secs}, {"eval_utterances_per_s", eval_utts / eval_secs},
                     {"audio_seconds_per_second", frames * hop_s / secs}, {"peak_memory_bytes", peak},
                     {"parameters", model.param_table().payload()}, {"layers", nlohmann::json::array()}};
  char line[240];
  log << "\n" << row["device"].get<std::string>() << ": " << rc.model.name << ", batch " << rc.train.batch_size << "\n";
  std::snprintf(line, sizeof line,
                "  %.1f training utterances/s, %.0f audio-s/s, %.1f inference utterances/s, peak memory %.1f MiB (%s)\n",
                utts / secs, frames * hop_s / secs, eval_utts / eval_secs, peak / 1048576.0,
                session.on_gpu() ? "device memory taken" : "every engine buffer held");
  log << line;
  if (o.profile) {
    log << "  profiled " << o.steps << " steps between cudaProfilerStart and cudaProfilerStop\n";
    return row;
  }
  // GFLOP/s of the layers whose work is counted (convolutions, attention, linear) on the CPU, with
  // --frames (every timed step then has the same dims): backward is two products of the forward's
  // size (data and weight gradients), one for the first layer (no dx).
  const bool gflops = !session.on_gpu() && o.frames > 0;
  const CpuPeak peak_fma = gflops ? cpu_fma_peak() : CpuPeak{};
  if (gflops) log << "  FP32 peak: " << peak_fma.how << "\n";
  log << "  | layer | forward ms | backward ms |" << (gflops ? " forward GFLOP/s | backward GFLOP/s | % of peak |" : "")
      << "\n  |---|---:|---:|" << (gflops ? "---:|---:|---:|" : "") << "\n";
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    const double f_flops = model.layer(i).forward_flops(model.current_dims()[i]);
    const double b_flops = f_flops * (i == 0 ? 1.0 : 2.0);
    std::snprintf(line, sizeof line, "  | %zu %s | %.3f | %.3f |", i, model.layer(i).describe().c_str(), fwd[i] * 1e3,
                  bwd[i] * 1e3);
    log << line;
    nlohmann::json layer{{"layer", model.layer(i).describe()}, {"forward_ms", fwd[i] * 1e3}, {"backward_ms", bwd[i] * 1e3}};
    if (gflops && f_flops > 0 && fwd[i] > 0 && bwd[i] > 0) {
      const double gf = f_flops / fwd[i] / 1e9, gb = b_flops / bwd[i] / 1e9;
      const double pct = 100.0 * (f_flops + b_flops) / (fwd[i] + bwd[i]) / peak_fma.flops_per_second;
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
  if (op_timer.steps() > 0) {
    log << "\n  per-op time over " << op_timer.steps() << " steps (" << (session.on_gpu() ? "CUDA events" : "steady_clock")
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
  return row;
}

}  // namespace ser::train
