// Fuzzes the checkpoint reader (best.h5 / last.h5 of a run; `ser train --resume`, `ser export`).
#include "fuzz_support.hpp"
#include "engine/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = ser::fuzz::scratch_path("input.h5");
  ser::fuzz::write_input(path, data, size);
  ser::fuzz::expect_only_ser_errors([&] { (void)ser::engine::read_checkpoint(path); });
  return 0;
}
