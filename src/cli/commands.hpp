// The ser command's subcommands. Each file registers one subcommand on the root app.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "ser/extract.hpp"
#include "ser/feature_config.hpp"
#include "ser/frontend.hpp"

namespace ser::cli {

void register_features(CLI::App& app);
void register_inspect(CLI::App& app);
void register_corpus(CLI::App& app);
void register_bench(CLI::App& app);
void register_demo(CLI::App& app);
void register_device(CLI::App& app);
void register_train(CLI::App& app);
void register_bench_train(CLI::App& bench);  // `ser bench train`, under `ser bench`
void register_bench_kernels(CLI::App& bench);  // `ser bench kernels`, under `ser bench`
void register_profile(CLI::App& app);
void register_export(CLI::App& app);   // ser export (safetensors / ONNX)
void register_predict(CLI::App& app);  // ser predict
void register_experiment(CLI::App& app);

// Options several subcommands share.
struct DeviceOptions {
  std::string device = "auto";        // auto | cpu | cuda (cuda:N is read as cuda, device_choice)
  std::string kernels = "handwritten";  // handwritten | vendor (cuFFT) on the GPU
  int threads = 0;                    // CPU threads, 0 = all cores
};
void add_device_options(CLI::App& cmd, DeviceOptions& opt);
// The --device check of every command: auto, cpu, cuda or cuda:N. "cuda:N" chooses GPU N for the
// whole process (ser::use_cuda_device) and reads as "cuda" from then on.
CLI::Validator device_choice();
// Resolves --device/--kernels to a front-end path, printing the CPU fall-back notice.
FrontEndPath resolve_frontend_path(const DeviceOptions& opt);

// The default config, or the JSON file given with --feature-config.
FeatureConfig load_feature_config(const std::string& path);

}  // namespace ser::cli
