// src/simt/bench_blocking_standin.cpp — kernels/bench_blocking.cu's launcher for the SIMT emulator.
// That kernel holds a stream until the host releases it (inline PTX %globaltimer, __nanosleep), so a
// benchmark can queue a whole timed sample first. The emulator's streams run every launch at once,
// so there is nothing to hold and nothing to time: the launch returns at once, never timed out.
#include "bench_blocking.cuh"

namespace ser::cuda {

void launch_block_stream(const volatile unsigned*, unsigned, int* timed_out, std::uint64_t, cudaStream_t) {
  (void)timed_out;  // left as the host set it: not timed out
}

}  // namespace ser::cuda
