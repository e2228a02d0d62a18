// MSP-Podcast: ROOT/Audios/MSP-PODCAST_0001_0008.wav and ROOT/Labels/labels_consensus.csv with the
// columns FileName, EmoClass, EmoAct, EmoVal, EmoDom, SpkrID, Gender, Split_Set. EmoClass is the
// consensus category: A angry, S sad, H happy, U surprise, F fear, D disgust, C contempt,
// N neutral; O (other) and X (no agreement) are no emotion class and are left out with a count.
// SpkrID "Unknown" becomes kUnknownSpeaker; Split_Set (Train, Development, Test1, Test2, ...) is the
// corpus's own partition, used by protocol = "predefined".
#include <map>
#include <set>

#include "corpus/adapters.hpp"
#include "ser/error.hpp"

namespace ser::corpus {
namespace {

std::string msp_emotion(const std::string& code) {
  static const std::map<std::string, std::string> names = {{"A", "angry"},    {"S", "sad"},      {"H", "happy"},
                                                           {"U", "surprise"}, {"F", "fear"},     {"D", "disgust"},
                                                           {"C", "contempt"}, {"N", "neutral"}};
  const auto it = names.find(code);
  return it == names.end() ? "" : it->second;
}

}  // namespace

Scan scan_msppodcast(const std::string& root_arg) {
  const fs::path root = require_directory(root_arg, "msppodcast");
  const fs::path labels = root / "Labels" / "labels_consensus.csv";
  std::error_code ec;
  if (!fs::is_regular_file(labels, ec)) {
    throw file_error(labels.string(), "MSP-Podcast label file not found (expected ROOT/Labels/labels_consensus.csv)");
  }
  fs::path audio_dir = root / "Audios";
  if (!fs::is_directory(audio_dir, ec)) {
    throw file_error(audio_dir.string(), "MSP-Podcast audio folder not found (expected ROOT/Audios/)");
  }
  const std::string where = labels.string();
  const std::vector<CsvRecord> records = parse_csv(read_text_file(labels, "the MSP-Podcast label file"), where);
  if (records.empty()) throw file_error(where, "empty label file (expected a header FileName,EmoClass,...,SpkrID,Split_Set)");

  std::map<std::string, std::size_t> column;
  const std::vector<std::string>& header = records.front().fields;
  for (std::size_t c = 0; c < header.size(); ++c) column.emplace(to_lower(header[c]), c);
  for (const char* required : {"filename", "emoclass", "spkrid", "split_set"}) {
    if (!column.count(required)) {
      throw file_error(where, std::string("header lacks the column '") + required + "' (found " + join(header, ",") + ")");
    }
  }
  const auto col = [&](const char* name) { return column.at(name); };
  const auto optional = [&](const char* name) { return column.count(name) ? column.at(name) : header.size(); };
  const std::size_t gender_col = optional("gender"), act_col = optional("emoact"), val_col = optional("emoval"),
                    dom_col = optional("emodom");

  Scan scan;
  scan.root = root.string();
  scan.source = where;
  std::set<std::string> seen;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    const std::string at = where + ":" + std::to_string(rec.line);
    require_header_width(rec, header.size(), at);
    const std::string name = trim(rec.fields[col("filename")]);
    if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos) {
      throw Error(at + ": FileName must be a bare file name in Audios/, found '" + name + "'");
    }
    if (!seen.insert(name).second) throw Error(at + ": file listed twice: " + name);
    const std::string code = trim(rec.fields[col("emoclass")]);
    if (code == "O" || code == "X") {
      ++scan.left_out[code];
      continue;
    }
    const std::string label = msp_emotion(code);
    if (label.empty()) {
      throw Error(at + ": unknown EmoClass '" + code + "' for " + name + " (expected A S H U F D C N, or O/X)");
    }
    const std::string speaker = trim(rec.fields[col("spkrid")]);
    if (speaker.empty()) throw Error(at + ": empty SpkrID for " + name + " (the corpus writes Unknown when it has none)");
    const std::string split = to_lower(trim(rec.fields[col("split_set")]));
    if (split.empty()) throw Error(at + ": empty Split_Set for " + name);
    if (!fs::is_regular_file(audio_dir / name, ec)) {
      throw Error(at + ": audio file not found: " + (audio_dir / name).string());
    }
    Utterance u;
    u.path = relative_path(audio_dir / name, root);
    u.label = label;
    u.speaker = to_lower(speaker) == "unknown" ? kUnknownSpeaker : speaker;
    u.split = split;
    if (gender_col < header.size()) u.fields["gender"] = to_lower(trim(rec.fields[gender_col]));
    if (act_col < header.size()) u.fields["arousal"] = trim(rec.fields[act_col]);
    if (val_col < header.size()) u.fields["valence"] = trim(rec.fields[val_col]);
    if (dom_col < header.size()) u.fields["dominance"] = trim(rec.fields[dom_col]);
    scan.utterances.push_back(std::move(u));
  }
  if (scan.utterances.empty()) throw file_error(where, "the label file lists no utterance of an emotion class");
  return scan;
}

}  // namespace ser::corpus
