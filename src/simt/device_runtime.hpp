// src/simt/device_runtime.hpp — what emulated device code calls: the running CUDA thread's indices,
// the block barrier, warp operations and shared memory. Implemented by the block scheduler
// (block_scheduler.cpp); device_api.hpp wraps these in CUDA's spellings.
#pragma once
#include <cstddef>
#include <cstdint>

#include "simt/vector_types.hpp"

namespace simt {

// Indices of one CUDA thread, as device code reads them through threadIdx, blockIdx, ...
struct ThreadView {
  uint3 thread_idx{0, 0, 0};
  uint3 block_idx{0, 0, 0};
  dim3 block_dim;
  dim3 grid_dim;
};

// The CUDA thread the running fiber emulates (aborts outside a kernel). Not inline: device code never
// touches the runtime's thread-local state itself (sanitizer-instrumented code at -O2 computed its
// address wrongly inside fibers).
ThreadView& current_view();

// A call site of a barrier or warp operation (the rewritten sources keep the original file:line).
struct Site {
  const char* file = "";
  int line = 0;
};

// __syncthreads(): waits until every thread of the block that has not exited waits at this site.
void syncthreads(Site site);

enum class WarpKind : std::uint8_t { shfl_idx, shfl_up, shfl_down, shfl_xor, syncwarp };

// One lane's part in a warp operation: waits until every lane named in `mask` calls the same
// operation at the same site, then returns the value of the source lane CUDA's rules pick
// (`arg`: source lane, delta or lane mask). `value`: this lane's operand as raw bits.
std::uint64_t warp_op(WarpKind kind, unsigned mask, std::uint64_t value, int arg, int width, Site site);

// The block's static __shared__ variable `key` (the rewriter names each declaration), allocated on
// first use in this block, NaN-poisoned, exactly `bytes` long.
void* static_shared(const char* key, std::size_t bytes, std::size_t align);
// The block's dynamic shared memory (the launch's byte count, NaN-poisoned).
void* dynamic_shared(std::size_t align);

}  // namespace simt
