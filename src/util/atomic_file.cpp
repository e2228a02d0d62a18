// src/util/atomic_file.cpp — atomic whole-file writes (atomic_file.hpp).
#include "util/atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ser/error.hpp"
#include "util/process_name.hpp"

namespace ser::util {

namespace {
// errno's text, or a generic reason where the stream failed without one.
std::string system_reason() { return errno != 0 ? std::strerror(errno) : "the write failed (disk full?)"; }
}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp-" + process_name();
  try {
    {
      errno = 0;
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw file_error(path, "cannot create " + tmp + ": " + system_reason());
      write(out);
      out.flush();
      if (!out) throw file_error(path, "cannot write " + tmp + ": " + system_reason());
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw file_error(path, "cannot rename " + tmp + " into place: " + ec.message());
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
}

void write_text_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, [&](std::ostream& out) { out << text; });
}

}  // namespace ser::util
