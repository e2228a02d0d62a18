// Inference and export: the safetensors reader/writer (round trip, every corruption a clear error),
// a tiny model trained on a small synthetic corpus loaded from its checkpoint and from its export
// (identical logits, from cached features and from audio, agreeing with the trainer's test
// predictions), sliding-window timelines, and `ser export` / `ser predict` with bad inputs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "export/safetensors.hpp"
#include "inference/model_file.hpp"
#include "ser/audio.hpp"
#include "ser/audio_stream.hpp"
#include "ser/cache.hpp"
#include "ser/error.hpp"
#include "ser/extract.hpp"
#include "ser/inference.hpp"
#include "ser/prosody.hpp"
#include "ser/synthetic.hpp"
#include "ser/train.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

namespace fs = std::filesystem;

// ---- helpers -------------------------------------------------------------------------------------

// Runs fn, expects a ser::Error whose message names `path` and contains `what`.
void expect_error(const std::function<void()>& fn, const std::string& path, const std::string& what) {
  try {
    fn();
    ADD_FAILURE() << "no error (expected one naming " << path << " and '" << what << "')";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A safetensors file assembled by hand: length prefix, header text, data bytes.
std::string raw_safetensors(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

// ---- the tiny run shared by the suite ------------------------------------------------------------

struct TinyRun {
  test::TempDir dir;
  SyntheticCorpusConfig corpus;
  std::string cache, run, best, exported;
};

// 4 synthetic speakers x 7 emotions x 2 utterances; a small CNN + attention trained 3 epochs on
// syn01-02, validated on syn03, tested on syn04; its best.h5 exported to safetensors.
const TinyRun& tiny_run() {
  static const std::unique_ptr<TinyRun> r = [] {  // removed (with its folder) at exit
    auto t = std::make_unique<TinyRun>();
    t->corpus.n_speakers = 4;
    t->corpus.utterances_per_emotion = 2;
    t->cache = t->dir.file("tiny.h5");
    ExtractOptions eo;
    eo.synthetic = t->corpus;
    eo.progress = false;
    std::ostringstream log;
    extract_corpus(synthetic_manifest(t->corpus), eo, t->cache, log);
    const std::string cfg = t->dir.file("tiny.toml");
    std::ofstream(cfg) << "[model]\nconv_channels = [4, 8]\nattention_after = 2\nattention_heads = 2\n"
                          "attention_head_dim = 8\ndense = [16]\n[train]\nepochs = 3\nbatch_size = 8\nseed = 3\n";
    TrainOptions o;
    o.cache = t->cache;
    o.config = cfg;
    o.out_dir = t->run = t->dir.file("run");
    o.test_speakers = {"syn04"};
    o.validation_speakers = {"syn03"};
    o.device = "cpu";
    o.progress = false;
    run_training(o, log);
    t->best = t->run + "/best.h5";
    t->exported = t->dir.file("tiny.safetensors");
    inference::write_safetensors_export(inference::load_model_file(t->best), t->exported);
    return t;
  }();
  return *r;
}

// ---- safetensors format --------------------------------------------------------------------------

TEST(InferenceSafetensors, RoundTripKeepsNamesShapesBytesAndMetadata) {
  test::TempDir dir;
  const std::string path = dir.file("t.safetensors");
  safetensors::File f;
  f.metadata = {{"format", "test"}, {"text", "with \"quotes\"\nand a newline"}};
  f.tensors.push_back({"conv.weight", {3, 2, 3, 3}, test::random_signal(54, 1)});
  f.tensors.push_back({"bias", {5}, test::random_signal(5, 2)});
  f.tensors.push_back({"scalar", {}, {0.25f}});
  f.tensors.push_back({"empty", {0, 4}, {}});
  f.tensors[1].values[2] = -0.0f;  // sign of zero survives
  safetensors::write_file(path, f);

  // Independent reading of the layout: length prefix, JSON header, aligned data, offsets in order.
  const std::string bytes = read_bytes(path);
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= std::uint64_t(static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)])) << (8 * i);
  ASSERT_LE(8 + n, bytes.size());
  EXPECT_EQ((8 + n) % 8, 0u) << "data buffer not 8-byte aligned";
  const auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["__metadata__"]["text"], f.metadata["text"]);
  std::uint64_t expect_begin = 0;
  for (const auto& t : f.tensors) {
    const auto& h = header.at(t.name);
    EXPECT_EQ(h["dtype"], "F32");
    EXPECT_EQ(h["shape"].get<std::vector<std::int64_t>>(), t.shape);
    const auto off = h["data_offsets"].get<std::vector<std::uint64_t>>();
    EXPECT_EQ(off[0], expect_begin) << t.name;
    EXPECT_EQ(off[1] - off[0], sizeof(float) * t.values.size()) << t.name;
    EXPECT_EQ(0, std::memcmp(bytes.data() + 8 + n + off[0], t.values.data(), off[1] - off[0])) << t.name;
    expect_begin = off[1];
  }
  EXPECT_EQ(8 + n + expect_begin, bytes.size());

  const safetensors::File back = safetensors::read_file(path);
  EXPECT_EQ(back.metadata, f.metadata);
  ASSERT_EQ(back.tensors.size(), f.tensors.size());
  for (const auto& t : f.tensors) {
    const safetensors::Tensor* b = back.find(t.name);
    ASSERT_NE(b, nullptr) << t.name;
    EXPECT_EQ(b->shape, t.shape);
    EXPECT_TRUE(same_bits(b->values, t.values)) << t.name;
  }
  EXPECT_TRUE(safetensors::looks_like_safetensors(path));
  for (const auto& e : fs::directory_iterator(dir.path()))  // the temporary was renamed, not left behind
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  EXPECT_THROW(safetensors::write_file(dir.file("bad.safetensors"), {{}, {{"x", {2, 2}, {1.0f}}}}), Error);
}

TEST(InferenceSafetensors, EveryCorruptionIsAnErrorNamingTheFile) {
  test::TempDir dir;
  const std::string data(16, '\x01');  // 4 floats
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
  write_bytes(dir.file("ok.st"), raw_safetensors(ok, data));
  EXPECT_EQ(safetensors::read_file(dir.file("ok.st")).tensors.size(), 2u);

  struct Case { const char* name; std::string bytes; const char* what; };
  const std::vector<Case> cases = {
      {"text", "this is a plain text file, not a model\n", "not a safetensors file"},
      {"tiny", "abc", "not a safetensors file"},
      {"beyond", raw_safetensors(ok, data).substr(0, 30), "runs past the end of the file"},
      {"json", raw_safetensors(R"({"a":{"dtype":"F32",)", data), "not valid JSON"},
      {"not_object", raw_safetensors(R"([1,2])", data), "not a safetensors file"},
      {"overlap", raw_safetensors(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", data), "overlap"},
      {"hole", raw_safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})", data), "belong to no tensor"},
      {"truncated", raw_safetensors(ok, data.substr(0, 12)), "truncated"},
      {"dtype", raw_safetensors(R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", data), "dtype F16"},
      {"shape", raw_safetensors(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", data), "does not fit"},
      {"duplicate", raw_safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", data), "twice"},
      {"metadata", raw_safetensors(R"({"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data), "not a string"},
  };
  for (const auto& c : cases) {
    const std::string p = dir.file(std::string(c.name) + ".st");
    write_bytes(p, c.bytes);
    SCOPED_TRACE(c.name);
    expect_error([&] { safetensors::read_file(p); }, p, c.what);
  }
}

// ---- model files ---------------------------------------------------------------------------------

TEST(InferenceModelFile, ExportHoldsTheCheckpointsWeightsAndConfigs) {
  const TinyRun& r = tiny_run();
  const auto ck = inference::load_model_file(r.best);
  const auto ex = inference::load_model_file(r.exported);
  EXPECT_TRUE(same_bits(ck.params, ex.params));
  EXPECT_TRUE(same_bits(ck.state, ex.state));
  EXPECT_TRUE(same_bits(ck.normalizer.logmel_std, ex.normalizer.logmel_std));
  EXPECT_TRUE(same_bits(ck.normalizer.functional_mean, ex.normalizer.functional_mean));
  EXPECT_EQ(ck.run_config_toml, ex.run_config_toml);
  EXPECT_EQ(ck.feature_config_json, ex.feature_config_json);
  EXPECT_EQ(ck.class_names, ex.class_names);
  EXPECT_EQ(ck.n_prosody, ex.n_prosody);
  // The documented names and metadata keys (docs/export.md).
  const auto f = safetensors::read_file(r.exported);
  for (const char* name : {"blocks.0.conv.weight", "blocks.0.bn.running_mean", "attention.q_proj.weight",
                           "pool.score.weight", "dense.0.weight", "classifier.bias", "normalizer.logmel_mean",
                           "normalizer.functional_std"})
    EXPECT_NE(f.find(name), nullptr) << name;
  EXPECT_EQ(f.find("blocks.0.conv.weight")->shape, (std::vector<std::int64_t>{4, 1, 3, 3}));
  EXPECT_EQ(f.find("classifier.weight")->shape, (std::vector<std::int64_t>{7, 16}));
  for (const char* key : {"format", "format_version", "run_config", "feature_config", "class_names", "n_mels",
                          "n_prosody", "ser_version"})
    EXPECT_TRUE(f.metadata.count(key)) << key;
  EXPECT_EQ(f.metadata.at("format"), "ser-model");
}

TEST(InferenceModelFile, BadModelsAreErrorsNamingTheFile) {
  const TinyRun& r = tiny_run();
  test::TempDir dir;
  const std::string text = dir.file("notes.txt");
  std::ofstream(text) << "not a model at all\n";
  expect_error([&] { inference::load_model_file(text); }, text, "not a ser model");
  expect_error([&] { inference::load_model_file(dir.file("absent.h5")); }, dir.file("absent.h5"), "not found");

  for (const std::string& src : {r.best, r.exported}) {
    const std::string cut = dir.file("cut_" + fs::path(src).filename().string());
    fs::copy_file(src, cut);
    fs::resize_file(cut, fs::file_size(src) * 2 / 3);
    SCOPED_TRACE(cut);
    EXPECT_THROW(inference::load_model_file(cut), Error);
    try {
      inference::load_model_file(cut);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(cut), std::string::npos) << e.what();
    }
  }

  // Exports whose tensors do not fit the network in their run config.
  const auto original = safetensors::read_file(r.exported);
  auto edited = [&](const std::string& name, const std::function<void(safetensors::File&)>& edit) {
    safetensors::File f = original;
    edit(f);
    const std::string p = dir.file(name);
    safetensors::write_file(p, f);
    return p;
  };
  const std::string missing = edited("missing.safetensors", [](safetensors::File& f) {
    f.tensors.erase(std::find_if(f.tensors.begin(), f.tensors.end(), [](auto& t) { return t.name == "dense.0.bias"; }));
  });
  expect_error([&] { inference::load_model_file(missing); }, missing, "'dense.0.bias' missing");
  const std::string shape = edited("shape.safetensors", [](safetensors::File& f) {
    for (auto& t : f.tensors)
      if (t.name == "blocks.1.conv.weight") {
        t.shape[0] = 4;  // (8, 4, 3, 3) -> (4, 4, 3, 3)
        t.values.resize(4 * 4 * 9);
      }
  });
  expect_error([&] { inference::load_model_file(shape); }, shape, "has shape 4x4x3x3, the model expects 8x4x3x3");
  const std::string extra = edited("extra.safetensors", [](safetensors::File& f) { f.tensors.push_back({"stray", {1}, {1.0f}}); });
  expect_error([&] { inference::load_model_file(extra); }, extra, "'stray' is not part of the model");
  const std::string classes = edited("classes.safetensors", [](safetensors::File& f) {
    f.metadata["class_names"] = R"(["a","b","c"])";
  });
  expect_error([&] { inference::load_model_file(classes); }, classes, "classifier");
  const std::string foreign = edited("foreign.safetensors", [](safetensors::File& f) { f.metadata.erase("format"); });
  expect_error([&] { inference::load_model_file(foreign); }, foreign, "not a ser export");
}

// ---- the classifier ------------------------------------------------------------------------------

TEST(InferenceRoundTrip, CheckpointAndExportGiveIdenticalLogitsFromFeaturesAndAudio) {
  const TinyRun& r = tiny_run();
  const Classifier a = Classifier::load(r.best, "cpu");
  const Classifier b = Classifier::load(r.exported, "cpu");
  EXPECT_EQ(a.class_names(), b.class_names());
  EXPECT_NE(b.describe().find("safetensors"), std::string::npos) << b.describe();
  const FeatureCache cache = read_cache(r.cache);
  const std::size_t nf = cache.functional_names.size();
  ASSERT_EQ(static_cast<int>(nf), a.n_functionals());
  for (std::size_t u : {0, 9, 23, 40, 55}) {
    SCOPED_TRACE(cache.paths[u]);
    const float* lm = &cache.logmel[static_cast<std::size_t>(cache.offsets[u]) * 64];
    const int frames = static_cast<int>(cache.offsets[u + 1] - cache.offsets[u]);
    const Prediction pa = a.classify_features(lm, frames, &cache.functionals[u * nf]);
    const Prediction pb = b.classify_features(lm, frames, &cache.functionals[u * nf]);
    EXPECT_TRUE(same_bits(pa.logits, pb.logits));
    // Probabilities: softmax of the logits, summing to 1.
    double sum = 0, denom = 0;
    for (float l : pa.logits) denom += std::exp(double(l));
    for (std::size_t k = 0; k < pa.logits.size(); ++k) {
      EXPECT_NEAR(pa.probabilities[k], std::exp(double(pa.logits[k])) / denom, 1e-6);
      sum += pa.probabilities[k];
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
    EXPECT_EQ(pa.predicted, std::max_element(pa.logits.begin(), pa.logits.end()) - pa.logits.begin());
    // From audio: the same front-end gives the cached features, so the same logits.
    const std::vector<float> audio = synthesize_utterance(r.corpus, u);
    const Prediction qa = a.classify(audio.data(), audio.size(), r.corpus.sample_rate);
    const Prediction qb = b.classify(audio.data(), audio.size(), r.corpus.sample_rate);
    EXPECT_TRUE(same_bits(qa.logits, qb.logits));
    EXPECT_TRUE(same_bits(qa.logits, pa.logits));
    EXPECT_NEAR(qa.end_seconds, double(audio.size()) / r.corpus.sample_rate, 1e-9);
  }
  // Audio at another rate is resampled first; it still classifies (close, not identical, logits).
  const std::vector<float> audio = synthesize_utterance(r.corpus, 9);
  const std::vector<float> at22k = resample(audio, 16000, 22050);
  const Prediction p22 = a.classify(at22k.data(), at22k.size(), 22050);
  ASSERT_EQ(p22.logits.size(), 7u);
  EXPECT_NEAR(p22.end_seconds, double(audio.size()) / 16000, 0.01);
  // Too short for the front-end: a clear error.
  EXPECT_THROW(a.classify(audio.data(), 100, 16000), Error);
  // The log-mel-only input without functionals is refused for a model that fuses them.
  EXPECT_THROW(a.classify_features(cache.logmel.data(), 10, nullptr), Error);
}

TEST(InferenceRoundTrip, PredictionsAgreeWithTheTrainersTestPredictions) {
  const TinyRun& r = tiny_run();
  const Classifier clf = Classifier::load(r.exported, "cpu");
  const FeatureCache cache = read_cache(r.cache);
  std::map<std::string, std::size_t> by_path;
  for (std::size_t u = 0; u < cache.n_utterances(); ++u) by_path[cache.paths[u]] = u;
  std::ifstream in(r.run + "/summary.json");
  const auto summary = nlohmann::json::parse(in);
  const auto& preds = summary.at("test_predictions");
  ASSERT_EQ(preds.size(), 14u);  // syn04: 7 emotions x 2
  const std::size_t nf = cache.functional_names.size();
  int agree = 0;
  for (const auto& p : preds) {
    const std::size_t u = by_path.at(p.at("path").get<std::string>());
    const Prediction q = clf.classify_features(&cache.logmel[static_cast<std::size_t>(cache.offsets[u]) * 64],
                                               static_cast<int>(cache.offsets[u + 1] - cache.offsets[u]),
                                               &cache.functionals[u * nf]);
    agree += q.predicted == p.at("predicted").get<int>();
  }
  EXPECT_EQ(agree, 14);
}

// ---- timelines -----------------------------------------------------------------------------------

TEST(InferenceTimeline, WindowCountsAndTimes) {
  // 10 s, windows of 2 s every 0.5 s: starts 0 .. 8 s, the last full window ends at the end.
  auto w = sliding_windows(160000, 32000, 8000);
  ASSERT_EQ(w.size(), 17u);
  EXPECT_EQ(w[16].begin, 128000u);
  EXPECT_EQ(w[16].end, 160000u);
  // 10.8 s: full windows start at 0 .. 8.5 s (18), then a partial one from 9.0 s to the end (1.8 s).
  w = sliding_windows(172800, 32000, 8000);
  ASSERT_EQ(w.size(), 19u);
  EXPECT_EQ(w[17].begin, 136000u);
  EXPECT_EQ(w[17].end, 168000u);
  EXPECT_EQ(w[18].begin, 144000u);
  EXPECT_EQ(w[18].end, 172800u);
  // Windows of 2 s every 2 s over 5 s: two full ones; the 1 s rest is exactly half a window: kept.
  w = sliding_windows(80000, 32000, 32000);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[2].begin, 64000u);
  EXPECT_EQ(w[2].end, 80000u);
  // ... over 4.9 s the 0.9 s rest is less than half: dropped.
  EXPECT_EQ(sliding_windows(78400, 32000, 32000).size(), 2u);
  // A signal no longer than a window is one window.
  w = sliding_windows(20000, 32000, 8000);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].end, 20000u);
  EXPECT_THROW(sliding_windows(100, 0, 10), Error);
}

TEST(InferenceTimeline, ConcatenatedUtterancesGiveOnePredictionPerWindow) {
  const TinyRun& r = tiny_run();
  const Classifier clf = Classifier::load(r.best, "cpu");
  const std::size_t len = 16000;  // 1 s pieces
  std::vector<float> longer;
  std::vector<std::vector<float>> pieces;
  for (std::size_t u = 0; pieces.size() < 4 && u < 56; u += 5) {
    auto x = synthesize_utterance(r.corpus, u);
    if (x.size() < len) continue;
    x.resize(len);
    longer.insert(longer.end(), x.begin(), x.end());
    pieces.push_back(std::move(x));
  }
  ASSERT_EQ(pieces.size(), 4u);
  const auto t = clf.timeline(longer.data(), longer.size(), 16000, 1.0, 1.0);
  ASSERT_EQ(t.size(), 4u);
  for (std::size_t i = 0; i < t.size(); ++i) {
    EXPECT_DOUBLE_EQ(t[i].start_seconds, double(i));
    EXPECT_DOUBLE_EQ(t[i].end_seconds, double(i + 1));
    const Prediction alone = clf.classify(pieces[i].data(), pieces[i].size(), 16000);
    EXPECT_TRUE(same_bits(t[i].logits, alone.logits)) << "window " << i;
  }
  // Overlapping windows: 0.5 s hop over 4 s with 1 s windows = 7 windows.
  EXPECT_EQ(clf.timeline(longer.data(), longer.size(), 16000, 1.0, 0.5).size(), 7u);
}

// ---- streamed timelines --------------------------------------------------------------------------

// Synthetic speech, utterance after utterance, cut to n samples (16 kHz).
std::vector<float> speech(const TinyRun& r, std::size_t n) {
  std::vector<float> x;
  for (std::size_t u = 0; x.size() < n; ++u) {
    const auto y = synthesize_utterance(r.corpus, u % 56);
    x.insert(x.end(), y.begin(), y.end());
  }
  x.resize(n);
  return x;
}

void expect_same_predictions(const std::vector<Prediction>& got, const std::vector<Prediction>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_DOUBLE_EQ(got[i].start_seconds, want[i].start_seconds) << what << " window " << i;
    EXPECT_DOUBLE_EQ(got[i].end_seconds, want[i].end_seconds) << what << " window " << i;
    EXPECT_TRUE(same_bits(got[i].logits, want[i].logits)) << what << " window " << i;
    EXPECT_TRUE(same_bits(got[i].probabilities, want[i].probabilities)) << what << " window " << i;
    EXPECT_EQ(got[i].predicted, want[i].predicted) << what << " window " << i;
  }
}

TEST(InferenceTimelineStream, StreamedFilesEqualTheInMemoryTimeline) {
  const TinyRun& r = tiny_run();
  const Classifier clf = Classifier::load(r.best, "cpu");
  test::TempDir dir;
  struct Case {
    int rate;
    double seconds, window, hop;
    std::size_t windows;  // sliding_windows' count
  };
  // Lengths over several decoder blocks (65536 frames) and for each end rule: a last partial window
  // kept, the last full window ending at the end, a rest under half a window dropped, a rest of
  // exactly half kept, a signal shorter than one window, a hop longer than the window.
  const std::vector<Case> cases = {
      {16000, 10.8, 2.0, 0.5, 19}, {16000, 10.0, 2.0, 0.5, 17}, {16000, 4.9, 2.0, 2.0, 2},
      {16000, 5.0, 2.0, 2.0, 3},   {16000, 1.3, 2.0, 0.5, 1},   {16000, 7.3, 1.0, 1.5, 5},
      {44100, 10.8, 2.0, 0.5, 19}, {44100, 4.9, 2.0, 2.0, 2},   {22050, 7.3, 1.0, 1.5, 5},
      {44100, 1.3, 2.0, 0.5, 1},
  };
  for (const Case& c : cases) {
    const std::string what = std::to_string(c.rate).append(" Hz, ").append(std::to_string(c.seconds)).append(" s, window ")
                                 .append(std::to_string(c.window)).append(" hop ").append(std::to_string(c.hop));
    const auto n16 = static_cast<std::size_t>(std::llround(c.seconds * 16000));
    const std::vector<float> x = speech(r, n16);
    const std::string path = dir.file("t.wav");
    write_wav16(path, c.rate == 16000 ? x : resample(x, 16000, c.rate), c.rate);
    const Audio a = read_audio(path);
    const std::vector<Prediction> want = clf.timeline(a.samples.data(), a.samples.size(), a.sample_rate, c.window, c.hop);
    ASSERT_EQ(want.size(), c.windows) << what;
    for (std::size_t batch : {std::size_t(1), std::size_t(3), TimelineStream::kDefaultBatch}) {
      std::vector<Prediction> got;
      const StreamedTimeline run =
          stream_timeline(clf, path, c.window, c.hop, [&](Prediction&& p) { got.push_back(std::move(p)); }, batch);
      expect_same_predictions(got, want, what + ", batch " + std::to_string(batch));
      EXPECT_EQ(run.windows, want.size()) << what;
    }
  }
}

TEST(InferenceTimelineStream, PiecesOfAnySizeGiveTheTimelineOfTheWhole) {
  const TinyRun& r = tiny_run();
  const Classifier clf = Classifier::load(r.best, "cpu");
  const std::vector<float> x = speech(r, 172800);  // 10.8 s: ends with a partial window
  const std::vector<Prediction> want = clf.timeline(x.data(), x.size(), 16000, 2.0, 0.5);
  ASSERT_EQ(want.size(), 19u);
  const auto spans = sliding_windows(x.size(), 32000, 8000);
  for (std::size_t i = 0; i < spans.size(); ++i) {
    EXPECT_DOUBLE_EQ(want[i].start_seconds, spans[i].begin / 16000.0);
    EXPECT_DOUBLE_EQ(want[i].end_seconds, spans[i].end / 16000.0);
  }
  for (std::size_t piece : {std::size_t(1000), std::size_t(7919), std::size_t(32000), x.size()}) {
    std::vector<Prediction> got;
    TimelineStream s(clf, 2.0, 0.5, [&](Prediction&& p) { got.push_back(std::move(p)); }, 4);
    for (std::size_t i = 0; i < x.size(); i += piece) s.push(x.data() + i, std::min(piece, x.size() - i));
    EXPECT_LT(got.size(), want.size()) << "the last windows wait for finish()";
    s.finish();
    expect_same_predictions(got, want, "pieces of " + std::to_string(piece));
    EXPECT_THROW(s.push(x.data(), 1), Error);
  }
  // Predictions come out while the audio is still arriving, a batch at a time.
  std::size_t seen = 0;
  TimelineStream s(clf, 2.0, 0.5, [&](Prediction&&) { ++seen; }, 4);
  s.push(x.data(), 32000 + 3 * 8000);  // windows 0..3 complete
  EXPECT_EQ(seen, 4u);
  EXPECT_THROW(TimelineStream(clf, 0.0, 0.5, [](Prediction&&) {}), Error);
  EXPECT_THROW(clf.timeline(x.data(), 100, 16000, 2.0, 0.5), Error) << "too short for the front-end";
}

TEST(InferenceTimelineStream, MemoryDoesNotGrowWithTheRecordingsLength) {
  const TinyRun& r = tiny_run();
  const Classifier clf = Classifier::load(r.best, "cpu");
  test::TempDir dir;
  const std::vector<float> x = speech(r, 16000 * 12);
  // The same 12 s repeated: 24 s and 120 s files at 44.1 kHz (decoded, resampled and windowed).
  std::map<int, StreamedTimeline> runs;
  for (int repeats : {2, 10}) {
    std::vector<float> longer;
    for (int i = 0; i < repeats; ++i) longer.insert(longer.end(), x.begin(), x.end());
    const std::string path = dir.file("r" + std::to_string(repeats) + ".wav");
    write_wav16(path, resample(longer, 16000, 44100), 44100);
    runs[repeats] = stream_timeline(clf, path, 2.0, 1.0, [](Prediction&&) {}, 8);
    EXPECT_EQ(runs[repeats].samples, longer.size());
  }
  EXPECT_EQ(runs[10].windows, 119u);
  EXPECT_EQ(runs[10].peak_samples_held, runs[2].peak_samples_held) << "held samples grow with the length";
  // One decoded block, its resampled block, the window buffer and a batch of 8 windows, with room
  // for vector growth: far below the 120 s (1.9 M samples) of the file.
  const std::size_t block = AudioFileStream::kBlockFrames, window = 32000;
  EXPECT_LE(runs[10].peak_samples_held, 2 * block + 2 * window + 8 * window) << runs[10].peak_samples_held;
  // The in-memory stream alone: one window of buffer plus the batch, whatever the length.
  std::map<std::size_t, std::size_t> peak;
  for (std::size_t seconds : {std::size_t(20), std::size_t(200)}) {
    TimelineStream s(clf, 2.0, 0.5, [](Prediction&&) {}, 8);
    for (std::size_t t = 0; t < seconds; t += 4) s.push(x.data() + (t % 12) * 16000, 4 * 16000);
    s.finish();
    peak[seconds] = s.peak_samples_held();
  }
  EXPECT_EQ(peak[200], peak[20]);
  EXPECT_LE(peak[200], 2 * window + 8 * window);
}

TEST(InferenceTimelineStream, BadFilesAreErrorsNamingTheFile) {
  const TinyRun& r = tiny_run();
  const Classifier clf = Classifier::load(r.best, "cpu");
  test::TempDir dir;
  const auto none = [](Prediction&&) {};
  expect_error([&] { stream_timeline(clf, dir.file("missing.wav"), 2.0, 0.5, none); }, dir.file("missing.wav"), "file not found");
  const std::string garbage = dir.file("garbage.wav");
  write_bytes(garbage, "RIFF....WAVEfmt garbage");
  expect_error([&] { stream_timeline(clf, garbage, 2.0, 0.5, none); }, garbage, "");
  const std::string cut = dir.file("cut.wav");
  write_wav16(cut, speech(r, 64000), 16000);
  fs::resize_file(cut, 50000);
  expect_error([&] { stream_timeline(clf, cut, 2.0, 0.5, none); }, cut, "truncated WAV file");
  const std::string tiny = dir.file("tiny.wav");
  write_wav16(tiny, speech(r, 100), 16000);
  expect_error([&] { stream_timeline(clf, tiny, 2.0, 0.5, none); }, tiny, "audio too short");
  expect_error([&] { stream_timeline(clf, tiny, -1.0, 0.5, none); }, tiny, "window and hop must be positive");
}

// ---- the CLI -------------------------------------------------------------------------------------

TEST(InferenceCli, ExportThenPredictFromCacheAndAudio) {
  const TinyRun& r = tiny_run();
  test::TempDir dir;
  std::string out;
  const std::string exported = dir.file("m.safetensors");
  ASSERT_EQ(test::run_ser("export --checkpoint " + r.best + " --format safetensors --out " + exported, &out), 0) << out;
  EXPECT_EQ(read_bytes(exported), read_bytes(r.exported)) << "the CLI and the library write different files";
  // An export is itself a model `ser export` reads; the ONNX graph comes from either.
  ASSERT_EQ(test::run_ser("export --checkpoint " + exported + " --format onnx --out " + dir.file("m.onnx"), &out), 0) << out;
  EXPECT_GT(fs::file_size(dir.file("m.onnx")), fs::file_size(exported) / 2);

  // Features mode: JSON with logits to 9 digits, equal to the library's.
  const std::string json_path = dir.file("p.json");
  ASSERT_EQ(test::run_ser("predict --model " + exported + " --cache " + r.cache +
                              " --limit 5 --format json --device cpu --out " + json_path, &out), 0) << out;
  std::ifstream in(json_path);
  const auto j = nlohmann::json::parse(in);
  ASSERT_EQ(j.at("results").size(), 5u);
  EXPECT_EQ(j.at("class_names").size(), 7u);
  const Classifier clf = Classifier::load(exported, "cpu");
  const FeatureCache cache = read_cache(r.cache);
  for (std::size_t u = 0; u < 5; ++u) {
    const auto& row = j["results"][u];
    EXPECT_EQ(row.at("file"), cache.paths[u]);
    const Prediction p = clf.classify_features(&cache.logmel[static_cast<std::size_t>(cache.offsets[u]) * 64],
                                               static_cast<int>(cache.offsets[u + 1] - cache.offsets[u]),
                                               &cache.functionals[u * cache.functional_names.size()]);
    const auto logits = row.at("logits").get<std::vector<float>>();
    EXPECT_TRUE(same_bits(logits, p.logits)) << row.dump();  // %.9g round-trips a float
    EXPECT_EQ(row.at("predicted"), clf.class_names()[static_cast<std::size_t>(p.predicted)]);
  }

  // Audio mode: a folder of WAVs (one at 22.05 kHz) as a table and as CSV.
  fs::create_directories(dir.file("wavs/sub"));
  const auto u0 = synthesize_utterance(r.corpus, 0), u1 = synthesize_utterance(r.corpus, 30);
  write_wav16(dir.file("wavs/b.wav"), u0, 16000);
  write_wav16(dir.file("wavs/sub/a.wav"), resample(u1, 16000, 22050), 22050);
  std::ofstream(dir.file("wavs/readme.txt")) << "not audio";
  ASSERT_EQ(test::run_ser("predict --model " + r.best + " --device cpu " + dir.file("wavs"), &out), 0) << out;
  EXPECT_NE(out.find("b.wav"), std::string::npos) << out;
  EXPECT_NE(out.find("sub/a.wav"), std::string::npos) << out;
  EXPECT_EQ(out.find("readme"), std::string::npos) << out;
  EXPECT_LT(out.find("b.wav"), out.find("sub/a.wav")) << "folder entries are sorted";
  ASSERT_EQ(test::run_ser("predict --model " + r.best + " --device cpu --format csv --out " + dir.file("p.csv") + " " +
                              dir.file("wavs/b.wav"), &out), 0) << out;
  std::ifstream csv(dir.file("p.csv"));
  std::string header, line;
  std::getline(csv, header);
  std::getline(csv, line);
  EXPECT_EQ(header.rfind("file,predicted,p_", 0), 0u) << header;
  const Prediction p0 = clf.classify(u0.data(), u0.size(), 16000);
  EXPECT_NE(line.find("," + clf.class_names()[static_cast<std::size_t>(p0.predicted)] + ","), std::string::npos) << line;

  // Timeline: 3 s of audio, windows of 1 s every 0.5 s = 5 rows with their spans.
  std::vector<float> three;
  for (std::size_t u = 0; three.size() < 48000; ++u) {
    const auto x = synthesize_utterance(r.corpus, u);
    three.insert(three.end(), x.begin(), x.end());
  }
  three.resize(48000);
  write_wav16(dir.file("long.wav"), three, 16000);
  ASSERT_EQ(test::run_ser("predict --model " + exported + " --device cpu --timeline --window 1 --hop 0.5 --format json --out " +
                              dir.file("t.json") + " " + dir.file("long.wav"), &out), 0) << out;
  std::ifstream tin(dir.file("t.json"));
  const auto tj = nlohmann::json::parse(tin);
  ASSERT_EQ(tj.at("results").size(), 5u);
  EXPECT_DOUBLE_EQ(tj["results"][4].at("start_seconds").get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(tj["results"][4].at("end_seconds").get<double>(), 3.0);
}

TEST(InferenceCli, TimelineRowsEqualTheLibrarysAndNameAFileThatFailsPartway) {
  const TinyRun& r = tiny_run();
  const Classifier clf = Classifier::load(r.best, "cpu");
  test::TempDir dir;
  std::string out;
  // 10.8 s at 44.1 kHz, windows of 2 s every 0.5 s: 19 CSV rows, spans and classes as the library's.
  const std::string wav = dir.file("long44.wav");
  write_wav16(wav, resample(speech(r, 172800), 16000, 44100), 44100);
  const Audio a = read_audio(wav);
  const auto want = clf.timeline(a.samples.data(), a.samples.size(), a.sample_rate, 2.0, 0.5);
  ASSERT_EQ(test::run_ser("predict --model " + r.best + " --device cpu --timeline --format csv " + wav, &out), 0) << out;
  std::istringstream lines(out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(wav + ",", 0) == 0) rows.push_back(line);
  ASSERT_EQ(rows.size(), want.size()) << out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    char start[32], end[32];
    std::snprintf(start, sizeof start, "%.3f", want[i].start_seconds);
    std::snprintf(end, sizeof end, "%.3f", want[i].end_seconds);
    const std::string cls = clf.class_names()[static_cast<std::size_t>(want[i].predicted)];
    EXPECT_EQ(rows[i].rfind(wav + "," + start + "," + end + "," + cls + ",", 0), 0u) << rows[i];
  }
  // A float WAV with a NaN 25 s in (decoder block 6): the 16 windows of the first batch are
  // written, then the error names the file; with --on-error skip the next file is still classified
  // and the partly written file is reported.
  std::vector<float> x = speech(r, 480000);
  x[400000] = std::numeric_limits<float>::quiet_NaN();
  const std::string nan = dir.file("nan.wav");
  {
    std::ofstream f(nan, std::ios::binary);
    const auto le = [&f](std::uint32_t v, int bytes) {
      for (int i = 0; i < bytes; ++i) f.put(static_cast<char>((v >> (8 * i)) & 0xff));
    };
    const auto data_bytes = static_cast<std::uint32_t>(x.size() * 4);
    f << "RIFF";
    le(36 + data_bytes, 4);
    f << "WAVEfmt ";
    le(16, 4), le(3, 2), le(1, 2), le(16000, 4), le(64000, 4), le(4, 2), le(32, 2);  // IEEE float, mono
    f << "data";
    le(data_bytes, 4);
    f.write(reinterpret_cast<const char*>(x.data()), static_cast<std::streamsize>(data_bytes));
  }
  EXPECT_EQ(test::run_ser("predict --model " + r.best + " --device cpu --timeline --window 1 --hop 1 " + nan, &out), 1) << out;
  EXPECT_NE(out.find(nan + ": contains a NaN or infinite sample (frame 400000"), std::string::npos) << out;
  EXPECT_EQ(test::run_ser("predict --model " + r.best + " --device cpu --timeline --window 1 --hop 1 --on-error skip " +
                              nan + " " + wav, &out), 0) << out;
  EXPECT_NE(out.find("(its first 16 windows were already written)"), std::string::npos) << out;
  EXPECT_NE(out.find(wav + "  "), std::string::npos) << out;
  // --out: nothing is left behind when a file fails.
  EXPECT_EQ(test::run_ser("predict --model " + r.best + " --device cpu --timeline --out " + dir.file("t.csv") + " " + nan, &out), 1);
  EXPECT_FALSE(fs::exists(dir.file("t.csv")));
}

TEST(InferenceCli, BadInputsExitWithOneNamingTheFile) {
  const TinyRun& r = tiny_run();
  test::TempDir dir;
  std::string out;
  // A text file as the model.
  const std::string text = dir.file("model.txt");
  std::ofstream(text) << "hello\n";
  EXPECT_EQ(test::run_ser("predict --model " + text + " --cache " + r.cache, &out), 1) << out;
  EXPECT_NE(out.find(text + ": not a ser model"), std::string::npos) << out;
  // Truncated checkpoint and export.
  for (const std::string& src : {r.best, r.exported}) {
    const std::string cut = dir.file("cut-" + fs::path(src).filename().string());
    fs::copy_file(src, cut);
    fs::resize_file(cut, fs::file_size(src) / 2);
    EXPECT_EQ(test::run_ser("predict --model " + cut + " --cache " + r.cache, &out), 1) << out;
    EXPECT_NE(out.find(cut), std::string::npos) << out;
    EXPECT_EQ(test::run_ser("export --checkpoint " + cut + " --out " + dir.file("x.safetensors"), &out), 1) << out;
    EXPECT_NE(out.find(cut), std::string::npos) << out;
  }
  // A cache made with another feature config (80 mel bands), and one with other classes: refused,
  // naming the differing field or the class lists.
  const std::vector<std::string> classes = read_cache(r.cache).class_names;
  const auto fake_cache = [&](const std::string& path, const FeatureConfig& cfg, const std::vector<std::string>& names) {
    CacheWriter w(path, cfg, "test", "cpu", names);
    UtteranceFeatures f;
    f.n_frames = 50;
    f.logmel = test::random_signal(static_cast<std::size_t>(50 * cfg.logmel.n_mels), 5);
    f.prosody = test::random_signal(50 * prosody_names().size(), 6);
    f.functionals = test::random_signal(functional_names().size(), 7);
    w.add("a.wav", "s1", 0, f);
    w.add("b.wav", "s2", 1, f);
    w.commit();
  };
  FeatureConfig mels80;
  mels80.logmel.n_mels = 80;
  const std::string wrong = dir.file("mels80.h5");
  fake_cache(wrong, mels80, classes);
  EXPECT_EQ(test::run_ser("predict --model " + r.exported + " --cache " + wrong + " --format json", &out), 1) << out;
  EXPECT_NE(out.find(wrong), std::string::npos) << out;
  EXPECT_NE(out.find("logmel.n_mels"), std::string::npos) << out;
  const std::string other_classes = dir.file("classes.h5");
  fake_cache(other_classes, FeatureConfig{}, {"calm", "surprise"});
  EXPECT_EQ(test::run_ser("predict --model " + r.best + " --cache " + other_classes, &out), 1) << out;
  EXPECT_NE(out.find(other_classes + ": its classes"), std::string::npos) << out;
  // The same fake cache with the model's classes is accepted (its features are random, not checked).
  const std::string fine = dir.file("fine.h5");
  fake_cache(fine, FeatureConfig{}, classes);
  EXPECT_EQ(test::run_ser("predict --model " + r.best + " --cache " + fine, &out), 0) << out;
  // A bad audio file among good ones: exit 1 naming it; with --on-error skip the rest is classified.
  const std::string good = dir.file("good.wav"), bad = dir.file("bad.wav");
  write_wav16(good, synthesize_utterance(r.corpus, 3), 16000);
  std::ofstream(bad) << "RIFF....WAVEfmt garbage";
  EXPECT_EQ(test::run_ser("predict --model " + r.best + " --device cpu " + good + " " + bad, &out), 1) << out;
  EXPECT_NE(out.find(bad), std::string::npos) << out;
  EXPECT_EQ(test::run_ser("predict --model " + r.best + " --device cpu --on-error skip " + good + " " + bad, &out), 0) << out;
  EXPECT_NE(out.find("good.wav"), std::string::npos) << out;
  EXPECT_NE(out.find("skipped 1 file"), std::string::npos) << out;
  // Neither audio nor a cache.
  EXPECT_EQ(test::run_ser("predict --model " + r.best, &out), 1) << out;
}

}  // namespace
}  // namespace ser
