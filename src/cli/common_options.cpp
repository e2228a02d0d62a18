#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "ser/device.hpp"
#include "ser/error.hpp"

namespace ser::cli {

CLI::Validator device_choice() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (value == "auto" || value == "cpu" || value == "cuda") return "";
        try {
          const int n = cuda_ordinal(value);
          if (n < 0) return "expected auto, cpu, cuda or cuda:N, found '" + value + "'";
          use_cuda_device(n);
        } catch (const Error& e) {
          return e.what();
        }
        value = "cuda";
        return "";
      },
      "auto|cpu|cuda|cuda:N");
}

void add_device_options(CLI::App& cmd, DeviceOptions& opt) {
  cmd.add_option("--device", opt.device, "auto (GPU when usable, else CPU), cpu, cuda or cuda:N (GPU N only)")
      ->transform(device_choice())
      ->capture_default_str();
  cmd.add_option("--kernels", opt.kernels, "GPU path: handwritten CUDA kernels or vendor (cuFFT)")
      ->check(CLI::IsMember({"handwritten", "vendor"}))
      ->capture_default_str();
  cmd.add_option("--threads", opt.threads, "CPU threads for the front-end and the engine (0 = all cores)")
      ->check(CLI::NonNegativeNumber)
      ->each([](const std::string& v) { set_cpu_threads(std::stoi(v)); })
      ->capture_default_str();
}

FrontEndPath resolve_frontend_path(const DeviceOptions& opt) {
  const Device d = select_device(parse_device_request(opt.device), std::cerr);
  if (d == Device::cpu) return FrontEndPath::cpu;
  return opt.kernels == "vendor" ? FrontEndPath::cufft : FrontEndPath::cuda;
}

FeatureConfig load_feature_config(const std::string& path) {
  if (path.empty()) return FeatureConfig{};
  std::ifstream in(path);
  if (!in) throw file_error(path, "cannot open the feature config");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return FeatureConfig::from_json(ss.str());
  } catch (const Error& e) {
    throw file_error(path, e.what());
  }
}

}  // namespace ser::cli
