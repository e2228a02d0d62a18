// tests/fuzz/fuzz_support.hpp — what every reader harness shares: a scratch folder for inputs that
// the reader takes as a file, and the rule that a reader answers bad input with ser::Error only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ser/error.hpp"

namespace ser::fuzz {

// A path in this process's scratch folder (in /dev/shm when it exists), removed at exit.
std::string scratch_path(const std::string& name);

// Writes the fuzzer's bytes to `path` (replacing what was there).
void write_input(const std::string& path, const std::uint8_t* data, std::size_t size);

// Runs `read`. A ser::Error is the expected answer to bad input; any other exception escapes, and
// libFuzzer reports it (through std::terminate) as a finding, as it does crashes and sanitizer reports.
template <class Read>
void expect_only_ser_errors(Read&& read) {
  try {
    read();
  } catch (const ser::Error&) {
  }
}

// A property the reader promised and broke (a value it returned that it should have rejected).
[[noreturn]] void broken_promise(const char* what);

}  // namespace ser::fuzz
