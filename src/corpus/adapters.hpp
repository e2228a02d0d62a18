// src/corpus/adapters.hpp — internal interface between load_manifest and the per-corpus adapters.
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ser/corpus.hpp"

namespace ser::corpus {

namespace fs = std::filesystem;

// What an adapter finds: the folder the utterance paths are relative to, and every utterance
// (all classes, any order; load_manifest filters and sorts).
struct Scan {
  std::string root;
  std::vector<Utterance> utterances;
  std::string source;  // what errors about the whole corpus name (the folder, or the CSV file)
  std::map<std::string, int> left_out;  // labels the corpus marks as no emotion -> utterances dropped
};

// One per corpus. Each throws ser::Error naming the folder when it is missing or holds no audio,
// and naming the file when a file name (or CSV row) cannot be parsed.
Scan scan_emodb(const std::string& root);
Scan scan_ravdess(const std::string& root);
Scan scan_cremad(const std::string& root);
Scan scan_tess(const std::string& root);
Scan scan_csv(const std::string& root);
Scan scan_savee(const std::string& root);
Scan scan_iemocap(const std::string& root);
Scan scan_msppodcast(const std::string& root);

// ---- emotions.cpp -------------------------------------------------------------------------------
// neutral calm happy sad angry fear disgust surprise boredom excited frustrated contempt
const std::vector<std::string>& canonical_emotions();
// Canonical name for a label (case-insensitive, surrounding blanks ignored, common synonyms such as
// "anger" or "fearful" accepted); "" when it is not an emotion ser knows.
std::string canonical_emotion(const std::string& label);
std::string to_lower(std::string s);
std::string trim(const std::string& s);
std::string join(const std::vector<std::string>& items, const std::string& sep);

// ---- files.cpp ----------------------------------------------------------------------------------
// Throws "ROOT: corpus folder not found" (or "... is not a folder") unless root is a directory.
fs::path require_directory(const std::string& root, const std::string& corpus);
// Regular files ending in .wav (any case) under dir, sorted; names starting with '.' (hidden files,
// macOS "._" resource forks) and hidden folders are skipped.
std::vector<fs::path> list_wav_files(const fs::path& dir, bool recursive);
// file relative to root with '/' separators (the form stored in manifests and caches).
std::string relative_path(const fs::path& file, const fs::path& root);
// Throws "DIR: no .wav files found (CORPUS)" when files is empty.
void require_some(const std::vector<fs::path>& files, const fs::path& dir, const std::string& corpus);

// ---- csv_parse.cpp ------------------------------------------------------------------------------
struct CsvRecord {
  int line = 0;                     // 1-based line on which the record starts
  std::vector<std::string> fields;  // unquoted values; blanks around unquoted values trimmed
};
// RFC 4180: ',' separates fields; "..." quotes a field (commas, newlines and "" inside it);
// LF, CRLF or CR ends a record; a UTF-8 byte-order mark is skipped; blank lines are dropped.
// Throws "PATH:LINE: reason" for an unterminated quote or text after a closing quote.
std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& path);
// Throws "AT: expected N fields as in the header, found M" unless rec has the header's width.
void require_header_width(const CsvRecord& rec, std::size_t header_width, const std::string& at);
// The whole file as text; throws "PATH: cannot open/read WHAT".
std::string read_text_file(const fs::path& file, const std::string& what);

}  // namespace ser::corpus
