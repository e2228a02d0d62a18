// Fuzzes the TOML readers: run configs (configs/*.toml, `ser train --config`) and experiment files
// (experiments/*.toml), both on every input. An accepted run config must survive to_toml.
#include "experiment/experiment_config.hpp"
#include "fuzz_support.hpp"
#include "ser/model_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string base_dir = ser::fuzz::scratch_path("");
  const std::string text(reinterpret_cast<const char*>(data), size);
  ser::fuzz::expect_only_ser_errors([&] {
    const ser::RunConfig c = ser::parse_run_config(text, "fuzz.toml");
    const std::string again = ser::to_toml(ser::parse_run_config(ser::to_toml(c), "round-trip.toml"));
    if (again != ser::to_toml(c)) ser::fuzz::broken_promise("an accepted run config does not survive to_toml");
  });
  ser::fuzz::expect_only_ser_errors([&] { ser::experiment::parse_experiment_config(text, "fuzz.toml", base_dir); });
  return 0;
}
