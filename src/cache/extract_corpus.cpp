// corpus → features → cache. Decoding runs on a few threads per batch, one batch ahead of the
// front-end (which takes a batch at once: the GPU paths want many utterances per launch), so reading
// and resampling overlap with feature computation and cache writing.
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <future>
#include <iomanip>
#include <iostream>
#include <thread>
#include <unistd.h>

#include "ser/audio.hpp"
#include "ser/cache.hpp"
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

void print_progress(std::size_t done, std::size_t total, double audio_s, double elapsed, bool final) {
  const double eta = done > 0 ? elapsed * (total - done) / done : 0.0;
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

}  // namespace

ExtractReport extract_corpus(const Manifest& m, const ExtractOptions& opt, const std::string& out_path,
                             std::ostream& log) {
  opt.config.validate();
  if (m.utterances.empty()) throw Error("corpus " + m.corpus + ": no utterances to extract");
  const auto t0 = Clock::now();
  ExtractReport report;
  auto frontend = make_frontend(opt.path, opt.config, opt.cpu_threads);
  CacheWriter writer(out_path, opt.config, m.corpus, frontend->name(), m.class_names);
  const int threads = opt.cpu_threads > 0 ? opt.cpu_threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const bool show = opt.progress && isatty(STDERR_FILENO);
  const std::size_t total = m.utterances.size();
  const std::size_t batch = std::max<std::size_t>(1, opt.batch_size);
  double last_print = -1;

  auto decode_from = [&](std::size_t begin) {
    return std::async(std::launch::async, decode_batch, std::cref(m), std::cref(opt), begin,
                      std::min(total, begin + batch), threads);
  };
  std::future<DecodedBatch> ahead = decode_from(0);
  for (std::size_t begin = 0; begin < total; begin += batch) {
    const std::size_t end = std::min(total, begin + batch);
    DecodedBatch decoded = ahead.get();
    if (end < total) ahead = decode_from(end);  // the next batch decodes while this one is computed
    report.decode_seconds += decoded.seconds;

    std::vector<std::vector<float>> good;
    std::vector<std::size_t> index;
    for (std::size_t k = 0; k < decoded.audio.size(); ++k) {
      if (!decoded.errors[k].empty()) {
        if (opt.on_error == OnError::fail)
          throw Error(decoded.errors[k] + "\n(no cache written; use --on-error skip to leave bad files out)");
        report.skipped.emplace_back(m.utterances[begin + k].path, decoded.errors[k]);
        continue;
      }
      report.audio_seconds += double(decoded.audio[k].size()) / opt.config.logmel.sample_rate;
      index.push_back(begin + k);
      good.push_back(std::move(decoded.audio[k]));
    }
    const auto tf = Clock::now();
    const std::vector<UtteranceFeatures> feats = frontend->extract(good);
    report.frontend_seconds += since(tf);
    for (std::size_t k = 0; k < feats.size(); ++k) {
      const Utterance& u = m.utterances[index[k]];
      writer.add(u.path, u.speaker, m.label_index(u.label), feats[k], u.group, u.split);
    }
    if (show && (since(t0) - last_print > 0.25 || end == total)) {
      last_print = since(t0);
      print_progress(end, total, report.audio_seconds, last_print, end == total);
    }
  }
  report.written = writer.size();
  if (!report.skipped.empty()) {
    log << "skipped " << report.skipped.size() << " of " << total << " files (--on-error skip):\n";
    for (const auto& [path, why] : report.skipped) log << "  " << why << "\n";
  }
  writer.commit();
  report.total_seconds = since(t0);
  return report;
}

}  // namespace ser
