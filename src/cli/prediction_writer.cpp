// `ser predict`'s three output formats, one row at a time.
#include "cli/prediction_writer.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <utility>

#include <nlohmann/json.hpp>

namespace ser::cli {
namespace {

std::string fmt(const char* f, double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string pad(const std::string& s, std::size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Logits to 9 significant digits (a float round-trips) for the parity scripts.
std::string json_list(const std::vector<float>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s.append(i ? ", " : "").append(fmt("%.9g", v[i]));
  return s + "]";
}

std::size_t probability_width(const std::string& class_name) { return std::max<std::size_t>(class_name.size(), 6) + 2; }

}  // namespace

PredictionWriter::PredictionWriter(std::ostream& os, std::string format, std::vector<std::string> classes,
                                   const std::string& model, bool timed, std::size_t file_width, bool flush_rows)
    : os_(os), format_(std::move(format)), classes_(std::move(classes)), timed_(timed), flush_rows_(flush_rows),
      file_width_(std::max<std::size_t>(file_width, 4)) {
  for (const auto& c : classes_) class_width_ = std::max(class_width_, c.size());
  if (format_ == "json") {
    os_ << "{\"model\": " << nlohmann::json(model).dump() << ",\n \"class_names\": " << nlohmann::json(classes_).dump()
        << ",\n \"results\": [";
  } else if (format_ == "csv") {
    os_ << "file" << (timed_ ? ",start_seconds,end_seconds" : "") << ",predicted";
    for (const auto& c : classes_) os_ << "," << csv_field("p_" + c);
    os_ << "\n";
  } else {
    os_ << pad("file", file_width_ + 2) << (timed_ ? "start_s  end_s    " : "") << pad("predicted", class_width_ + 2);
    for (const auto& c : classes_) os_ << pad(c, probability_width(c));
    os_ << "\n";
  }
  if (flush_rows_) os_.flush();
}

void PredictionWriter::write(const PredictionRow& r) {
  if (format_ == "json") write_json(r);
  else if (format_ == "csv") write_csv(r);
  else write_table(r);
  ++rows_;
  if (flush_rows_) os_.flush();
}

void PredictionWriter::finish() {
  if (format_ == "json") os_ << (rows_ == 0 ? "]}\n" : "\n ]}\n");
  os_.flush();
}

void PredictionWriter::write_table(const PredictionRow& r) {
  os_ << pad(r.file, file_width_ + 2);
  if (timed_) os_ << pad(fmt("%.2f", r.p.start_seconds), 9) << pad(fmt("%.2f", r.p.end_seconds), 9);
  os_ << pad(classes_[static_cast<std::size_t>(r.p.predicted)], class_width_ + 2);
  for (std::size_t k = 0; k < classes_.size(); ++k)
    os_ << pad(fmt("%.3f", r.p.probabilities[k]), probability_width(classes_[k]));
  os_ << "\n";
}

void PredictionWriter::write_csv(const PredictionRow& r) {
  os_ << csv_field(r.file);
  if (timed_) os_ << "," << fmt("%.3f", r.p.start_seconds) << "," << fmt("%.3f", r.p.end_seconds);
  os_ << "," << csv_field(classes_[static_cast<std::size_t>(r.p.predicted)]);
  for (float v : r.p.probabilities) os_ << "," << fmt("%.6g", v);
  os_ << "\n";
}

void PredictionWriter::write_json(const PredictionRow& r) {
  os_ << (rows_ ? ",\n  " : "\n  ") << "{\"file\": " << nlohmann::json(r.file).dump()
      << ", \"predicted\": " << nlohmann::json(classes_[static_cast<std::size_t>(r.p.predicted)]).dump();
  if (!r.speaker.empty()) os_ << ", \"speaker\": " << nlohmann::json(r.speaker).dump();
  if (!r.label.empty()) os_ << ", \"label\": " << nlohmann::json(r.label).dump();
  if (r.timed)
    os_ << ", \"start_seconds\": " << fmt("%.6g", r.p.start_seconds) << ", \"end_seconds\": " << fmt("%.6g", r.p.end_seconds);
  os_ << ", \"probabilities\": " << json_list(r.p.probabilities) << ", \"logits\": " << json_list(r.p.logits) << "}";
}

}  // namespace ser::cli
