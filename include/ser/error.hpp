// ser/error.hpp — the one exception type ser throws for bad input, bad configs and failed I/O.
// Messages name the file (or config field), what was expected and what was found.
#pragma once
#include <stdexcept>
#include <string>

namespace ser {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// "FILE: REASON" — the form every input error takes.
inline Error file_error(const std::string& path, const std::string& reason) {
  return Error(path + ": " + reason);
}

}  // namespace ser
