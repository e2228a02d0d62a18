// Fuzzes audio decoding (libsndfile wrapper) and resampling: any bytes, as a file, through
// load_audio at 16 kHz. Seeds: WAV (PCM 8/16/24/32, float, odd chunks), FLAC, other rates.
#include <cmath>

#include "fuzz_support.hpp"
#include "ser/audio.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = ser::fuzz::scratch_path("input.audio");
  ser::fuzz::write_input(path, data, size);
  ser::fuzz::expect_only_ser_errors([&] {
    const ser::Audio a = ser::load_audio(path, 16000);
    if (a.sample_rate != 16000 || a.samples.empty()) ser::fuzz::broken_promise("decoded audio is empty or not at 16 kHz");
    for (const float v : a.samples)
      if (!(v >= -1.0f && v < 1.0f)) ser::fuzz::broken_promise("a decoded sample outside [-1, 1)");
  });
  return 0;
}
