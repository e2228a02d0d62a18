// src/simt/grid.cpp — a kernel launch: the configuration checked against the GPU's limits (as the
// CUDA runtime refuses a bad launch), then every block run in order on this OS thread.
#include <cuda_runtime.h>

#include <string>

#include "simt/block_scheduler.hpp"
#include "simt/runtime_state.hpp"
#include "simt/sanitizer_hooks.hpp"

namespace simt {

namespace {

std::string dims(dim3 d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

std::string launch_name(const GridJob& job) {
  return std::string("kernel ") + job.site.kernel + " launched at " + job.site.file + ":" + std::to_string(job.site.line);
}

// "" when CUDA would accept the launch.
std::string configuration_error(const GridJob& job) {
  const dim3 b = job.block, g = job.grid;
  if (b.x == 0 || b.y == 0 || b.z == 0 || g.x == 0 || g.y == 0 || g.z == 0)
    return "grid " + dims(g) + " or block " + dims(b) + " has a zero dimension";
  if (b.x > 1024 || b.y > 1024 || b.z > 64 || static_cast<unsigned long long>(b.x) * b.y * b.z > 1024)
    return "block " + dims(b) + " exceeds 1024 threads per block (x, y <= 1024, z <= 64)";
  if (g.x > 2147483647u || g.y > 65535 || g.z > 65535)
    return "grid " + dims(g) + " exceeds the grid limits (x < 2^31, y and z <= 65535)";
  const std::size_t limit = max_dynamic_shared(job.kernel);
  if (job.dynamic_smem > limit)
    return std::to_string(job.dynamic_smem) + " bytes of dynamic shared memory exceed the kernel's limit of " +
           std::to_string(limit) + (limit == kDefaultSharedLimit ? " (48 KiB unless raised with cudaFuncSetAttribute)" : "");
  return "";
}

}  // namespace

void run_grid(const GridJob& job) {
  if (const std::string bad = configuration_error(job); !bad.empty()) {
    fail(bad.find("shared memory") != std::string::npos ? cudaErrorInvalidValue : cudaErrorInvalidConfiguration,
         launch_name(job) + ": " + bad);
    return;
  }
  static const Schedule schedule = schedule_from_environment();
  BlockScheduler& scheduler = this_thread_scheduler();
  char grid_token = 0;  // ThreadSanitizer: every CUDA thread's writes -> the host after the launch
  const std::size_t shared_limit = max_dynamic_shared(job.kernel) > kDefaultSharedLimit ? kOptinSharedLimit : kDefaultSharedLimit;
  for (unsigned z = 0; z < job.grid.z; ++z)
    for (unsigned y = 0; y < job.grid.y; ++y)
      for (unsigned x = 0; x < job.grid.x; ++x) {
        const std::string error = scheduler.run_block(job, uint3{x, y, z}, schedule, &grid_token);
        if (!error.empty()) {
          fail(cudaErrorLaunchFailure, launch_name(job) + " (schedule " + to_string(schedule) + "), " + error);
          hooks::tsan_acquire(&grid_token);
          return;
        }
        if (scheduler.shared_bytes_used() > shared_limit) {
          fail(cudaErrorLaunchOutOfResources,
               launch_name(job) + ": block " + dims(dim3(x, y, z)) + " used " + std::to_string(scheduler.shared_bytes_used()) +
                   " bytes of shared memory (static + dynamic), more than the " + std::to_string(shared_limit) + " a block may have");
          hooks::tsan_acquire(&grid_token);
          return;
        }
      }
  hooks::tsan_acquire(&grid_token);
}

}  // namespace simt
