// corpus → features → cache. Decoding runs on a few threads per batch; the front-end takes the
// batch at once (the GPU paths want many utterances per launch).
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
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
  double last_print = -1;

  for (std::size_t begin = 0; begin < total; begin += opt.batch_size) {
    const std::size_t end = std::min(total, begin + opt.batch_size);
    // Decode the batch on `threads` workers; remember per-utterance failures.
    std::vector<std::vector<float>> audio(end - begin);
    std::vector<std::string> errors(end - begin);
    std::atomic<std::size_t> next{begin};
    const auto td = Clock::now();
    auto worker = [&]() {
      for (std::size_t i; (i = next.fetch_add(1)) < end;) {
        try {
          audio[i - begin] = load_utterance(m, i, opt);
        } catch (const std::exception& e) {
          errors[i - begin] = e.what();
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
    report.decode_seconds += since(td);

    std::vector<std::vector<float>> good;
    std::vector<std::size_t> index;
    for (std::size_t k = 0; k < audio.size(); ++k) {
      if (!errors[k].empty()) {
        if (opt.on_error == OnError::fail)
          throw Error(errors[k] + "\n(no cache written; use --on-error skip to leave bad files out)");
        report.skipped.emplace_back(m.utterances[begin + k].path, errors[k]);
        continue;
      }
      report.audio_seconds += double(audio[k].size()) / opt.config.logmel.sample_rate;
      index.push_back(begin + k);
      good.push_back(std::move(audio[k]));
    }
    const auto tf = Clock::now();
    const std::vector<UtteranceFeatures> feats = frontend->extract(good);
    report.frontend_seconds += since(tf);
    for (std::size_t k = 0; k < feats.size(); ++k) {
      const Utterance& u = m.utterances[index[k]];
      writer.add(u.path, u.speaker, m.label_index(u.label), feats[k]);
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
