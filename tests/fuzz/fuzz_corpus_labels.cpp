// Fuzzes the corpus label readers: the first byte picks the format, the rest is the label file,
// read through load_manifest in a small fixed corpus tree (the audio files the seeds name exist,
// empty: scanning does not decode them).
//   0  CSV manifest (manifest.csv: path,label,speaker[,group,split,...])
//   1  MSP-Podcast Labels/labels_consensus.csv
//   2  IEMOCAP Session1/dialog/EmoEvaluation/*.txt
#include <array>
#include <filesystem>
#include <fstream>

#include "corpus/adapters.hpp"
#include "fuzz_support.hpp"
#include "ser/corpus.hpp"

namespace {

namespace fs = std::filesystem;

struct Tree {
  fs::path root;
  fs::path label_file;
  const char* corpus;
};

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p.string()).put('\0');
}

// The three corpus folders, made once per process.
const Tree& tree(int kind) {
  static const std::array<Tree, 3> trees = [] {
    const fs::path base = ser::fuzz::scratch_path("corpora");
    const fs::path csv = base / "csv", msp = base / "msp", iemocap = base / "iemocap";
    for (const char* f : {"a.wav", "b.wav", "sub/c.wav"}) touch(csv / f);
    for (const char* f : {"MSP-PODCAST_0001_0008.wav", "MSP-PODCAST_0002_0001.wav"}) touch(msp / "Audios" / f);
    fs::create_directories(msp / "Labels");
    for (const char* f : {"Ses01F_impro01/Ses01F_impro01_F000.wav", "Ses01F_impro01/Ses01F_impro01_M001.wav"})
      touch(iemocap / "Session1" / "sentences" / "wav" / f);
    fs::create_directories(iemocap / "Session1" / "dialog" / "EmoEvaluation");
    return std::array<Tree, 3>{Tree{csv, csv / "manifest.csv", "csv"},
                               Tree{msp, msp / "Labels" / "labels_consensus.csv", "msppodcast"},
                               Tree{iemocap, iemocap / "Session1" / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt", "iemocap"}};
  }();
  return trees[kind];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Tree& t = tree(data[0] % 3);
  ser::fuzz::write_input(t.label_file.string(), data + 1, size - 1);
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 3 == 0) ser::fuzz::expect_only_ser_errors([&] { (void)ser::corpus::parse_csv(text, "fuzz.csv"); });
  ser::fuzz::expect_only_ser_errors([&] {
    const ser::Manifest m = ser::load_manifest(t.corpus, t.root.string());
    for (const auto& u : m.utterances)
      if (m.label_index(u.label) < 0) ser::fuzz::broken_promise("an utterance whose label is not a class");
  });
  return 0;
}
