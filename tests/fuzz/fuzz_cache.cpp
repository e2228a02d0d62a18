// Fuzzes the HDF5 feature cache reader (read_cache): a cache it accepts must be self-consistent.
#include "fuzz_support.hpp"
#include "ser/cache.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = ser::fuzz::scratch_path("input.h5");
  ser::fuzz::write_input(path, data, size);
  ser::fuzz::expect_only_ser_errors([&] {
    const ser::FeatureCache c = ser::read_cache(path);
    const std::size_t n = c.n_utterances();
    if (c.offsets.size() != n + 1 || c.speakers.size() != n || c.paths.size() != n)
      ser::fuzz::broken_promise("per-utterance datasets of different lengths");
    for (std::size_t u = 0; u < n; ++u)
      if (c.offsets[u + 1] < c.offsets[u]) ser::fuzz::broken_promise("decreasing offsets");
    if (c.logmel.size() != static_cast<std::size_t>(c.total_frames()) * static_cast<std::size_t>(c.n_mels()))
      ser::fuzz::broken_promise("logmel rows differ from the offsets' frame count");
    for (const auto label : c.labels)
      if (label < 0 || static_cast<std::size_t>(label) >= c.class_names.size()) ser::fuzz::broken_promise("label out of range");
  });
  return 0;
}
