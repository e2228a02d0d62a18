// src/train/run_files.cpp — atomic writes and metrics.jsonl upkeep.
#include "train/run_files.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ser/error.hpp"

namespace ser::train {

namespace {
// errno's text, or a generic reason where the stream failed without one.
std::string system_reason() { return errno != 0 ? std::strerror(errno) : "the write failed (disk full?)"; }
}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
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

void append_line(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << line << "\n";
  out.flush();
  if (!out) throw file_error(path, "cannot append");
}

void truncate_metrics(const std::string& path, int last_epoch) {
  std::ifstream in(path);
  std::ostringstream kept;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (nlohmann::json::parse(line).at("epoch").get<int>() <= last_epoch) kept << line << "\n";
    } catch (const nlohmann::json::exception&) {
      // A line cut short by the kill: dropped.
    }
  }
  write_text_atomic(path, kept.str());
}

}  // namespace ser::train
