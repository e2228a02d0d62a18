// corpus → features → cache. Decoding runs on a few threads per batch, one batch ahead of the
// front-end (which takes a batch at once: the GPU paths want many utterances per launch), so reading
// and resampling overlap with feature computation and cache writing. Every finished batch is saved
// beside the cache before it counts, so a killed run resumes where it stopped (docs/cache.md).
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <future>
#include <iomanip>
#include <iostream>
#include <thread>
#include <unistd.h>

#include "cache/extraction_identity.hpp"
#include "cache/partial_extraction.hpp"
#include "ser/audio.hpp"
#include "ser/cache.hpp"
#include "ser/device.hpp"
#include "ser/error.hpp"
#include "ser/extract.hpp"

namespace ser {

OnError parse_on_error(const std::string& s) {
  if (s == "fail") return OnError::fail;
  if (s == "skip") return OnError::skip;
  throw Error("--on-error: expected fail or skip, found '" + s + "'");
}

std::vector<float> load_utterance(const Manifest& m, std::size_t i, const ExtractOptions& opt) {
  const int rate = opt.config.logmel.sample_rate;
  if (m.corpus == "synthetic") {
    const auto it = m.utterances[i].fields.find("index");
    const std::size_t g = it == m.utterances[i].fields.end() ? i : std::stoull(it->second);
    std::vector<float> x = synthesize_utterance(opt.synthetic, g);
    return opt.synthetic.sample_rate == rate ? x : resample(x, opt.synthetic.sample_rate, rate);
  }
  const std::string full = (std::filesystem::path(m.root) / m.utterances[i].path).string();
  Audio a = load_audio(full, rate);
  if (static_cast<std::int64_t>(a.samples.size()) < opt.config.logmel.min_samples())
    throw file_error(full, "too short: " + std::to_string(a.samples.size()) + " samples at " + std::to_string(rate) +
                               " Hz, the front-end needs at least " + std::to_string(opt.config.logmel.min_samples()));
  return std::move(a.samples);
}

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// `start`: utterances resumed from saved progress, which took no time in this run.
void print_progress(std::size_t start, std::size_t done, std::size_t total, double audio_s, double elapsed,
                    bool final) {
  const double eta = done > start ? elapsed * (total - done) / (done - start) : 0.0;
  std::cerr << "\r[features] " << done << "/" << total << " utterances, " << std::fixed << std::setprecision(1)
            << audio_s << " s audio, " << elapsed << " s elapsed";
  if (!final) std::cerr << ", ETA " << eta << " s   ";
  std::cerr << (final ? "\n" : "") << std::flush;
}

// One batch of decoded audio, with the per-utterance failures.
struct DecodedBatch {
  std::vector<std::vector<float>> audio;  // (end - begin) utterances
  std::vector<std::string> errors;        // "" where decoding succeeded
  double seconds = 0;                     // wall time of the decode
};

DecodedBatch decode_batch(const Manifest& m, const ExtractOptions& opt, std::size_t begin, std::size_t end, int threads) {
  DecodedBatch b;
  b.audio.resize(end - begin);
  b.errors.resize(end - begin);
  std::atomic<std::size_t> next{begin};
  const auto t0 = Clock::now();
  auto worker = [&]() {
    for (std::size_t i; (i = next.fetch_add(1)) < end;) {
      try {
        b.audio[i - begin] = load_utterance(m, i, opt);
      } catch (const std::exception& e) {
        b.errors[i - begin] = e.what();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  b.seconds = since(t0);
  return b;
}

// The front-end's features of a decoded batch of utterances begin, begin + 1, ...: the failed
// decodes are kept as skipped, with their reasons; the seconds the front-end took are added to
// frontend_seconds.
SavedBatch features_of(DecodedBatch&& decoded, std::size_t begin, FrontEnd& frontend, double& frontend_seconds) {
  SavedBatch saved;  // (decoded.audio.size()) utterances
  saved.begin = begin;
  saved.end = begin + decoded.audio.size();
  saved.utterances.resize(decoded.audio.size());
  std::vector<std::vector<float>> good;
  std::vector<std::size_t> slot;  // of each good utterance in `saved`
  for (std::size_t k = 0; k < decoded.audio.size(); ++k) {
    saved.utterances[k].index = begin + k;
    if (!decoded.errors[k].empty()) {
      saved.utterances[k].skipped = std::move(decoded.errors[k]);
      continue;
    }
    saved.utterances[k].samples = decoded.audio[k].size();
    slot.push_back(k);
    good.push_back(std::move(decoded.audio[k]));
  }
  const auto tf = Clock::now();
  std::vector<UtteranceFeatures> feats = frontend.extract(good);
  frontend_seconds += since(tf);
  for (std::size_t k = 0; k < feats.size(); ++k) saved.utterances[slot[k]].features = std::move(feats[k]);
  return saved;
}

void print_skipped(const ExtractReport& report, std::size_t total, std::ostream& log) {
  if (report.skipped.empty()) return;
  log << "skipped " << report.skipped.size() << " of " << total << " files (--on-error skip):\n";
  for (const auto& [path, why] : report.skipped) log << "  " << why << "\n";
}

}  // namespace

ExtractReport extract_corpus(const Manifest& m, const ExtractOptions& opt, const std::string& out_path,
                             std::ostream& log) {
  opt.config.validate();
  if (m.utterances.empty()) throw Error("corpus " + m.corpus + ": no utterances to extract");
  const auto t0 = Clock::now();
  ExtractReport report;
  auto frontend = make_frontend(opt.path, opt.config, opt.cpu_threads);
  CacheWriter writer(out_path, opt.config, m.corpus, frontend->name(), m.class_names);
  const int threads = opt.cpu_threads > 0 ? opt.cpu_threads : cpu_threads();
  const bool show = opt.progress && isatty(STDERR_FILENO);
  const std::size_t total = m.utterances.size();
  const std::size_t batch = std::max<std::size_t>(1, opt.batch_size);
  double last_print = -1;

  PartialExtraction partial(out_path, extraction_identity(m, opt, frontend->name()));
  std::size_t saved_batches = 0;  // by this run
  const auto fail_on = [&](const std::string& why) {
    const bool kept = std::filesystem::exists(partial.dir());
    return Error(why + "\n(no cache written; use --on-error skip to leave bad files out" +
                 (kept ? "; the progress saved so far stays in " + partial.dir() : "") + ")");
  };
  // Saved and restored batches go into the cache and the report the same way, in manifest order.
  const auto add_batch = [&](SavedBatch&& b) {
    for (SavedUtterance& s : b.utterances) {
      const Utterance& u = m.utterances[s.index];
      if (!s.skipped.empty()) {
        if (opt.on_error == OnError::fail) throw fail_on(s.skipped);
        report.skipped.emplace_back(u.path, std::move(s.skipped));
        continue;
      }
      report.audio_seconds += double(s.samples) / opt.config.logmel.sample_rate;
      writer.add(u.path, u.speaker, m.label_index(u.label), s.features, u.group, u.split);
      s.features = UtteranceFeatures{};
    }
  };
  if (!opt.resume) partial.discard(log, "--no-resume");
  const std::size_t start = std::min(total, batch * partial.resume(batch, total, log, add_batch));
  if (start > 0) {
    report.resumed = start;
    report.resumed_audio_seconds = report.audio_seconds;
    log << "resuming: " << start << " of " << total << " utterances already extracted (" << partial.dir()
        << ")\n";
  }

  auto decode_from = [&](std::size_t begin) {
    return std::async(std::launch::async, decode_batch, std::cref(m), std::cref(opt), begin,
                      std::min(total, begin + batch), threads);
  };
  std::future<DecodedBatch> ahead;
  if (start < total) ahead = decode_from(start);
  for (std::size_t begin = start; begin < total; begin += batch) {
    const std::size_t end = std::min(total, begin + batch);
    DecodedBatch decoded = ahead.get();
    if (end < total) ahead = decode_from(end);  // the next batch decodes while this one is computed
    report.decode_seconds += decoded.seconds;

    for (std::size_t k = 0; k < decoded.errors.size(); ++k)
      if (!decoded.errors[k].empty() && opt.on_error == OnError::fail) throw fail_on(decoded.errors[k]);
    SavedBatch saved = features_of(std::move(decoded), begin, *frontend, report.frontend_seconds);
    partial.save(begin / batch, saved);
    ++saved_batches;
    add_batch(std::move(saved));
    if (opt.after_batch_saved) opt.after_batch_saved(saved_batches);
    if (show && (since(t0) - last_print > 0.25 || end == total)) {
      last_print = since(t0);
      print_progress(start, end, total, report.audio_seconds, last_print, end == total);
    }
  }
  report.written = writer.size();
  print_skipped(report, total, log);
  writer.commit();
  partial.remove(log);
  report.total_seconds = since(t0);
  return report;
}

}  // namespace ser
