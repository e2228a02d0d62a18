// ser bench kernels — every training op at the shapes a model uses, against cuDNN / a copy of the
// same bytes, measured in the same run (src/bench/kernel_bench.hpp; bench/README.md).
#include <iostream>
#include <memory>
#include <string>

#include "bench/kernel_bench.hpp"
#include "cli/commands.hpp"
#include "util/atomic_file.hpp"

namespace ser::cli {

void register_bench_kernels(CLI::App& bench) {
  auto* cmd = bench.add_subcommand("kernels", "Each training op at the model's shapes: TFLOP/s vs cuDNN, GB/s vs a copy");
  auto o = std::make_shared<bench::KernelBenchOptions>();
  auto out = std::make_shared<std::string>();
  auto json = std::make_shared<std::string>();
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N (GPU N only)")->transform(device_choice())
      ->capture_default_str();
  cmd->add_option("--config", o->config, "run config (TOML) whose model gives the shapes; default: built-in cnn_attn");
  cmd->add_option("--batch", o->batch, "utterances per batch")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--frames", o->frames, "frames per utterance (all at full length)")->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--mels", o->n_mels, "mel bands")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--classes", o->n_classes, "output classes")->check(CLI::Range(2, 1000))->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed calls before timing")->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--repeat", o->repeat, "timed samples per op (the median is reported)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--out", *out, "also write the Markdown report to this file");
  cmd->add_option("--json", *json, "also write the results as JSON");
  cmd->callback([o, out, json] {
    o->command = "ser bench kernels --device " + o->device + (o->config.empty() ? "" : " --config " + o->config) +
                 " --batch " + std::to_string(o->batch) + " --frames " + std::to_string(o->frames) + " --mels " +
                 std::to_string(o->n_mels) + " --warmup " + std::to_string(o->warmup) + " --repeat " +
                 std::to_string(o->repeat);
    const bench::KernelBenchReport r = bench::run_kernel_bench(*o, std::cerr);
    const std::string md = bench::kernel_bench_markdown(r);
    std::cout << md;
    if (!out->empty()) {
      util::write_text_atomic(*out, md);
      std::cerr << "wrote " << *out << "\n";
    }
    if (!json->empty()) {
      util::write_text_atomic(*json, bench::kernel_bench_json(r).dump(2) + "\n");
      std::cerr << "wrote " << *json << "\n";
    }
  });
}

}  // namespace ser::cli
