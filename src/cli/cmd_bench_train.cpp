// ser bench train — training speed, memory and per-layer time on this machine.
#include <iostream>

#include "cli/commands.hpp"
#include "ser/device.hpp"
#include "bench/train_bench.hpp"
#include "util/atomic_file.hpp"

namespace ser::cli {

void register_bench_train(CLI::App& bench) {
  auto* cmd = bench.add_subcommand("train", "Training throughput, peak memory and per-layer forward/backward time");
  auto o = std::make_shared<bench::BenchTrainOptions>();
  auto json = std::make_shared<std::string>();
  auto dev = std::make_shared<DeviceOptions>();
  dev->kernels = "all";
  cmd->add_option("--cache", o->cache, "feature cache")->required();
  cmd->add_option("--config", o->config, "run config (TOML); default: built-in cnn_attn");
  cmd->add_option("--steps", o->steps, "timed training steps")->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "override [train] batch_size");
  cmd->add_option("--frames", o->frames,
                  "every utterance exactly this many frames, full mask (identical work, as torch_reference.py bench)");
  cmd->add_option("--json", *json, "also write the results as JSON");
  cmd->add_flag("--kernel-timing", o->kernel_timing,
                "also time every op dispatch over a few more steps (CUDA events / steady_clock) and print a per-op table");
  cmd->add_option("--device", dev->device, "auto, cpu, cuda or cuda:N (GPU N only)")->transform(device_choice())->capture_default_str();
  cmd->add_option("--kernels", dev->kernels, "GPU path: handwritten, vendor or all")
      ->check(CLI::IsMember({"handwritten", "vendor", "all"}))->capture_default_str();
  cmd->callback([o, json, dev] {
    nlohmann::json rows = nlohmann::json::array();
    std::cout << "ser bench train on " << cpu_description() << "\n";
    const bool gpu = dev->device != "cpu" && probe_cuda().usable;
    if (dev->device == "cpu" || dev->device == "auto") {
      o->device = "cpu";
      o->kernels = "handwritten";
      rows.push_back(bench::bench_train(*o, std::cout));
    }
    if (gpu || dev->device == "cuda") {
      for (const char* k : {"handwritten", "vendor"}) {
        if (dev->kernels != "all" && dev->kernels != k) continue;
        o->device = "cuda";
        o->kernels = k;
        rows.push_back(bench::bench_train(*o, std::cout));
      }
    }
    if (!json->empty()) util::write_file_atomic(*json, [&](std::ostream& os) { os << rows.dump(2) << "\n"; });
  });
}

}  // namespace ser::cli

namespace ser::cli {

void register_profile(CLI::App& app) {
  auto* cmd = app.add_subcommand("profile", "A few training steps inside a CUDA profiler capture window, with NVTX "
                                             "ranges per phase and layer (docs/profiling.md)");
  auto o = std::make_shared<bench::BenchTrainOptions>();
  o->steps = 5;
  o->profile = true;
  auto dev = std::make_shared<DeviceOptions>();
  cmd->add_option("--cache", o->cache, "feature cache")->required();
  cmd->add_option("--config", o->config, "run config (TOML); default: built-in cnn_attn");
  cmd->add_option("--steps", o->steps, "training steps inside the capture window (after 2 warm-up steps)")
      ->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "override [train] batch_size");
  add_device_options(*cmd, *dev);
  cmd->callback([o, dev] {
    o->device = dev->device;
    o->kernels = dev->kernels;
    bench::bench_train(*o, std::cout);
  });
}

}  // namespace ser::cli
