// ser predict — class probabilities for audio files (or a cache's utterances) from a trained model.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "ser/audio.hpp"
#include "ser/cache.hpp"
#include "ser/error.hpp"
#include "ser/extract.hpp"
#include "ser/inference.hpp"
#include "train/run_files.hpp"

namespace ser::cli {
namespace {

namespace fs = std::filesystem;

struct PredictOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::string cache;
  int limit = 0;
  std::string format = "table";
  bool timeline = false;
  double window = 2.0, hop = 0.5;
  std::string device = "auto";
  std::string out;
  std::string on_error = "fail";
};

struct Row {
  std::string file;
  Prediction p;
  bool timed = false;             // a timeline window: print its span
  std::string speaker, label;     // cache mode: the cache's speaker and label
};

bool is_audio(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* e : {".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".au", ".mp3"})
    if (ext == e) return true;
  return false;
}

// Files as given; folders expanded to their audio files, recursively, sorted.
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    if (!fs::is_directory(in)) {
      files.push_back(in);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(in, fs::directory_options::follow_directory_symlink))
      if (e.is_regular_file() && is_audio(e.path())) found.push_back(e.path().string());
    if (found.empty()) throw file_error(in, "folder holds no audio files (.wav, .flac, .ogg, .aiff, .au, .mp3)");
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

std::string fmt(const char* f, double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string render_table(const std::vector<Row>& rows, const std::vector<std::string>& classes) {
  std::size_t wf = 4, wp = 9;
  for (const auto& r : rows) wf = std::max(wf, r.file.size());
  for (const auto& c : classes) wp = std::max(wp, c.size());
  const bool timed = !rows.empty() && rows.front().timed;
  std::ostringstream os;
  auto pad = [](const std::string& s, std::size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); };
  os << pad("file", wf + 2) << (timed ? "start_s  end_s    " : "") << pad("predicted", wp + 2);
  for (const auto& c : classes) os << pad(c, std::max<std::size_t>(c.size(), 6) + 2);
  os << "\n";
  for (const auto& r : rows) {
    os << pad(r.file, wf + 2);
    if (timed) os << pad(fmt("%.2f", r.p.start_seconds), 9) << pad(fmt("%.2f", r.p.end_seconds), 9);
    os << pad(classes[static_cast<std::size_t>(r.p.predicted)], wp + 2);
    for (std::size_t k = 0; k < classes.size(); ++k)
      os << pad(fmt("%.3f", r.p.probabilities[k]), std::max<std::size_t>(classes[k].size(), 6) + 2);
    os << "\n";
  }
  return os.str();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string render_csv(const std::vector<Row>& rows, const std::vector<std::string>& classes) {
  const bool timed = !rows.empty() && rows.front().timed;
  std::ostringstream os;
  os << "file" << (timed ? ",start_seconds,end_seconds" : "") << ",predicted";
  for (const auto& c : classes) os << "," << csv_field("p_" + c);
  os << "\n";
  for (const auto& r : rows) {
    os << csv_field(r.file);
    if (timed) os << "," << fmt("%.3f", r.p.start_seconds) << "," << fmt("%.3f", r.p.end_seconds);
    os << "," << csv_field(classes[static_cast<std::size_t>(r.p.predicted)]);
    for (float v : r.p.probabilities) os << "," << fmt("%.6g", v);
    os << "\n";
  }
  return os.str();
}

// JSON by hand so logits keep 9 significant digits (float round trip) for the parity scripts.
std::string render_json(const std::vector<Row>& rows, const std::vector<std::string>& classes, const std::string& model) {
  const auto list = [](const std::vector<float>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s.append(i ? ", " : "").append(fmt("%.9g", v[i]));
    return s + "]";
  };
  std::ostringstream os;
  os << "{\"model\": " << nlohmann::json(model).dump() << ",\n \"class_names\": " << nlohmann::json(classes).dump()
     << ",\n \"results\": [";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    os << (i ? ",\n  " : "\n  ") << "{\"file\": " << nlohmann::json(r.file).dump()
       << ", \"predicted\": " << nlohmann::json(classes[static_cast<std::size_t>(r.p.predicted)]).dump();
    if (!r.speaker.empty()) os << ", \"speaker\": " << nlohmann::json(r.speaker).dump();
    if (!r.label.empty()) os << ", \"label\": " << nlohmann::json(r.label).dump();
    if (r.timed) os << ", \"start_seconds\": " << fmt("%.6g", r.p.start_seconds) << ", \"end_seconds\": " << fmt("%.6g", r.p.end_seconds);
    os << ", \"probabilities\": " << list(r.p.probabilities) << ", \"logits\": " << list(r.p.logits) << "}";
  }
  os << (rows.empty() ? "]}\n" : "\n ]}\n");
  return os.str();
}

std::vector<Row> predict_cache(const Classifier& clf, const PredictOptions& o) {
  const FeatureCache cache = read_cache(o.cache, clf.feature_config());  // names differing fields
  if (cache.class_names != clf.class_names())
    throw file_error(o.cache, "its classes " + nlohmann::json(cache.class_names).dump() + " differ from the model's " +
                                  nlohmann::json(clf.class_names()).dump());
  const std::size_t nf = cache.functional_names.size();
  if (static_cast<int>(nf) != clf.n_functionals())
    throw file_error(o.cache, std::string("holds ").append(std::to_string(nf)).append(" functionals, the model's normaliser ")
                                  .append(std::to_string(clf.n_functionals())));
  std::size_t n = cache.n_utterances();
  if (o.limit > 0) n = std::min(n, static_cast<std::size_t>(o.limit));
  std::vector<Row> rows;
  std::size_t correct = 0;
  for (std::size_t u = 0; u < n; ++u) {
    const std::int64_t begin = cache.offsets[u], frames = cache.offsets[u + 1] - begin;
    Row r;
    r.file = cache.paths[u];
    r.speaker = cache.speakers[u];
    r.label = cache.class_names[static_cast<std::size_t>(cache.labels[u])];
    r.p = clf.classify_features(&cache.logmel[static_cast<std::size_t>(begin) * static_cast<std::size_t>(cache.n_mels())],
                                static_cast<int>(frames), nf ? &cache.functionals[u * nf] : nullptr);
    correct += r.p.predicted == cache.labels[u];
    rows.push_back(std::move(r));
  }
  std::cerr << "ser predict: " << n << " utterances of " << o.cache << ", accuracy against its labels "
            << fmt("%.3f", n ? double(correct) / double(n) : 0.0) << "\n";
  return rows;
}

std::vector<Row> predict_files(const Classifier& clf, const PredictOptions& o) {
  const OnError on_error = parse_on_error(o.on_error);
  std::vector<Row> rows;
  std::size_t skipped = 0;
  for (const auto& file : expand_inputs(o.inputs)) {
    try {
      const Audio a = read_audio(file);
      try {
        if (o.timeline) {
          for (auto& p : clf.timeline(a.samples.data(), a.samples.size(), a.sample_rate, o.window, o.hop))
            rows.push_back(Row{file, std::move(p), true, "", ""});
        } else {
          rows.push_back(Row{file, clf.classify(a.samples.data(), a.samples.size(), a.sample_rate), false, "", ""});
        }
      } catch (const Error& e) {
        throw file_error(file, e.what());
      }
    } catch (const Error& e) {
      if (on_error == OnError::fail) throw;
      std::cerr << "ser predict: skipped " << e.what() << "\n";
      ++skipped;
    }
  }
  if (skipped) std::cerr << "ser predict: skipped " << skipped << " file(s) (--on-error skip)\n";
  return rows;
}

void run_predict(const PredictOptions& o) {
  if (o.cache.empty() == o.inputs.empty())
    throw Error("ser predict: give audio files or folders, or --cache (not both)");
  if (o.timeline && !o.cache.empty()) throw Error("ser predict: --timeline needs audio, not --cache");
  const Classifier clf = Classifier::load(o.model, o.device);
  if (!clf.device_notice().empty()) std::cerr << clf.device_notice() << "\n";
  std::cerr << "ser predict: " << clf.describe() << "\n";
  const std::vector<Row> rows = o.cache.empty() ? predict_files(clf, o) : predict_cache(clf, o);
  std::string text;
  if (o.format == "json") text = render_json(rows, clf.class_names(), o.model);
  else if (o.format == "csv") text = render_csv(rows, clf.class_names());
  else text = render_table(rows, clf.class_names());
  if (o.out.empty()) std::cout << text << std::flush;
  else train::write_text_atomic(o.out, text);
}

}  // namespace

void register_predict(CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "Class probabilities for audio files with a trained model or export");
  auto o = std::make_shared<PredictOptions>();
  cmd->add_option("--model", o->model, "checkpoint (best.h5) or safetensors export")->required();
  cmd->add_option("audio", o->inputs, "audio files or folders (searched recursively for audio files)");
  cmd->add_option("--cache", o->cache, "classify a feature cache's utterances from their cached features instead");
  cmd->add_option("--limit", o->limit, "with --cache: only the first N utterances");
  cmd->add_option("--format", o->format, "output: table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();
  cmd->add_flag("--timeline", o->timeline, "sliding windows over each file: an emotion timeline");
  cmd->add_option("--window", o->window, "timeline window in seconds")->capture_default_str();
  cmd->add_option("--hop", o->hop, "timeline hop in seconds")->capture_default_str();
  cmd->add_option("--device", o->device, "auto (GPU when usable, else CPU), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "write the output to this file instead of stdout");
  cmd->add_option("--on-error", o->on_error, "a bad audio file: fail (exit 1) or skip it")
      ->check(CLI::IsMember({"fail", "skip"}))
      ->capture_default_str();
  cmd->callback([o] { run_predict(*o); });
}

}  // namespace ser::cli
