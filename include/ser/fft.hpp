// ser/fft.hpp — ser's own FFT for the CPU twin (FFTW is GPL and stays out of the build).
// Iterative radix-2 in double precision: float in, float out, but the butterflies run in double so
// quiet bins next to loud ones keep their accuracy (the log of a quiet mel band magnifies any
// absolute error of the transform).
#pragma once
#include <complex>
#include <vector>

namespace ser {

class RealFft {
 public:
  explicit RealFft(int n);  // n: power of two >= 4
  int size() const { return n_; }
  // in: (n,) real; out: (n/2 + 1,) complex, out[k] = sum_j in[j] exp(-2 pi i j k / n).
  // scratch: caller-owned, resized as needed (lets threads share one plan).
  void forward(const float* in, std::complex<float>* out, std::vector<std::complex<double>>& scratch) const;

 private:
  int n_;
  std::vector<std::complex<double>> twiddle_;       // (n/4,) for the half-size complex FFT
  std::vector<std::complex<double>> post_twiddle_;  // (n/2,) splitting the packed real transform
  std::vector<int> bitrev_;                        // (n/2,)
};

// Complex in-place FFT of power-of-two size (forward sign -1).
void fft_inplace(std::complex<double>* data, int n);

}  // namespace ser
