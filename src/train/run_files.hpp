// src/train/run_files.hpp — metrics.jsonl of a run folder: one complete line per epoch, cut back to
// the resumed epoch on --resume. (Whole files are written with util/atomic_file.hpp.)
#pragma once
#include <string>

namespace ser::train {

void append_line(const std::string& path, const std::string& line);
// Keeps only the lines of metrics.jsonl whose "epoch" is <= last_epoch (for --resume).
void truncate_metrics(const std::string& path, int last_epoch);

}  // namespace ser::train
