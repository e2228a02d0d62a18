// ser predict — class probabilities for audio files (or a cache's utterances) from a trained model.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/prediction_writer.hpp"
#include "ser/audio.hpp"
#include "ser/cache.hpp"
#include "ser/error.hpp"
#include "ser/extract.hpp"
#include "ser/inference.hpp"
#include "util/atomic_file.hpp"

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

using Row = PredictionRow;

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

// Where the rows go: stdout, flushed row by row, or --out, written under a temporary name and
// renamed when complete (a failed run leaves no partial file).
void with_output(const PredictOptions& o, const std::function<void(std::ostream&, bool flush_rows)>& write) {
  if (o.out.empty()) write(std::cout, true);
  else util::write_file_atomic(o.out, [&](std::ostream& os) { write(os, false); });
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

// Each file's rows are written as they come: a timeline streams the file (stream_timeline), so
// an hour-long recording neither waits for its end nor is held in memory.
void predict_files(const Classifier& clf, const PredictOptions& o) {
  const OnError on_error = parse_on_error(o.on_error);
  const std::vector<std::string> files = expand_inputs(o.inputs);
  std::size_t file_width = 0;
  for (const auto& f : files) file_width = std::max(file_width, f.size());
  std::size_t skipped = 0;
  with_output(o, [&](std::ostream& os, bool flush_rows) {
    PredictionWriter out(os, o.format, clf.class_names(), o.model, o.timeline, file_width, flush_rows);
    for (const auto& file : files) {
      std::size_t written = 0;
      try {
        if (o.timeline) {
          stream_timeline(clf, file, o.window, o.hop, [&](Prediction&& p) {
            out.write(Row{file, std::move(p), true, "", ""});
            ++written;
          });  // its errors name the file
        } else {
          const Audio a = read_audio(file);
          Prediction p;
          try {
            p = clf.classify(a.samples.data(), a.samples.size(), a.sample_rate);
          } catch (const Error& e) {
            throw file_error(file, e.what());
          }
          out.write(Row{file, std::move(p), false, "", ""});
        }
      } catch (const Error& e) {
        if (on_error == OnError::fail) throw;
        std::cerr << "ser predict: skipped " << e.what();
        if (written) std::cerr << " (its first " << written << " windows were already written)";
        std::cerr << "\n";
        ++skipped;
      }
    }
    out.finish();
  });
  if (skipped) std::cerr << "ser predict: skipped " << skipped << " file(s) (--on-error skip)\n";
}

void run_predict(const PredictOptions& o) {
  if (o.cache.empty() == o.inputs.empty())
    throw Error("ser predict: give audio files or folders, or --cache (not both)");
  if (o.timeline && !o.cache.empty()) throw Error("ser predict: --timeline needs audio, not --cache");
  const Classifier clf = Classifier::load(o.model, o.device);
  if (!clf.device_notice().empty()) std::cerr << clf.device_notice() << "\n";
  std::cerr << "ser predict: " << clf.describe() << "\n";
  if (!o.cache.empty()) {
    const std::vector<Row> rows = predict_cache(clf, o);
    std::size_t file_width = 0;
    for (const auto& r : rows) file_width = std::max(file_width, r.file.size());
    with_output(o, [&](std::ostream& os, bool flush_rows) {
      PredictionWriter out(os, o.format, clf.class_names(), o.model, false, file_width, flush_rows);
      for (const auto& r : rows) out.write(r);
      out.finish();
    });
  } else {
    predict_files(clf, o);
  }
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
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N (GPU N only)")->transform(device_choice())
      ->capture_default_str();
  cmd->add_option("--out", o->out, "write the output to this file instead of stdout");
  cmd->add_option("--on-error", o->on_error, "a bad audio file: fail (exit 1) or skip it")
      ->check(CLI::IsMember({"fail", "skip"}))
      ->capture_default_str();
  cmd->callback([o] { run_predict(*o); });
}

}  // namespace ser::cli
