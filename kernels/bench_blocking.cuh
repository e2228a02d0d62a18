// kernels/bench_blocking.cuh — a kernel that holds a stream until the host lets it go, so that a
// benchmark can enqueue a whole timed sample (start event, the op's launches, end event) before the
// GPU starts on it: the sample then measures the GPU, not the host's launch rate. The technique
// of nvbench's blocking kernel. Used by src/bench/op_clock.cpp only.
// Host-only declarations, so C++ files may include it.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace ser::cuda {

// One thread spins until *release >= ticket (release: host-mapped pinned memory the host
// increments) or timeout_ns have passed on the GPU's global timer; then it sets *timed_out = 1
// (host-mapped) and returns. Checked launch.
void launch_block_stream(const volatile unsigned* release, unsigned ticket, int* timed_out,
                         std::uint64_t timeout_ns, cudaStream_t stream);

}  // namespace ser::cuda
