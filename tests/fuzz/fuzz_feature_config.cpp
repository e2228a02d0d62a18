// Fuzzes the feature config JSON reader (the cache's feature_config attribute, `--features FILE`):
// a config it accepts must survive its own round trip.
#include "fuzz_support.hpp"
#include "ser/feature_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ser::fuzz::expect_only_ser_errors([&] {
    const ser::FeatureConfig c = ser::FeatureConfig::from_json(text);
    if (ser::FeatureConfig::from_json(c.to_json()).to_json() != c.to_json())
      ser::fuzz::broken_promise("an accepted feature config does not survive to_json/from_json");
  });
  return 0;
}
