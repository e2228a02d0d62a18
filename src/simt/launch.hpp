// src/simt/launch.hpp — kernel launches in the SIMT emulator. The source rewriter turns
//   kernel<<<grid, block, smem, stream>>>(args...)
// into
//   ::simt::launch(kernel, "kernel", __FILE__, __LINE__, grid, block, smem, stream)(args...)
// which converts the arguments to the kernel's parameter types (as a CUDA launch does), checks the
// configuration against the GPU's limits and runs every block before it returns (streams are
// synchronous here). Errors land where CUDA puts them: cudaPeekAtLastError / cudaGetLastError.
#pragma once
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "simt/vector_types.hpp"

struct CUstream_st;

namespace simt {

// Where a launch was written and what it launches (for diagnostics).
struct LaunchSite {
  const char* kernel = "";
  const char* file = "";
  int line = 0;
};

// One grid: its shape, the kernel (identity, for its attributes) and the type-erased body that
// every CUDA thread runs.
struct GridJob {
  dim3 grid, block;
  std::size_t dynamic_smem = 0;
  const void* kernel = nullptr;
  LaunchSite site;
  void (*invoke)(const void* body) = nullptr;
  const void* body = nullptr;
};

// Runs every block of `job` (checks first); records any error as the calling thread's last CUDA
// error (an int: the cudaError_t of the shim).
void run_grid(const GridJob& job);

template <class... P>
class Launch {
 public:
  Launch(void (*kernel)(P...), LaunchSite site, dim3 grid, dim3 block, std::size_t smem, CUstream_st* stream)
      : kernel_(kernel), site_(site), grid_(grid), block_(block), smem_(smem) {
    (void)stream;  // work runs at once: every stream is synchronous
  }

  template <class... A>
  void operator()(A&&... a) const {
    static_assert(sizeof...(A) == sizeof...(P), "kernel launched with the wrong number of arguments");
    // The launch's copy of the arguments, converted to the parameter types; each CUDA thread gets
    // its own copy of the parameters when the body calls the kernel.
    const std::tuple<std::decay_t<P>...> args(static_cast<std::decay_t<P>>(std::forward<A>(a))...);
    const auto body = [this, &args] { std::apply(kernel_, args); };
    GridJob job;
    job.grid = grid_;
    job.block = block_;
    job.dynamic_smem = smem_;
    job.kernel = reinterpret_cast<const void*>(kernel_);
    job.site = site_;
    job.invoke = [](const void* b) { (*static_cast<const decltype(body)*>(b))(); };
    job.body = &body;
    run_grid(job);
  }

 private:
  void (*kernel_)(P...);
  LaunchSite site_;
  dim3 grid_, block_;
  std::size_t smem_;
};

template <class... P>
Launch<P...> launch(void (*kernel)(P...), const char* name, const char* file, int line, dim3 grid, dim3 block,
                    std::size_t smem = 0, CUstream_st* stream = nullptr) {
  return Launch<P...>(kernel, LaunchSite{name, file, line}, grid, block, smem, stream);
}

}  // namespace simt
