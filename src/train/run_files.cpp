// src/train/run_files.cpp — metrics.jsonl upkeep.
#include "train/run_files.hpp"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ser/error.hpp"
#include "util/atomic_file.hpp"

namespace ser::train {

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
  util::write_text_atomic(path, kept.str());
}

}  // namespace ser::train
