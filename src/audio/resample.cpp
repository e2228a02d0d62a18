// Sample-rate conversion with libsoxr (high quality, float32 in and out, one shot).
#include <soxr.h>

#include <cmath>
#include <string>
#include <vector>

#include "ser/audio.hpp"
#include "ser/error.hpp"

namespace ser {

std::vector<float> resample(const std::vector<float>& samples, int from_rate, int to_rate) {
  if (from_rate <= 0 || to_rate <= 0) {
    throw Error("resample: sample rates must be positive, got " + std::to_string(from_rate) + " -> " +
                std::to_string(to_rate));
  }
  if (from_rate == to_rate || samples.empty()) return samples;

  // soxr_oneshot flushes the filter at the end, so it yields round(n * to / from) samples; one
  // spare slot guards against rounding in that count.
  const double ratio = double(to_rate) / double(from_rate);
  const std::size_t capacity = std::size_t(std::ceil(double(samples.size()) * ratio)) + 1;
  std::vector<float> out(capacity);

  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  std::size_t done = 0;
  const soxr_error_t err = soxr_oneshot(double(from_rate), double(to_rate), 1, samples.data(),
                                        samples.size(), nullptr, out.data(), out.size(), &done, &io,
                                        &quality, nullptr);
  if (err) {
    throw Error("resample " + std::to_string(from_rate) + " -> " + std::to_string(to_rate) +
                " Hz failed: " + std::string(err));
  }
  out.resize(done);
  return out;
}

}  // namespace ser
