// ser bench features — audio-seconds per second of each front-end path, on audio decoded beforehand
// (decoding is not timed). Reports the machine it ran on. A benchmark, not a test.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.hpp"
#include "ser/corpus.hpp"
#include "ser/device.hpp"
#include "ser/error.hpp"
#include "ser/logmel.hpp"

namespace ser::cli {

namespace {

struct BenchArgs {
  std::string corpus = "synthetic";
  std::string data;
  std::size_t limit = 0;
  int repeat = 3;
  std::string json_out;
  DeviceOptions device;
};

using Clock = std::chrono::steady_clock;

// Best wall time of `repeat` runs of fn (after one warm-up run).
template <typename Fn>
double best_seconds(int repeat, Fn&& fn) {
  fn();
  double best = 1e300;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

// Log-mel alone on the CPU (the torchaudio MelSpectrogram comparison), threads over utterances.
void logmel_only(const LogMelCpu& lm, const std::vector<std::vector<float>>& audio, int threads) {
  std::atomic<std::size_t> next{0};
  auto worker = [&]() {
    std::vector<float> out;
    for (std::size_t i; (i = next.fetch_add(1)) < audio.size();) {
      out.resize(static_cast<std::size_t>(lm.config().num_frames(audio[i].size())) * lm.config().n_mels);
      lm.compute(audio[i].data(), static_cast<std::int64_t>(audio[i].size()), out.data());
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
}

void run_bench(const BenchArgs& a) {
  const Manifest m = load_manifest(a.corpus, a.data, "all");
  ExtractOptions opt;
  const std::size_t n = a.limit > 0 ? std::min(a.limit, m.utterances.size()) : m.utterances.size();
  std::cerr << "decoding " << n << " utterances of " << m.corpus << (m.corpus == "synthetic" ? " (SYNTHETIC)" : "")
            << " (not timed)...\n";
  std::vector<std::vector<float>> audio;
  double audio_s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    audio.push_back(load_utterance(m, i, opt));
    audio_s += double(audio.back().size()) / opt.config.logmel.sample_rate;
  }
  const int threads = a.device.threads > 0 ? a.device.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const CudaProbe& gpu = probe_cuda();
  const bool want_gpu = a.device.device != "cpu";
  if (a.device.device == "cuda" && !gpu.usable) throw Error("--device cuda: no usable GPU (" + gpu.reason + ")");
  if (want_gpu && !gpu.usable) std::cerr << "ser: no usable GPU (" << gpu.reason << "); benchmarking the CPU only\n";

  struct Row {
    std::string path;
    double seconds;
  };
  std::vector<Row> rows;
  const LogMelCpu lm(opt.config.logmel);
  rows.push_back({"cpu log-mel only (" + std::to_string(threads) + " threads)",
                  best_seconds(a.repeat, [&] { logmel_only(lm, audio, threads); })});
  auto cpu = make_frontend(FrontEndPath::cpu, opt.config, threads);
  rows.push_back({"cpu log-mel + prosody (" + std::to_string(threads) + " threads)",
                  best_seconds(a.repeat, [&] { cpu->extract(audio); })});
  if (want_gpu && gpu.usable) {
    for (FrontEndPath p : {FrontEndPath::cuda, FrontEndPath::cufft}) {
      auto fe = make_frontend(p, opt.config);
      rows.push_back({fe->name() + " log-mel + prosody", best_seconds(a.repeat, [&] { fe->extract(audio); })});
    }
  }

  std::cout << "ser bench features: " << n << " utterances, " << std::fixed << std::setprecision(1) << audio_s
            << " s of audio (" << m.corpus << "), best of " << a.repeat << "\n";
  std::cout << "machine: " << cpu_description();
  if (gpu.usable) std::cout << "; " << gpu.name << " (driver " << gpu.driver_version << ")";
  std::cout << "\n\n| path | seconds | audio-s per s |\n|---|---:|---:|\n";
  nlohmann::json j = {{"utterances", n}, {"audio_seconds", audio_s}, {"cpu", cpu_description()},
                      {"gpu", gpu.usable ? gpu.name : "none"}, {"repeat", a.repeat}, {"rows", nlohmann::json::array()}};
  for (const Row& r : rows) {
    std::cout << "| " << r.path << " | " << std::setprecision(3) << r.seconds << " | " << std::setprecision(0)
              << audio_s / r.seconds << " |\n";
    j["rows"].push_back({{"path", r.path}, {"seconds", r.seconds}, {"audio_seconds_per_second", audio_s / r.seconds}});
  }
  if (!a.json_out.empty()) {
    std::ofstream(a.json_out) << j.dump(2) << "\n";
    std::cout << "wrote " << a.json_out << "\n";
  }
}

}  // namespace

void register_bench(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (not tests): speed of ser's paths on this machine");
  bench->require_subcommand(1);
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = bench->add_subcommand("features", "Front-end speed in audio-seconds per second, per path");
  cmd->add_option("--corpus", args->corpus, "corpus to read (synthetic needs no folder)")->capture_default_str();
  cmd->add_option("--data", args->data, "corpus folder");
  cmd->add_option("--limit", args->limit, "use only the first N utterances (0 = all)");
  cmd->add_option("--repeat", args->repeat, "timed runs per path (best is reported)")->capture_default_str();
  cmd->add_option("--json", args->json_out, "also write the results as JSON");
  add_device_options(*cmd, args->device);
  cmd->callback([args] { run_bench(*args); });
  register_bench_train(*bench);
  register_bench_kernels(*bench);
}

}  // namespace ser::cli
