// src/train/run_files.hpp — files of a run folder written so that nothing good is lost: whole files
// go to a temporary name and are renamed; metrics.jsonl gets one complete line per epoch.
#pragma once
#include <functional>
#include <iosfwd>
#include <string>

namespace ser::train {

// Writes PATH.tmp-PID with `write`, then renames it to PATH. On any failure the temporary is removed
// and a ser::Error names PATH; a previous file at PATH stays untouched until the rename.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);
void write_text_atomic(const std::string& path, const std::string& text);
void append_line(const std::string& path, const std::string& line);
// Keeps only the lines of metrics.jsonl whose "epoch" is <= last_epoch (for --resume).
void truncate_metrics(const std::string& path, int last_epoch);

}  // namespace ser::train
