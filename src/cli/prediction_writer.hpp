// src/cli/prediction_writer.hpp — `ser predict`'s output (table, csv or json) written a row at a
// time, so a long timeline shows each window as soon as it is classified.
#pragma once
#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "ser/inference.hpp"

namespace ser::cli {

struct PredictionRow {
  std::string file;
  Prediction p;
  bool timed = false;          // a timeline window: print its span
  std::string speaker, label;  // cache mode: the cache's speaker and label
};

class PredictionWriter {
 public:
  // Writes the header. timed: rows carry spans (table and csv columns). file_width: the longest
  // file name the table will show. flush_rows: flush after every row (a terminal or a pipe).
  PredictionWriter(std::ostream& os, std::string format, std::vector<std::string> classes, const std::string& model,
                   bool timed, std::size_t file_width, bool flush_rows);
  void write(const PredictionRow& row);
  void finish();  // closes the JSON document

 private:
  void write_table(const PredictionRow& r);
  void write_csv(const PredictionRow& r);
  void write_json(const PredictionRow& r);

  std::ostream& os_;
  std::string format_;
  std::vector<std::string> classes_;
  bool timed_, flush_rows_;
  std::size_t file_width_, class_width_ = 9;
  std::size_t rows_ = 0;
};

}  // namespace ser::cli
