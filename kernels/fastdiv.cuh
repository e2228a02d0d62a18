// kernels/fastdiv.cuh — division by a run-time constant as a multiply-high, add and shift (the
// round-up method of Granlund & Montgomery, as PyTorch's IntDivider does it). Exact for
// 0 <= n < 2^31 and 1 <= d < 2^31. The kernels index pixels with it instead of the ~20-instruction
// integer division. Plain C++ too (host fallback for __umulhi), so tests check it on the CPU.
#pragma once
#include <cstdint>

#include "ser/host_device.hpp"

namespace ser::cuda {

struct FastDiv {
  std::uint32_t d = 1;      // divisor
  std::uint32_t magic = 1;  // ceil-ish 2^32 * (2^shift - d) / d + 1
  std::uint32_t shift = 0;  // ceil(log2 d)

  FastDiv() = default;
  explicit FastDiv(int divisor) : d(static_cast<std::uint32_t>(divisor)) {
    while ((std::uint32_t{1} << shift) < d) ++shift;
    const std::uint64_t one = 1;
    magic = static_cast<std::uint32_t>(((one << 32) * ((one << shift) - d)) / d + 1);
  }

  SER_HD int div(int n) const {
    const auto un = static_cast<std::uint32_t>(n);
#ifdef __CUDA_ARCH__
    const std::uint32_t hi = __umulhi(un, magic);
#else
    const auto hi = static_cast<std::uint32_t>((static_cast<std::uint64_t>(un) * magic) >> 32);
#endif
    return static_cast<int>((hi + un) >> shift);
  }
  // q = n / d, r = n - q * d
  SER_HD void divmod(int n, int& q, int& r) const {
    q = div(n);
    r = n - q * static_cast<int>(d);
  }
};

}  // namespace ser::cuda
