// ser's FFT: iterative radix-2 complex FFT and a real FFT through the half-size complex transform.
// Arithmetic is written out by hand: std::complex multiplication without -ffast-math goes through
// a slow NaN-checking library call.
#include "ser/fft.hpp"

#include <cmath>
#include <numbers>

#include "ser/error.hpp"

namespace ser {

namespace {

bool is_power_of_two(int n) { return n > 0 && (n & (n - 1)) == 0; }

// In-place iterative radix-2 DIT on interleaved (re, im) data whose input is already in
// bit-reversed order. tw: (n/2,) twiddles exp(-2 pi i j / n).
template <typename T, typename TW>
void butterflies(T* re_im, int n, const TW* tw) {
  for (int len = 2; len <= n; len <<= 1) {
    const int half = len >> 1;
    const int stride = n / len;
    for (int start = 0; start < n; start += len) {
      for (int j = 0; j < half; ++j) {
        const T wr = static_cast<T>(tw[j * stride].real()), wi = static_cast<T>(tw[j * stride].imag());
        T* a = re_im + 2 * (start + j);
        T* b = re_im + 2 * (start + j + half);
        const T br = b[0] * wr - b[1] * wi;
        const T bi = b[0] * wi + b[1] * wr;
        b[0] = a[0] - br;
        b[1] = a[1] - bi;
        a[0] += br;
        a[1] += bi;
      }
    }
  }
}

std::vector<int> bit_reversal(int n) {
  std::vector<int> rev(n, 0);
  int bits = 0;
  while ((1 << bits) < n) ++bits;
  for (int i = 0; i < n; ++i) {
    int r = 0;
    for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  return rev;
}

}  // namespace

void fft_inplace(std::complex<double>* data, int n) {
  if (!is_power_of_two(n)) throw Error("fft_inplace: size must be a power of two, found " + std::to_string(n));
  const std::vector<int> rev = bit_reversal(n);
  for (int i = 0; i < n; ++i)
    if (rev[i] > i) std::swap(data[i], data[rev[i]]);
  std::vector<std::complex<double>> tw(std::max(1, n / 2));
  for (int j = 0; j < n / 2; ++j) tw[j] = std::polar(1.0, -2.0 * std::numbers::pi * j / n);
  butterflies(reinterpret_cast<double*>(data), n, tw.data());
}

RealFft::RealFft(int n) : n_(n) {
  if (!is_power_of_two(n) || n < 4) throw Error("RealFft: size must be a power of two >= 4, found " + std::to_string(n));
  const int half = n / 2;
  twiddle_.resize(std::max(1, half / 2));
  for (int j = 0; j < half / 2; ++j)
    twiddle_[j] = std::polar(1.0, -2.0 * std::numbers::pi * j / half);
  post_twiddle_.resize(half);
  for (int k = 0; k < half; ++k)
    post_twiddle_[k] = std::polar(1.0, -2.0 * std::numbers::pi * k / n);
  bitrev_ = bit_reversal(half);
}

void RealFft::forward(const float* in, std::complex<float>* out, std::vector<std::complex<double>>& scratch) const {
  const int half = n_ / 2;
  scratch.resize(half);
  // Pack even samples as real parts and odd samples as imaginary parts, in bit-reversed order.
  for (int k = 0; k < half; ++k) scratch[bitrev_[k]] = {in[2 * k], in[2 * k + 1]};
  double* z = reinterpret_cast<double*>(scratch.data());
  butterflies(z, half, twiddle_.data());
  // Split: X[k] = E[k] + w^k O[k], with E = (Z[k] + conj Z[N-k]) / 2, O = (Z[k] - conj Z[N-k]) / 2i.
  out[0] = {static_cast<float>(z[0] + z[1]), 0.0f};
  out[half] = {static_cast<float>(z[0] - z[1]), 0.0f};
  for (int k = 1; k < half; ++k) {
    const double zr = z[2 * k], zi = z[2 * k + 1];
    const double cr = z[2 * (half - k)], ci = -z[2 * (half - k) + 1];  // conj Z[N-k]
    const double er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci);
    const double dr = 0.5 * (zr - cr), di = 0.5 * (zi - ci);
    const double orr = di, oi = -dr;  // d / i
    const double wr = post_twiddle_[k].real(), wi = post_twiddle_[k].imag();
    out[k] = {static_cast<float>(er + orr * wr - oi * wi), static_cast<float>(ei + orr * wi + oi * wr)};
  }
}

}  // namespace ser
