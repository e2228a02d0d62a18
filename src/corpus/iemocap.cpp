// IEMOCAP: ROOT/Session1..5/sentences/wav/<dialog>/<utterance>.wav, labelled by the lines
//   [START - END] TAB UTTERANCE TAB CODE TAB [V, A, D]
// of ROOT/SessionN/dialog/EmoEvaluation/*.txt (other lines there are the evaluators' votes).
// An utterance id reads Ses01F_impro01_F000: session 01, the dialog (Ses01F_impro01, improvised or
// scripted), and the gender letter of the utterance's own speaker (F000 = the female actor). The
// speaker is session + that letter ("Ses01F"), the fold group the session ("Ses01").
// Codes: neu hap exc ang sad fru fea sur dis; xxx (no majority) and oth (other) are no emotion class
// and are left out with a count.
#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "corpus/adapters.hpp"
#include "ser/error.hpp"

namespace ser::corpus {
namespace {

std::string iemocap_emotion(const std::string& code) {
  static const std::map<std::string, std::string> names = {
      {"neu", "neutral"}, {"hap", "happy"},      {"exc", "excited"}, {"ang", "angry"},   {"sad", "sad"},
      {"fru", "frustrated"}, {"fea", "fear"},    {"sur", "surprise"}, {"dis", "disgust"}};
  const auto it = names.find(code);
  return it == names.end() ? "" : it->second;
}

std::vector<std::string> split_on(const std::string& s, char sep) {
  std::vector<std::string> parts(1);
  for (char c : s) {
    if (c == sep) parts.emplace_back();
    else parts.back() += c;
  }
  return parts;
}

struct UtteranceId {
  std::string session;  // "01"
  std::string dialog;   // "Ses01F_impro01"
  std::string type;     // "improvised" | "scripted"
  char gender = 0;      // 'F' | 'M': the utterance's own speaker
};

// Empty session when `id` is not an IEMOCAP utterance id.
UtteranceId parse_utterance_id(const std::string& id) {
  static const std::regex first(R"(^Ses(\d\d)[FM]$)"), last(R"(^([FM])\d{3}$)");
  const std::vector<std::string> parts = split_on(id, '_');
  UtteranceId out;
  std::smatch a, b;
  if (parts.size() < 3 || !std::regex_match(parts.front(), a, first) || !std::regex_match(parts.back(), b, last)) return out;
  if (parts[1].rfind("impro", 0) == 0) out.type = "improvised";
  else if (parts[1].rfind("script", 0) == 0) out.type = "scripted";
  else return out;
  out.session = a[1];
  out.gender = b[1].str()[0];
  out.dialog = id.substr(0, id.size() - parts.back().size() - 1);
  return out;
}

std::vector<fs::path> label_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) throw file_error(dir.string(), "cannot list the folder: " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) throw file_error(dir.string(), "cannot list the folder: " + ec.message());
    const std::string name = it->path().filename().string();
    std::error_code ignored;
    if (!name.empty() && name[0] != '.' && to_lower(it->path().extension().string()) == ".txt" &&
        it->is_regular_file(ignored))
      files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Scan scan_iemocap(const std::string& root_arg) {
  const fs::path root = require_directory(root_arg, "iemocap");
  static const std::regex line_pattern(
      R"(^\[\s*([0-9.]+)\s*-\s*([0-9.]+)\s*\]\s+(\S+)\s+(\S+)\s+\[\s*([-0-9.]+)\s*,\s*([-0-9.]+)\s*,\s*([-0-9.]+)\s*\]\s*$)");
  Scan scan;
  scan.root = root.string();
  std::set<std::string> seen;
  int sessions = 0;
  for (int s = 1; s <= 5; ++s) {
    const fs::path session_dir = root / ("Session" + std::to_string(s));
    std::error_code ec;
    if (!fs::is_directory(session_dir, ec)) continue;
    ++sessions;
    const fs::path eval_dir = session_dir / "dialog" / "EmoEvaluation";
    if (!fs::is_directory(eval_dir, ec)) {
      throw file_error(eval_dir.string(), "IEMOCAP label folder not found (expected SessionN/dialog/EmoEvaluation/)");
    }
    const std::string session = (s < 10 ? "0" : "") + std::to_string(s);
    for (const fs::path& file : label_files(eval_dir)) {
      const std::string text = read_text_file(file, "the IEMOCAP label file");
      int line_no = 0;
      std::size_t pos = 0;
      while (pos <= text.size()) {
        const std::size_t nl = text.find('\n', pos);
        std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line[0] != '[') continue;  // header, evaluator votes, blank lines
        const std::string at = file.string() + ":" + std::to_string(line_no);
        std::smatch m;
        if (!std::regex_match(line, m, line_pattern)) {
          throw Error(at + ": not an IEMOCAP label line (expected [START - END] TAB UTTERANCE TAB CODE TAB [V, A, D])");
        }
        const std::string id = m[3], code = m[4];
        const UtteranceId parsed = parse_utterance_id(id);
        if (parsed.session.empty()) {
          throw Error(at + ": '" + id + "' is not an IEMOCAP utterance id (expected e.g. Ses01F_impro01_F000)");
        }
        if (parsed.session != session) {
          throw Error(at + ": utterance " + id + " of session " + parsed.session + " listed under Session" + std::to_string(s));
        }
        if (!seen.insert(id).second) throw Error(at + ": utterance " + id + " labelled twice");
        if (code == "xxx" || code == "oth") {
          ++scan.left_out[code];
          continue;
        }
        const std::string label = iemocap_emotion(code);
        if (label.empty()) {
          throw Error(at + ": unknown IEMOCAP emotion code '" + code + "' (expected neu hap exc ang sad fru fea sur dis, or xxx/oth)");
        }
        const fs::path wav = session_dir / "sentences" / "wav" / parsed.dialog / (id + ".wav");
        if (!fs::is_regular_file(wav, ec)) throw Error(at + ": audio file of " + id + " not found: " + wav.string());
        Utterance u;
        u.path = relative_path(wav, root);
        u.label = label;
        u.speaker = "Ses" + session + parsed.gender;
        u.group = "Ses" + session;
        u.fields = {{"type", parsed.type},          {"dialog", parsed.dialog},
                    {"gender", parsed.gender == 'F' ? "female" : "male"},
                    {"start", m[1]},                 {"end", m[2]},
                    {"valence", m[5]},               {"arousal", m[6]},
                    {"dominance", m[7]}};
        scan.utterances.push_back(std::move(u));
      }
    }
  }
  if (sessions == 0) throw file_error(root.string(), "no Session1..Session5 folders (expected the IEMOCAP release folder)");
  if (scan.utterances.empty()) throw file_error(root.string(), "no labelled IEMOCAP utterance found under SessionN/dialog/EmoEvaluation/");
  return scan;
}

}  // namespace ser::corpus
