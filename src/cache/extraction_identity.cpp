// The identity of an extraction: every input that changes the cache it writes.
#include "cache/extraction_identity.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "ser/build_info.hpp"

namespace ser {
namespace {

class Fnv64 {
 public:
  Fnv64& add(const std::string& s) {
    for (unsigned char c : s) h_ = (h_ ^ c) * 0x100000001b3ULL;
    h_ = (h_ ^ 0xffu) * 0x100000001b3ULL;  // a separator byte no UTF-8 text holds: "ab","c" != "a","bc"
    return *this;
  }
  Fnv64& add(std::uint64_t v) { return add(std::to_string(v)); }
  std::uint64_t value() const { return h_; }
  std::string hex() const {
    char s[17];
    std::snprintf(s, sizeof s, "%016llx", static_cast<unsigned long long>(h_));
    return s;
  }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

std::string manifest_digest(const Manifest& m) {
  Fnv64 h;
  for (const std::string& c : m.class_names) h.add(c);
  for (const Utterance& u : m.utterances) {
    h.add(u.path).add(u.label).add(u.speaker).add(u.group).add(u.split).add(u.fields.size());
    for (const auto& [k, v] : u.fields) h.add(k).add(v);
  }
  return h.hex();
}

// Size and modification time of every audio file: a file replaced since the saved batches were
// extracted makes the run start over (a missing one is recorded as missing).
std::string audio_files_digest(const Manifest& m) {
  Fnv64 h;
  for (const Utterance& u : m.utterances) {
    const std::string full = (std::filesystem::path(m.root) / u.path).string();
    struct stat st {};
    if (::stat(full.c_str(), &st) != 0) {
      h.add("missing");
      continue;
    }
    h.add(static_cast<std::uint64_t>(st.st_size))
        .add(static_cast<std::uint64_t>(st.st_mtim.tv_sec))
        .add(static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
  }
  return h.hex();
}

std::string synthetic_digest(const SyntheticCorpusConfig& s) {
  Fnv64 h;
  h.add(static_cast<std::uint64_t>(s.n_speakers)).add(static_cast<std::uint64_t>(s.utterances_per_emotion));
  for (const std::string& e : s.emotions) h.add(e);
  h.add(static_cast<std::uint64_t>(s.sample_rate)).add(s.seed);
  return h.hex();
}

std::map<std::string, std::string> lines_by_key(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto space = line.find(' ');
    out[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
  }
  return out;
}

}  // namespace

std::string extraction_identity(const Manifest& m, const ExtractOptions& opt, const std::string& frontend_name) {
  const bool synthetic = m.corpus == "synthetic";
  std::error_code ec;
  const std::string root = m.root.empty() ? "" : std::filesystem::weakly_canonical(m.root, ec).string();
  std::string id = "format ser-partial-extraction 1\n";
  id.append("ser ").append(SER_VERSION).append(" ").append(build_commit()).append("\n");
  id.append("corpus ").append(m.corpus).append("\n");
  id.append("root ").append(ec ? m.root : root).append("\n");
  id.append("frontend ").append(frontend_name).append("\n");
  id.append("feature_config ").append(opt.config.to_json()).append("\n");
  id.append("batch_size ").append(std::to_string(std::max<std::size_t>(1, opt.batch_size))).append("\n");
  id.append("synthetic ").append(synthetic ? synthetic_digest(opt.synthetic) : "-").append("\n");
  id.append("utterances ").append(std::to_string(m.utterances.size())).append(" ").append(manifest_digest(m));
  id.append("\n");
  id.append("audio_files ").append(synthetic ? "-" : audio_files_digest(m)).append("\n");
  return id;
}

std::vector<std::string> identity_differences(const std::string& a, const std::string& b) {
  const auto la = lines_by_key(a), lb = lines_by_key(b);
  std::vector<std::string> keys;
  for (const auto& [k, v] : la) {
    const auto it = lb.find(k);
    if (it == lb.end() || it->second != v) keys.push_back(k);
  }
  for (const auto& [k, v] : lb)
    if (!la.count(k)) keys.push_back(k);
  return keys;
}

std::uint64_t identity_digest(const std::string& text) { return Fnv64().add(text).value(); }

}  // namespace ser
