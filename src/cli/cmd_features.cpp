// ser features — corpus folder (or the synthetic corpus) → HDF5 feature cache.
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "ser/corpus.hpp"
#include "ser/error.hpp"

namespace ser::cli {

namespace {

struct FeaturesArgs {
  std::string corpus = "synthetic";
  std::string data;
  std::string out;
  std::string classes = "all";
  std::string filter;
  std::string feature_config;
  std::string on_error = "fail";
  std::size_t batch_size = ExtractOptions{}.batch_size;
  bool no_resume = false;
  std::size_t kill_after_batches = 0;  // hidden, for tests: SIGKILL itself once this many batches are saved
  bool dump_config = false;
  DeviceOptions device;
};

void run_features(const FeaturesArgs& a) {
  const FeatureConfig cfg = load_feature_config(a.feature_config);
  if (a.dump_config) {
    std::cout << cfg.to_json() << "\n";
    return;
  }
  if (a.out.empty()) throw Error("ser features: --out CACHE.h5 is required");
  if (a.corpus != "synthetic" && a.data.empty())
    throw Error("ser features: --data DIR is required for corpus '" + a.corpus + "'");
  const Manifest m = load_manifest(a.corpus, a.data, a.classes, a.filter);
  ExtractOptions opt;
  opt.config = cfg;
  opt.path = resolve_frontend_path(a.device);
  opt.cpu_threads = a.device.threads;
  opt.on_error = parse_on_error(a.on_error);
  opt.batch_size = a.batch_size;
  opt.resume = !a.no_resume;
  if (a.kill_after_batches > 0)
    opt.after_batch_saved = [k = a.kill_after_batches](std::size_t saved) {
      if (saved >= k) ::kill(::getpid(), SIGKILL);  // as hard as an outside kill: no clean-up runs
    };
  std::cerr << "ser features: " << m.utterances.size() << " utterances of " << m.corpus
            << (m.corpus == "synthetic" ? " (SYNTHETIC)" : "") << ", " << m.class_names.size() << " classes, front-end "
            << to_string(opt.path) << "\n";
  const ExtractReport r = extract_corpus(m, opt, a.out, std::cerr);
  std::cout << "wrote " << a.out << ": " << r.written << " utterances, " << r.audio_seconds << " s of audio in "
            << r.total_seconds << " s (front-end "
            << (r.audio_seconds - r.resumed_audio_seconds) / std::max(1e-9, r.frontend_seconds) << " audio-s/s)";
  if (r.resumed > 0) std::cout << ", " << r.resumed << " resumed";
  if (!r.skipped.empty()) std::cout << ", " << r.skipped.size() << " skipped";
  std::cout << "\n";
}

}  // namespace

void register_features(CLI::App& app) {
  auto args = std::make_shared<FeaturesArgs>();
  CLI::App* cmd = app.add_subcommand("features", "Extract log-mel and prosodic features of a corpus into an HDF5 cache");
  cmd->add_option("--corpus", args->corpus, "emodb, ravdess, cremad, tess, savee, iemocap, msppodcast, csv or synthetic (embedded default)")
      ->capture_default_str();
  cmd->add_option("--data", args->data, "corpus folder (for csv: folder with manifest.csv, or the .csv)");
  cmd->add_option("--out", args->out,
                  "cache file to write (written to a temporary name, renamed when complete; progress is saved in "
                  "OUT.partial/ as it goes, and a run killed midway resumes from there when started again)");
  cmd->add_option("--classes", args->classes,
                  "all, paper4 (angry,happy,sad,neutral), iemocap4 (neutral,happy+excited,angry,sad) or a comma list")
      ->capture_default_str();
  cmd->add_option("--filter", args->filter, "only utterances whose field FIELD is VALUE (FIELD=VALUE, e.g. type=improvised)");
  cmd->add_option("--feature-config", args->feature_config, "JSON feature config (default: torchaudio-equivalent)");
  cmd->add_option("--on-error", args->on_error, "fail on the first bad file, or skip bad files and list them")
      ->check(CLI::IsMember({"fail", "skip"}))
      ->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "utterances decoded, extracted and saved for resuming together")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--no-resume", args->no_resume, "ignore (and remove) progress saved by an interrupted run; start over");
  cmd->add_option("--kill-after-batches", args->kill_after_batches)->group("");  // tests: a kill at a known point
  cmd->add_flag("--dump-config", args->dump_config, "print the feature config as JSON and exit");
  add_device_options(*cmd, args->device);
  cmd->callback([args] { run_features(*args); });
}

}  // namespace ser::cli
