// src/simt/cufft_standin.cpp — cuFFT's batched 1-D real-to-complex transform for the SIMT emulator,
// computed by ser's CPU real FFT (ser::RealFft, double-precision butterflies) for powers of two and
// by a direct DFT in double otherwise. Only what ser's cuFFT path plans: rank 1, R2C, unit stride.
#include <cufft.h>

#include <cmath>
#include <complex>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <vector>

#include "ser/fft.hpp"
#include "simt/runtime_state.hpp"

namespace {

struct Plan {
  bool made = false;
  long long n = 0, idist = 0, odist = 0, batch = 0;
  std::unique_ptr<ser::RealFft> fft;  // powers of two >= 4
};

struct Plans {
  std::mutex mutex;
  std::map<cufftHandle, Plan> plans;
  cufftHandle next = 1;
};
Plans& plans() {
  static Plans p;
  return p;
}

cufftResult refuse(cufftResult r, const char* why) {
  std::fprintf(stderr, "simt: cuFFT: %s\n", why);
  return r;
}

bool power_of_two(long long n) { return n >= 4 && (n & (n - 1)) == 0; }

// out[k] = sum_j in[j] exp(-2 pi i j k / n), k = 0 .. n/2.
void direct_dft(const float* in, long long n, cufftComplex* out) {
  for (long long k = 0; k <= n / 2; ++k) {
    std::complex<double> acc = 0;
    for (long long j = 0; j < n; ++j)
      acc += static_cast<double>(in[j]) * std::polar(1.0, -2.0 * std::numbers::pi * static_cast<double>((j * k) % n) / static_cast<double>(n));
    out[k] = cufftComplex{static_cast<float>(acc.real()), static_cast<float>(acc.imag())};
  }
}

}  // namespace

cufftResult cufftCreate(cufftHandle* plan) {
  Plans& p = plans();
  const std::lock_guard<std::mutex> lock(p.mutex);
  *plan = p.next++;
  p.plans[*plan] = Plan{};
  return CUFFT_SUCCESS;
}

cufftResult cufftDestroy(cufftHandle plan) {
  Plans& p = plans();
  const std::lock_guard<std::mutex> lock(p.mutex);
  return p.plans.erase(plan) ? CUFFT_SUCCESS : CUFFT_INVALID_PLAN;
}

cufftResult cufftSetStream(cufftHandle plan, cudaStream_t) {
  Plans& p = plans();
  const std::lock_guard<std::mutex> lock(p.mutex);
  return p.plans.count(plan) ? CUFFT_SUCCESS : CUFFT_INVALID_PLAN;
}

cufftResult cufftMakePlanMany64(cufftHandle plan, int rank, long long* n, long long* inembed, long long istride,
                                long long idist, long long* onembed, long long ostride, long long odist, cufftType type,
                                long long batch, std::size_t* work_size) {
  if (rank != 1 || type != CUFFT_R2C) return refuse(CUFFT_NOT_SUPPORTED, "only rank-1 R2C plans are emulated");
  if (inembed || onembed || istride != 1 || ostride != 1)
    return refuse(CUFFT_NOT_SUPPORTED, "only unit-stride, non-embedded layouts are emulated");
  if (!n || n[0] < 2 || batch < 1 || idist < n[0] || odist < n[0] / 2 + 1) return CUFFT_INVALID_SIZE;
  Plans& p = plans();
  const std::lock_guard<std::mutex> lock(p.mutex);
  const auto it = p.plans.find(plan);
  if (it == p.plans.end()) return CUFFT_INVALID_PLAN;
  Plan& pl = it->second;
  pl.made = true;
  pl.n = n[0];
  pl.idist = idist;
  pl.odist = odist;
  pl.batch = batch;
  if (power_of_two(pl.n)) pl.fft = std::make_unique<ser::RealFft>(static_cast<int>(pl.n));
  if (work_size) *work_size = 0;
  return CUFFT_SUCCESS;
}

cufftResult cufftExecR2C(cufftHandle plan, cufftReal* idata, cufftComplex* odata) {
  Plans& p = plans();
  const std::lock_guard<std::mutex> lock(p.mutex);
  const auto it = p.plans.find(plan);
  if (it == p.plans.end() || !it->second.made) return CUFFT_INVALID_PLAN;
  const Plan& pl = it->second;
  const auto in_bytes = static_cast<std::size_t>((pl.batch - 1) * pl.idist + pl.n) * sizeof(float);
  const auto out_bytes = static_cast<std::size_t>((pl.batch - 1) * pl.odist + pl.n / 2 + 1) * sizeof(cufftComplex);
  if (!simt::is_device_range(idata, in_bytes) || !simt::is_device_range(odata, out_bytes))
    return refuse(CUFFT_EXEC_FAILED, "cufftExecR2C: input or output is not inside one device allocation");
  std::vector<std::complex<double>> scratch;
  for (long long b = 0; b < pl.batch; ++b) {
    const float* in = idata + b * pl.idist;
    cufftComplex* out = odata + b * pl.odist;
    if (pl.fft) pl.fft->forward(in, reinterpret_cast<std::complex<float>*>(out), scratch);
    else direct_dft(in, pl.n, out);
  }
  return CUFFT_SUCCESS;
}
