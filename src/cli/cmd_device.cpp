// ser device — what the CUDA probe found.
#include <iostream>

#include "cli/commands.hpp"
#include "ser/device.hpp"

namespace ser::cli {

void register_device(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("device", "Show the GPU ser would use, or why it falls back to the CPU");
  cmd->callback([] {
    const CudaProbe& p = probe_cuda();
    std::cout << "cpu: " << cpu_description() << "\n";
    std::cout << "cuda kernels built: " << (p.built_with_cuda ? "yes" : "no") << "\n";
    if (p.usable) {
      std::cout << "gpu: " << p.name << " (compute " << p.compute_major << "." << p.compute_minor << ", "
                << p.total_memory / (1 << 20) << " MiB), driver " << p.driver_version << ", runtime "
                << p.runtime_version << "\n";
    } else {
      std::cout << "gpu: none usable (" << p.reason << "); ser runs on the CPU\n";
    }
  });
}

}  // namespace ser::cli
