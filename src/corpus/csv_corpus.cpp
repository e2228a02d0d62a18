// A corpus described by a CSV manifest: header with path,label,speaker (any order, any case) plus
// optional extra columns, which become utterance fields ("group" and "split" also set the fold group
// and the predefined partition). Paths are relative to the CSV's folder. Speaker "unknown" (any
// case) marks an utterance whose speaker is not known.
#include <map>
#include <set>

#include "corpus/adapters.hpp"
#include "ser/error.hpp"

namespace ser::corpus {
namespace {

fs::path locate_csv(const std::string& root) {
  std::error_code ec;
  if (root.empty()) throw Error("csv: no manifest folder or .csv file given");
  if (!fs::exists(root, ec)) throw file_error(root, "csv corpus folder or .csv file not found");
  if (fs::is_directory(root, ec)) {
    const fs::path csv = fs::path(root) / "manifest.csv";
    if (!fs::is_regular_file(csv, ec)) throw file_error(root, "no manifest.csv in this folder (csv corpus)");
    return csv;
  }
  return fs::path(root);
}

}  // namespace

Scan scan_csv(const std::string& root_arg) {
  const fs::path csv = locate_csv(root_arg);
  const std::string where = csv.string();
  const std::vector<CsvRecord> records = parse_csv(read_text_file(csv, "the CSV manifest"), where);
  if (records.empty()) throw file_error(where, "empty CSV manifest (expected a header path,label,speaker)");

  // Header: required columns by lower-case name; extra columns keep their spelling as field names.
  const std::vector<std::string>& header = records.front().fields;
  std::map<std::string, std::size_t> column;
  for (std::size_t c = 0; c < header.size(); ++c) {
    const std::string key = to_lower(header[c]);
    if (key.empty()) throw file_error(where, "empty column name in the header (column " + std::to_string(c + 1) + ")");
    if (!column.emplace(key, c).second) throw file_error(where, "duplicate column '" + header[c] + "' in the header");
  }
  for (const char* required : {"path", "label", "speaker"}) {
    if (!column.count(required)) {
      throw file_error(where, std::string("header lacks the column '") + required +
                                  "' (expected path,label,speaker; found " + join(header, ",") + ")");
    }
  }
  const std::size_t path_col = column["path"], label_col = column["label"], speaker_col = column["speaker"];

  fs::path folder = csv.parent_path();
  if (folder.empty()) folder = ".";
  Scan scan;
  scan.root = folder.string();
  scan.source = where;
  std::set<std::string> seen;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    const std::string at = where + ":" + std::to_string(rec.line);
    require_header_width(rec, header.size(), at);
    const std::string& raw_path = rec.fields[path_col];
    if (raw_path.empty()) throw Error(at + ": empty path");
    fs::path audio(raw_path);
    // An absolute path is stored relative to the CSV's folder like every other manifest path.
    if (audio.is_absolute()) {
      fs::path base = fs::absolute(folder).lexically_normal();
      if (!base.has_filename()) base = base.parent_path();  // "/data/" -> "/data"
      audio = audio.lexically_normal().lexically_relative(base);
    }
    const std::string rel = audio.lexically_normal().generic_string();
    std::error_code ec;
    if (!fs::is_regular_file(folder / rel, ec)) throw Error(at + ": audio file not found: " + (folder / rel).string());
    if (!seen.insert(rel).second) throw Error(at + ": path listed twice: " + rel);

    const std::string label = canonical_emotion(rec.fields[label_col]);
    if (label.empty()) {
      throw Error(at + ": unknown emotion label '" + rec.fields[label_col] + "' for " + rel + " (expected one of " +
                  join(canonical_emotions(), " ") + ")");
    }
    std::string speaker = trim(rec.fields[speaker_col]);
    if (speaker.empty()) throw Error(at + ": empty speaker for " + rel);
    if (to_lower(speaker) == kUnknownSpeaker) speaker = kUnknownSpeaker;

    Utterance u;
    u.path = rel;
    u.label = label;
    u.speaker = speaker;
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (c != path_col && c != label_col && c != speaker_col) u.fields[header[c]] = rec.fields[c];
    }
    // Optional columns with a meaning: "group" (fold group, e.g. a recording session) and "split"
    // (a predefined partition: train / validation / test).
    if (column.count("group")) u.group = trim(rec.fields[column["group"]]);
    if (column.count("split")) u.split = to_lower(trim(rec.fields[column["split"]]));
    scan.utterances.push_back(std::move(u));
  }
  if (scan.utterances.empty()) throw file_error(where, "the CSV manifest lists no utterances");
  return scan;
}

}  // namespace ser::corpus
