// kernels/bench_blocking.cu — the stream-holding kernel of bench_blocking.cuh.
#include "bench_blocking.cuh"
#include "cuda_check.cuh"

namespace ser::cuda {

namespace {

__device__ __forceinline__ unsigned long long global_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// Polls the host's release counter through the mapped pointer (volatile: re-read each time) with
// a short sleep between reads, so the one busy SM does not flood the PCIe link.
__global__ void block_stream_kernel(const volatile unsigned* release, unsigned ticket, int* timed_out,
                                    unsigned long long timeout_ns) {
  const unsigned long long t0 = global_ns();
  while (*release < ticket) {
    if (global_ns() - t0 > timeout_ns) {
      *timed_out = 1;
      return;
    }
    __nanosleep(500);
  }
}

}  // namespace

void launch_block_stream(const volatile unsigned* release, unsigned ticket, int* timed_out,
                         std::uint64_t timeout_ns, cudaStream_t stream) {
  block_stream_kernel<<<1, 1, 0, stream>>>(release, ticket, timed_out, static_cast<unsigned long long>(timeout_ns));
  SER_CUDA_CHECK_LAUNCH("block_stream_kernel");
}

}  // namespace ser::cuda
