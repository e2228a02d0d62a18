// Fuzzes the safetensors reader: header lengths past the file, shapes and offsets that lie.
// A file it accepts must hold, for every tensor, exactly as many bytes as its shape declares.
#include "export/safetensors.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = ser::fuzz::scratch_path("input.safetensors");
  ser::fuzz::write_input(path, data, size);
  ser::fuzz::expect_only_ser_errors([&] { (void)ser::safetensors::read_file(path); });
  return 0;
}
