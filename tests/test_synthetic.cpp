// The synthetic corpus: determinism, manifest layout, signal sanity, emotion and speaker cues, and
// the on-disk writer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ser/audio.hpp"
#include "ser/error.hpp"
#include "ser/synthetic.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

// ---- small signal measures written for these tests -------------------------------------------

double mean_square(const std::vector<float>& x, std::size_t from = 0, std::size_t to = SIZE_MAX) {
  to = std::min(to, x.size());
  double e = 0.0;
  for (std::size_t i = from; i < to; ++i) e += double(x[i]) * x[i];
  return to > from ? e / double(to - from) : 0.0;
}

double db(double power) { return 10.0 * std::log10(power + 1e-20); }

// Median F0 (Hz) over voiced frames by plain normalised autocorrelation: 32 ms frames every 20 ms,
// frames within 20 dB of the loudest, lag range 65..500 Hz, voiced when the peak exceeds 0.6.
double median_f0(const std::vector<float>& x, int fs) {
  const std::size_t len = std::size_t(0.032 * fs), hop = std::size_t(0.02 * fs);
  const int lag_min = fs / 500, lag_max = fs / 65;
  std::vector<double> energies;
  for (std::size_t s = 0; s + len <= x.size(); s += hop) energies.push_back(mean_square(x, s, s + len));
  const double loudest = *std::max_element(energies.begin(), energies.end());
  std::vector<double> f0s;
  std::vector<double> frame(len);
  for (std::size_t f = 0, s = 0; s + len <= x.size(); ++f, s += hop) {
    if (energies[f] < loudest * 0.01) continue;
    double mean = 0.0;
    for (std::size_t i = 0; i < len; ++i) mean += x[s + i];
    mean /= double(len);
    for (std::size_t i = 0; i < len; ++i) frame[i] = x[s + i] - mean;
    double r0 = 0.0;
    for (double v : frame) r0 += v * v;
    double best = 0.0;
    int best_lag = 0;
    for (int lag = lag_min; lag <= lag_max; ++lag) {
      double r = 0.0;
      for (std::size_t i = 0; i + lag < len; ++i) r += frame[i] * frame[i + lag];
      r /= r0;
      if (r > best) {
        best = r;
        best_lag = lag;
      }
    }
    if (best > 0.6) f0s.push_back(double(fs) / best_lag);
  }
  if (f0s.empty()) return 0.0;
  std::nth_element(f0s.begin(), f0s.begin() + f0s.size() / 2, f0s.end());
  return f0s[f0s.size() / 2];
}

// FNV-1a over the float bit patterns: a fingerprint of a rendering.
std::uint64_t fingerprint(const std::vector<float>& x) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (float v : x) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    for (int b = 0; b < 4; ++b) {
      h ^= (bits >> (8 * b)) & 0xFFu;
      h *= 0x100000001B3ull;
    }
  }
  return h;
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// The default corpus rendered once and measured, shared by the cue tests.
struct Measured {
  std::string speaker, label, gender;
  double duration_s, energy_db, f0_hz;
};
const std::vector<Measured>& default_corpus_measures() {
  static const std::vector<Measured> measures = [] {
    const SyntheticCorpusConfig cfg;
    const Manifest m = synthetic_manifest(cfg);
    std::vector<Measured> out;
    for (std::size_t i = 0; i < m.utterances.size(); ++i) {
      const auto x = synthesize_utterance(cfg, i);
      const Utterance& u = m.utterances[i];
      out.push_back({u.speaker, u.label, u.fields.at("gender"), double(x.size()) / cfg.sample_rate,
                     db(mean_square(x)), median_f0(x, cfg.sample_rate)});
    }
    return out;
  }();
  return measures;
}

// Mean of a measure over the utterances of one speaker and one emotion.
double mean_of(const std::string& speaker, const std::string& label, double Measured::*field) {
  double sum = 0.0;
  int n = 0;
  for (const auto& m : default_corpus_measures()) {
    if (m.speaker == speaker && m.label == label) {
      sum += m.*field;
      ++n;
    }
  }
  EXPECT_GT(n, 0) << speaker << " " << label;
  return n ? sum / n : 0.0;
}

// ---- determinism ------------------------------------------------------------------------------

TEST(SyntheticDeterminism, SameConfigSameBits) {
  const SyntheticCorpusConfig cfg;
  for (std::size_t i : {std::size_t(0), std::size_t(37), std::size_t(559)}) {
    const auto a = synthesize_utterance(cfg, i);
    const auto b = synthesize_utterance(SyntheticCorpusConfig(cfg), i);
    EXPECT_TRUE(bit_identical(a, b)) << "utterance " << i;
  }
}

TEST(SyntheticDeterminism, UtterancesDoNotDependOnEachOther) {
  // Rendering order, the emotion list and the corpus size do not change an utterance: each one has
  // its own random stream keyed by (seed, speaker, emotion name, index).
  const SyntheticCorpusConfig cfg;
  const auto direct = synthesize_utterance(cfg, 3 * 70 + 3 * 10 + 4);  // spk04 angry_005
  (void)synthesize_utterance(cfg, 5);
  EXPECT_TRUE(bit_identical(direct, synthesize_utterance(cfg, 3 * 70 + 3 * 10 + 4)));

  SyntheticCorpusConfig other = cfg;
  other.emotions = {"angry", "surprise"};
  other.n_speakers = 4;
  other.utterances_per_emotion = 5;
  EXPECT_TRUE(bit_identical(direct, synthesize_utterance(other, 3 * 10 + 0 * 5 + 4)));
}

TEST(SyntheticDeterminism, SeedChangesTheAudio) {
  SyntheticCorpusConfig a, b;
  b.seed = a.seed + 1;
  EXPECT_FALSE(bit_identical(synthesize_utterance(a, 0), synthesize_utterance(b, 0)));
  // and different utterances of the same config differ too
  EXPECT_FALSE(bit_identical(synthesize_utterance(a, 0), synthesize_utterance(a, 1)));
}

TEST(SyntheticDeterminism, GoldenFingerprint) {
  // Pins the exact output so a platform or compiler that renders different bits is caught.
  // The generator uses its own RNG and elementary functions (src/synth/det_math.hpp) for this.
  // If you changed the generator on purpose, update these values (and say so in the commit).
  const SyntheticCorpusConfig cfg;
  const auto first = synthesize_utterance(cfg, 0);
  const auto later = synthesize_utterance(cfg, 123);
  EXPECT_EQ(first.size(), 20581u);
  EXPECT_EQ(fingerprint(first), 13085149619531842659ull);
  EXPECT_EQ(later.size(), 21560u);
  EXPECT_EQ(fingerprint(later), 3858143729067797353ull);
}

// ---- manifest ---------------------------------------------------------------------------------

TEST(SyntheticManifest, ShapeOrderAndNames) {
  const SyntheticCorpusConfig cfg;
  const Manifest m = synthetic_manifest(cfg);
  EXPECT_EQ(m.corpus, "synthetic");
  EXPECT_EQ(m.root, "");
  EXPECT_EQ(m.class_names, cfg.emotions);
  ASSERT_EQ(m.utterances.size(), 8u * 7u * 10u);

  const Utterance& first = m.utterances.front();
  EXPECT_EQ(first.path, "synthetic/spk01/neutral_001.wav");
  EXPECT_EQ(first.label, "neutral");
  EXPECT_EQ(first.speaker, "syn01");
  EXPECT_EQ(first.fields.at("synthetic"), "yes");
  EXPECT_EQ(first.fields.at("gender"), "female");
  EXPECT_EQ(m.utterances[10].path, "synthetic/spk01/happy_001.wav");
  EXPECT_EQ(m.utterances[69].path, "synthetic/spk01/boredom_010.wav");
  EXPECT_EQ(m.utterances[70].path, "synthetic/spk02/neutral_001.wav");
  EXPECT_EQ(m.utterances[70].speaker, "syn02");
  EXPECT_EQ(m.utterances[70].fields.at("gender"), "male");
  EXPECT_EQ(m.utterances.back().path, "synthetic/spk08/boredom_010.wav");

  // speaker-major, then emotion (in cfg order), then index
  for (std::size_t i = 0; i < m.utterances.size(); ++i) {
    const Utterance& u = m.utterances[i];
    const std::size_t spk = i / 70, emo = (i / 10) % 7, idx = i % 10;
    EXPECT_EQ(u.label, cfg.emotions[emo]);
    EXPECT_EQ(m.label_index(u.label), int(emo));
    char expect[64];
    std::snprintf(expect, sizeof expect, "synthetic/spk%02zu/%s_%03zu.wav", spk + 1, cfg.emotions[emo].c_str(),
                  idx + 1);
    EXPECT_EQ(u.path, expect);
    EXPECT_EQ(u.fields.at("gender"), spk % 2 == 0 ? "female" : "male");
  }
  const std::vector<std::string> speakers = {"syn01", "syn02", "syn03", "syn04",
                                             "syn05", "syn06", "syn07", "syn08"};
  EXPECT_EQ(m.speakers(), speakers);
}

TEST(SyntheticManifest, BadConfigsAreErrors) {
  SyntheticCorpusConfig cfg;
  cfg.emotions = {"neutral", "joy"};
  EXPECT_THROW(synthetic_manifest(cfg), Error);
  EXPECT_THROW(synthesize_utterance(cfg, 0), Error);
  try {
    synthetic_manifest(cfg);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("joy"), std::string::npos) << e.what();
  }
  cfg.emotions = {"sad", "sad"};
  EXPECT_THROW(synthetic_manifest(cfg), Error);
  cfg = SyntheticCorpusConfig{};
  cfg.n_speakers = 0;
  EXPECT_THROW(synthetic_manifest(cfg), Error);
  cfg = SyntheticCorpusConfig{};
  cfg.sample_rate = 100;
  EXPECT_THROW(synthetic_manifest(cfg), Error);
  cfg = SyntheticCorpusConfig{};
  EXPECT_THROW(synthesize_utterance(cfg, 560), Error);
}

// ---- signal sanity ----------------------------------------------------------------------------

TEST(SyntheticAudio, EveryEmotionRendersSaneAudio) {
  SyntheticCorpusConfig cfg;
  cfg.n_speakers = 2;
  cfg.utterances_per_emotion = 3;
  cfg.emotions = synthetic_emotions();
  ASSERT_EQ(cfg.emotions.size(), 9u);
  const Manifest m = synthetic_manifest(cfg);
  for (std::size_t i = 0; i < m.utterances.size(); ++i) {
    const auto x = synthesize_utterance(cfg, i);
    const std::string what = m.utterances[i].path;
    const double seconds = double(x.size()) / cfg.sample_rate;
    EXPECT_GE(seconds, 1.2) << what;
    EXPECT_LE(seconds, 3.0) << what;
    float peak = 0.0f;
    for (float v : x) {
      ASSERT_TRUE(std::isfinite(v)) << what;
      peak = std::max(peak, std::abs(v));
    }
    EXPECT_LT(peak, 1.0f) << what;
    EXPECT_GT(peak, 0.03f) << what;                             // normalised, not silent
    EXPECT_GT(db(mean_square(x)), -45.0) << what;               // speech energy is there
    EXPECT_LT(db(mean_square(x, 0, 800)), -50.0) << what;       // leading 50 ms: noise floor
    EXPECT_GT(db(mean_square(x, 0, 800)), -70.0) << what;       // ... but not digital silence
  }
}

TEST(SyntheticAudio, OtherSampleRates) {
  for (int fs : {8000, 22050, 44100}) {
    SyntheticCorpusConfig cfg;
    cfg.sample_rate = fs;
    for (std::size_t i : {std::size_t(0), std::size_t(75), std::size_t(333)}) {
      const auto x = synthesize_utterance(cfg, i);
      const double seconds = double(x.size()) / fs;
      EXPECT_GE(seconds, 1.2) << fs;
      EXPECT_LE(seconds, 3.0) << fs;
      float peak = 0.0f;
      for (float v : x) {
        ASSERT_TRUE(std::isfinite(v)) << fs;
        peak = std::max(peak, std::abs(v));
      }
      EXPECT_LT(peak, 1.0f);
      EXPECT_GT(peak, 0.03f);
    }
  }
}

// ---- emotion and speaker cues -----------------------------------------------------------------

TEST(SyntheticCues, AngryIsLouderThanSad) {
  for (int s = 1; s <= 8; ++s) {
    const std::string spk = "syn0" + std::to_string(s);
    EXPECT_GT(mean_of(spk, "angry", &Measured::energy_db), mean_of(spk, "sad", &Measured::energy_db) + 6.0) << spk;
    EXPECT_GT(mean_of(spk, "happy", &Measured::energy_db), mean_of(spk, "boredom", &Measured::energy_db)) << spk;
  }
}

TEST(SyntheticCues, ArousedEmotionsArePitchedHigher) {
  for (int s = 1; s <= 8; ++s) {
    const std::string spk = "syn0" + std::to_string(s);
    const double low = std::max(mean_of(spk, "sad", &Measured::f0_hz), mean_of(spk, "boredom", &Measured::f0_hz));
    for (const char* high : {"angry", "happy", "fear"})
      EXPECT_GT(mean_of(spk, high, &Measured::f0_hz), low * 1.15) << spk << " " << high;
    EXPECT_GT(mean_of(spk, "neutral", &Measured::f0_hz), mean_of(spk, "boredom", &Measured::f0_hz)) << spk;
  }
}

TEST(SyntheticCues, FemaleSpeakersArePitchedAboveMale) {
  double lowest_female = 1e9, highest_male = 0.0;
  for (int s = 1; s <= 8; ++s) {
    const std::string spk = "syn0" + std::to_string(s);
    const double f0 = mean_of(spk, "neutral", &Measured::f0_hz);
    if (s % 2 == 1) lowest_female = std::min(lowest_female, f0);
    else highest_male = std::max(highest_male, f0);
  }
  EXPECT_GT(lowest_female, highest_male * 1.2);
  EXPECT_GT(highest_male, 80.0);
  EXPECT_LT(lowest_female, 320.0);
}

TEST(SyntheticCues, SadAndBoredSpeechIsSlower) {
  double slow = 0.0, fast = 0.0;
  for (int s = 1; s <= 8; ++s) {
    const std::string spk = "syn0" + std::to_string(s);
    slow += mean_of(spk, "sad", &Measured::duration_s) + mean_of(spk, "boredom", &Measured::duration_s);
    fast += mean_of(spk, "angry", &Measured::duration_s) + mean_of(spk, "fear", &Measured::duration_s);
  }
  EXPECT_GT(slow, fast * 1.15);
}

TEST(SyntheticCues, SpeakersDiffer) {
  // Same text, same emotion, different speakers: different audio and different pitch.
  SyntheticCorpusConfig cfg;
  const auto a = synthesize_utterance(cfg, 0);        // syn01 neutral_001
  const auto b = synthesize_utterance(cfg, 2 * 70);   // syn03 neutral_001
  EXPECT_FALSE(bit_identical(a, b));
  std::map<std::string, double> f0;
  for (int s = 1; s <= 8; ++s) {
    const std::string spk = "syn0" + std::to_string(s);
    f0[spk] = mean_of(spk, "neutral", &Measured::f0_hz);
  }
  int distinct = 0;
  for (const auto& [x, fx] : f0)
    for (const auto& [y, fy] : f0)
      if (x < y && std::abs(fx - fy) > 3.0) ++distinct;
  EXPECT_GE(distinct, 24);  // of 28 pairs
}

// ---- writer -----------------------------------------------------------------------------------

TEST(SyntheticCorpus, WritesWavsManifestAndReadme) {
  test::TempDir dir;
  SyntheticCorpusConfig cfg;
  cfg.n_speakers = 2;
  cfg.utterances_per_emotion = 2;
  cfg.emotions = {"sad", "angry"};
  cfg.seed = 7;
  write_synthetic_corpus(cfg, dir.path().string());

  std::ifstream csv(dir.file("manifest.csv"));
  ASSERT_TRUE(csv.good());
  std::vector<std::string> lines;
  for (std::string line; std::getline(csv, line);) lines.push_back(line);
  const std::vector<std::string> expect = {
      "path,label,speaker",          "spk01/sad_001.wav,sad,syn01",     "spk01/sad_002.wav,sad,syn01",
      "spk01/angry_001.wav,angry,syn01", "spk01/angry_002.wav,angry,syn01", "spk02/sad_001.wav,sad,syn02",
      "spk02/sad_002.wav,sad,syn02",     "spk02/angry_001.wav,angry,syn02", "spk02/angry_002.wav,angry,syn02"};
  EXPECT_EQ(lines, expect);

  std::ifstream readme_file(dir.file("README.txt"));
  std::stringstream readme;
  readme << readme_file.rdbuf();
  EXPECT_NE(readme.str().find("SYNTHETIC"), std::string::npos);
  EXPECT_NE(readme.str().find("seed                   7"), std::string::npos) << readme.str();

  const Manifest m = synthetic_manifest(cfg);
  for (std::size_t i = 0; i < m.utterances.size(); ++i) {
    const std::string path = dir.file(lines[i + 1].substr(0, lines[i + 1].find(',')));
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    EXPECT_EQ("synthetic/" + lines[i + 1].substr(0, lines[i + 1].find(',')), m.utterances[i].path);
    const Audio a = read_audio(path);
    const auto x = synthesize_utterance(cfg, i);
    EXPECT_EQ(a.sample_rate, cfg.sample_rate);
    ASSERT_EQ(a.samples.size(), x.size()) << path;
    float worst = 0.0f;
    for (std::size_t k = 0; k < x.size(); ++k) worst = std::max(worst, std::abs(a.samples[k] - x[k]));
    EXPECT_LE(worst, 2.0f / 32768.0f) << path;  // 16-bit quantisation only
  }
}

TEST(SyntheticCorpus, BadConfigWritesNothing) {
  test::TempDir dir;
  SyntheticCorpusConfig cfg;
  cfg.emotions = {"anger"};
  EXPECT_THROW(write_synthetic_corpus(cfg, dir.file("out")), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
}

}  // namespace
}  // namespace ser
