// Sample-rate conversion with libsoxr fed in pieces: the streaming twin of resample.cpp, with the
// same quality and formats, so the samples equal the one-shot ones.
#include <soxr.h>

#include <cmath>
#include <string>
#include <vector>

#include "ser/audio_stream.hpp"
#include "ser/error.hpp"

namespace ser {

namespace {

// "resample 44100 -> 16000 Hz: WHAT", the form of resample()'s errors.
Error resample_error(int from_rate, int to_rate, const std::string& what) {
  return Error(std::string("resample ").append(std::to_string(from_rate)).append(" -> ")
                   .append(std::to_string(to_rate)).append(" Hz: ").append(what));
}

}  // namespace

StreamResampler::StreamResampler(int from_rate, int to_rate) : from_rate_(from_rate), to_rate_(to_rate) {
  if (from_rate <= 0 || to_rate <= 0) throw resample_error(from_rate, to_rate, "sample rates must be positive");
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  soxr_error_t err = nullptr;
  handle_ = soxr_create(double(from_rate), double(to_rate), 1, &err, &io, &quality, nullptr);
  if (err || !handle_) throw resample_error(from_rate, to_rate, std::string("cannot start: ").append(err ? err : "?"));
}

StreamResampler::~StreamResampler() { soxr_delete(handle_); }

void StreamResampler::process(const float* in, std::size_t n, std::vector<float>& out) {
  if (finished_) throw resample_error(from_rate_, to_rate_, "input after the end");
  if (n > 0) drain(in, n, out);
}

void StreamResampler::finish(std::vector<float>& out) {
  if (finished_) return;
  finished_ = true;
  drain(nullptr, 0, out);  // in == nullptr: soxr flushes its filter
}

// Runs soxr until it has taken all n samples (or, flushing, has nothing more to give).
void StreamResampler::drain(const float* in, std::size_t n, std::vector<float>& out) {
  const double ratio = double(to_rate_) / double(from_rate_);
  const std::size_t room = std::size_t(std::ceil(double(n) * ratio)) + 1024;  // the flush gives up to the filter's delay
  for (;;) {
    const std::size_t before = out.size();
    out.resize(before + room);
    std::size_t used = 0, made = 0;
    const soxr_error_t err = soxr_process(handle_, in, n, in ? &used : nullptr, out.data() + before, room, &made);
    out.resize(before + made);
    if (err) throw resample_error(from_rate_, to_rate_, std::string("failed: ").append(err));
    if (!in) {
      if (made == 0) return;
      continue;
    }
    in += used;
    n -= used;
    if (n == 0) return;
    if (used == 0 && made == 0) throw resample_error(from_rate_, to_rate_, "the resampler stopped taking input");
  }
}

}  // namespace ser
