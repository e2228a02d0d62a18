// make_frontend: picks the CPU twin or one of the CUDA paths.
#include "ser/frontend.hpp"

#include "ser/error.hpp"

namespace ser {

std::unique_ptr<FrontEnd> make_cpu_frontend(const FeatureConfig& cfg, int cpu_threads);  // frontend_cpu.cpp

std::string to_string(FrontEndPath p) {
  switch (p) {
    case FrontEndPath::cpu: return "cpu";
    case FrontEndPath::cuda: return "cuda";
    case FrontEndPath::cufft: return "cufft";
  }
  return "?";
}

FrontEndPath parse_frontend_path(const std::string& s) {
  if (s == "cpu") return FrontEndPath::cpu;
  if (s == "cuda") return FrontEndPath::cuda;
  if (s == "cufft") return FrontEndPath::cufft;
  throw Error("front-end path: expected cpu, cuda or cufft, found '" + s + "'");
}

std::unique_ptr<FrontEnd> make_frontend(FrontEndPath path, const FeatureConfig& cfg, int cpu_threads) {
  cfg.validate();
  if (path == FrontEndPath::cpu) return make_cpu_frontend(cfg, cpu_threads);
  return make_cuda_frontend(path, cfg);
}

}  // namespace ser
