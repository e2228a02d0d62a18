// fuzz_seeds OUT_DIR — writes each harness's seed corpus (OUT_DIR/<harness>/) with the library's
// own writers, so the seeds are the valid files users have: audio in several containers and
// encodings, every corpus's label file, a feature config, a cache, a checkpoint and an export of a
// tiny trained model. The run-config seeds are the shipped experiments/*.toml (tools/fuzz.sh).
#include <sndfile.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "inference/model_file.hpp"
#include "engine/checkpoint.hpp"
#include "ser/audio.hpp"
#include "ser/cache.hpp"
#include "ser/corpus.hpp"
#include "ser/error.hpp"
#include "ser/extract.hpp"
#include "ser/model_config.hpp"
#include "ser/prosody.hpp"
#include "ser/synthetic.hpp"
#include "ser/train.hpp"

namespace {

namespace fs = std::filesystem;

void write_bytes(const fs::path& file, const std::string& bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file.string(), std::ios::binary);
  out << bytes;
  if (!out) throw ser::file_error(file.string(), "cannot write a seed");
}

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file.string(), std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// (frames * channels) samples of a decaying two-tone signal.
std::vector<float> tone(int frames, int channels, int rate) {
  std::vector<float> x(static_cast<std::size_t>(frames) * static_cast<std::size_t>(channels));
  for (int f = 0; f < frames; ++f)
    for (int c = 0; c < channels; ++c)
      x[static_cast<std::size_t>(f * channels + c)] =
          0.4f * std::exp(-2.0f * f / rate) * std::sin(6.283f * (220.0f + 110.0f * c) * f / rate);
  return x;
}

void write_sndfile(const fs::path& file, int format, int rate, int channels, int frames) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(file.string().c_str(), SFM_WRITE, &info);
  if (!f) throw ser::file_error(file.string(), sf_strerror(nullptr));
  const std::vector<float> x = tone(frames, channels, rate);
  sf_writef_float(f, x.data(), frames);
  sf_close(f);
}

void audio_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  write_sndfile(dir / "pcm16_16k_mono.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 3200);
  write_sndfile(dir / "pcm24_44k1_stereo.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 44100, 2, 4410);
  write_sndfile(dir / "pcm32_48k_mono.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 48000, 1, 2400);
  write_sndfile(dir / "u8_8k_mono.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 8000, 1, 1600);
  write_sndfile(dir / "float_22k05_mono.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 22050, 1, 2205);
  write_sndfile(dir / "flac_16k_mono.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, 3200);
  write_sndfile(dir / "aiff_16k_mono.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 16000, 1, 1600);
  // A WAV with a LIST chunk before the data and an odd-sized chunk after it.
  std::string wav = read_bytes(dir / "pcm16_16k_mono.wav");
  const std::string list = std::string("LIST\x06\x00\x00\x00INFOab", 14);
  wav.insert(36, list);
  wav += std::string("odd \x03\x00\x00\x00xyz\x00", 12);
  const std::uint32_t riff = static_cast<std::uint32_t>(wav.size() - 8);
  for (int i = 0; i < 4; ++i) wav[static_cast<std::size_t>(4 + i)] = static_cast<char>((riff >> (8 * i)) & 0xff);
  write_bytes(dir / "pcm16_extra_chunks.wav", wav);
}

void corpus_label_seeds(const fs::path& dir) {
  // The first byte picks the format (fuzz_corpus_labels.cpp); the names match its corpus tree.
  write_bytes(dir / "csv_manifest", std::string(1, '\0') +
      "path,label,speaker,group,split,gender\na.wav,angry,s1,g1,train,f\nb.wav,sad,s2,g1,test,m\n"
      "\"sub/c.wav\",\"neutral\",unknown,g2,validation,\"f\"\n");
  write_bytes(dir / "msp_labels", std::string(1, '\1') +
      "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
      "MSP-PODCAST_0001_0008.wav,A,5.2,2.4,5.0,127,Female,Train\n"
      "MSP-PODCAST_0002_0001.wav,X,3.0,4.0,3.5,Unknown,Male,Test1\n");
  write_bytes(dir / "iemocap_labels", std::string(1, '\2') +
      "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
      "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
      "C-E2:\tNeutral;\t()\n"
      "[10.0100 - 11.3925]\tSes01F_impro01_M001\texc\t[3.5000, 3.5000, 3.0000]\n");
}

// A cache of three short utterances with every optional dataset.
void cache_seed(const fs::path& file) {
  ser::FeatureConfig cfg;
  ser::CacheWriter w(file.string(), cfg, "csv", "cpu", {"angry", "neutral"});
  const int n_mels = cfg.logmel.n_mels;
  for (int u = 0; u < 3; ++u) {
    ser::UtteranceFeatures f;
    f.n_frames = 2 + u;
    f.logmel.assign(static_cast<std::size_t>(f.n_frames * n_mels), -3.0f + 0.5f * static_cast<float>(u));
    const std::size_t n_prosody = ser::prosody_names().size();
    f.prosody.assign(static_cast<std::size_t>(f.n_frames) * n_prosody, 0.25f);
    f.functionals.assign(ser::functional_names().size(), 0.5f);
    w.add("u" + std::to_string(u) + ".wav", "s" + std::to_string(u % 2), u % 2, f, "g" + std::to_string(u), "train");
  }
  w.commit();
}

// A tiny CNN + attention trained one epoch on a 3-speaker synthetic corpus: its checkpoint and its
// safetensors export.
void model_seeds(const fs::path& work, const fs::path& out) {
  ser::SyntheticCorpusConfig corpus;
  corpus.n_speakers = 3;
  corpus.utterances_per_emotion = 1;
  corpus.emotions = {"neutral", "angry"};
  const std::string cache = (work / "tiny.h5").string();
  ser::ExtractOptions eo;
  eo.synthetic = corpus;
  eo.progress = false;
  std::ostringstream log;
  ser::extract_corpus(ser::synthetic_manifest(corpus), eo, cache, log);
  const std::string cfg = (work / "tiny.toml").string();
  std::ofstream(cfg) << "[model]\nconv_channels = [2, 4]\nattention_after = 2\nattention_heads = 1\n"
                        "attention_head_dim = 4\ndense = [4]\n[train]\nepochs = 1\nbatch_size = 2\nseed = 1\n";
  ser::TrainOptions o;
  o.cache = cache;
  o.config = cfg;
  o.out_dir = (work / "run").string();
  o.test_speakers = {"syn03"};
  o.validation_speakers = {"syn02"};
  o.device = "cpu";
  o.progress = false;
  ser::run_training(o, log);
  const fs::path best = work / "run" / "best.h5";
  fs::create_directories(out / "checkpoint");
  fs::create_directories(out / "model_file");
  fs::copy_file(best, out / "checkpoint" / "best.h5", fs::copy_options::overwrite_existing);
  fs::copy_file(best, out / "model_file" / "best.h5", fs::copy_options::overwrite_existing);
  // A regression seed: finite weights that overflow to NaN logits (once undefined behaviour in the
  // attention's exp, now an error for the input).
  ser::engine::Checkpoint overflowing = ser::engine::read_checkpoint(best.string());
  for (float& w : overflowing.params) w *= 1e30f;
  ser::engine::write_checkpoint((out / "model_file" / "overflowing_weights.h5").string(), overflowing);
  const fs::path exported = work / "tiny.safetensors";
  ser::inference::write_safetensors_export(ser::inference::load_model_file(best.string()), exported.string());
  fs::create_directories(out / "safetensors");
  fs::copy_file(exported, out / "safetensors" / "tiny.safetensors", fs::copy_options::overwrite_existing);
  fs::copy_file(exported, out / "model_file" / "tiny.safetensors", fs::copy_options::overwrite_existing);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds OUT_DIR\n";
    return 2;
  }
  const fs::path out = argv[1];
  try {
    audio_seeds(out / "audio");
    corpus_label_seeds(out / "corpus_labels");
    write_bytes(out / "feature_config" / "default.json", ser::FeatureConfig{}.to_json());
    write_bytes(out / "run_config" / "default.toml", ser::to_toml(ser::RunConfig{}));
    fs::create_directories(out / "cache");
    cache_seed(out / "cache" / "three_utterances.h5");
    const fs::path work = out / ".work";
    fs::create_directories(work);
    model_seeds(work, out);
    fs::remove_all(work);
  } catch (const std::exception& e) {
    std::cerr << "fuzz_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
