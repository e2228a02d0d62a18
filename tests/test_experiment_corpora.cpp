// tests/test_experiment_corpora.cpp — whole experiments through the CLI on fabricated IEMOCAP and
// MSP-Podcast trees whose audio comes from the synthetic generator: leave-one-session-out on the
// four-class set, and the predefined partition with unknown speakers; what results.json and
// results.md record about the folds.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

#include "ser/audio.hpp"
#include "ser/synthetic.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

namespace fs = std::filesystem;

// Synthetic utterances by (speaker index, emotion): the audio of fabricated corpus files.
class SyntheticAudio {
 public:
  SyntheticAudio() {
    cfg_.n_speakers = 6;
    cfg_.utterances_per_emotion = 3;
    cfg_.emotions = {"neutral", "happy", "angry", "sad"};
    const Manifest m = synthetic_manifest(cfg_);
    for (std::size_t i = 0; i < m.utterances.size(); ++i) {
      const auto& u = m.utterances[i];
      index_[{std::stoi(u.speaker.substr(3)), u.label}].push_back(i);
    }
  }
  // Writes the n-th synthetic utterance of `speaker` (0-based) and `emotion` to path.
  void write(const fs::path& path, int speaker, const std::string& emotion, int n) const {
    fs::create_directories(path.parent_path());
    const auto& list = index_.at({speaker + 1, emotion});
    write_wav16(path.string(), synthesize_utterance(cfg_, list.at(static_cast<std::size_t>(n) % list.size())), cfg_.sample_rate);
  }

 private:
  SyntheticCorpusConfig cfg_;
  std::map<std::pair<int, std::string>, std::vector<std::size_t>> index_;
};

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p.string());
  return nlohmann::json::parse(in);
}

using test::read_all;

const char* kClassicModels =
    "[[model]]\nname = \"svm_rbf\"\nkind = \"svm_rbf\"\n"
    "[[model]]\nname = \"knn\"\nkind = \"knn\"\n";

TEST(ExperimentCorpora, IemocapLeaveOneSessionOutOnTheFourClassSet) {
  test::TempDir dir;
  const fs::path root = dir.path() / "IEMOCAP_full_release";
  const SyntheticAudio audio;
  const std::map<std::string, std::string> code_of = {{"neutral", "neu"}, {"happy", "hap"}, {"angry", "ang"}, {"sad", "sad"}};
  for (int s = 1; s <= 3; ++s) {
    const std::string ses = "Ses0" + std::to_string(s), dialog = ses + "F_impro01";
    std::string labels = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n";
    int turn = 0;
    for (const char gender : {'F', 'M'}) {
      const int speaker = (s - 1) * 2 + (gender == 'M');
      for (const auto& [emotion, code] : code_of) {
        for (int n = 0; n < 2; ++n) {
          char id_tail[16];
          std::snprintf(id_tail, sizeof id_tail, "%c%03d", gender, turn++);
          const std::string id = dialog + "_" + id_tail;
          // One happy utterance per speaker is labelled excited: iemocap4 merges it into happy.
          const std::string label = emotion == "happy" && n == 1 ? "exc" : code;
          labels += "[1.0 - 2.0]\t" + id + "\t" + label + "\t[2.5, 2.5, 2.5]\n";
          audio.write(root / ("Session" + std::to_string(s)) / "sentences" / "wav" / dialog / (id + ".wav"), speaker, emotion, n);
        }
      }
      labels += "[1.0 - 2.0]\t" + dialog + "_" + gender + "099\txxx\t[2.5, 2.5, 2.5]\n";  // no majority: left out
    }
    std::ofstream(([&] {
      const fs::path p = root / ("Session" + std::to_string(s)) / "dialog" / "EmoEvaluation" / (dialog + ".txt");
      fs::create_directories(p.parent_path());
      return p;
    })()) << labels;
  }
  { std::ofstream(dir.file("iemocap.toml")) << "[experiment]\nname = \"iemo\"\ncorpus = \"iemocap\"\nclasses = \"iemocap4\"\n"
                                               "protocol = \"logo\"\nvalidation_speakers = 2\n" << kClassicModels; }
  std::string out;
  ASSERT_EQ(test::run_ser(std::string("experiment ").append(dir.file("iemocap.toml")).append(" --data ").append(root.string())
                              .append(" --runs ").append(dir.file("runs")).append(" --device cpu --no-progress"), &out), 0)
      << out;
  EXPECT_NE(out.find("6 x xxx"), std::string::npos) << out;
  const fs::path res = dir.path() / "runs" / "iemo";
  const nlohmann::json r = read_json(res / "results.json");
  EXPECT_EQ(r["class_names"], (std::vector<std::string>{"neutral", "happy", "angry", "sad"}));
  const auto& details = r["protocol"]["fold_details"];
  ASSERT_EQ(details.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const std::string ses = "Ses0" + std::to_string(i + 1);
    EXPECT_EQ(details[i]["test"], (std::vector<std::string>{ses + "F", ses + "M"}));
    EXPECT_EQ(details[i]["validation"].size(), 2u);
    EXPECT_EQ(details[i]["utterances"]["test"], (std::vector<int>{4, 4, 4, 4}));  // happy = hap + exc
    EXPECT_EQ(details[i]["utterances"]["validation"], (std::vector<int>{4, 4, 4, 4}));
    EXPECT_EQ(details[i]["utterances"]["train"], (std::vector<int>{4, 4, 4, 4}));
    EXPECT_TRUE(details[i]["shared_speakers"].empty());
  }
  for (const char* model : {"svm_rbf", "knn"}) {
    const auto& folds = r["models"][model]["folds"];
    ASSERT_EQ(folds.size(), 3u) << model;
    for (const auto& f : folds) EXPECT_EQ(f["predictions"]["paths"].size(), 16u) << model;
  }
  const std::string md = read_all(res / "results.md");
  EXPECT_NE(md.find("leave-one-group-out"), std::string::npos);
  EXPECT_NE(md.find("## Folds"), std::string::npos);
  EXPECT_NE(md.find("| 0 | Ses01F, Ses01M |"), std::string::npos) << md;
}

TEST(ExperimentCorpora, MspPodcastPredefinedPartitionKeepsUnknownSpeakersAndReportsSharedOnes) {
  test::TempDir dir;
  const fs::path root = dir.path() / "MSP-Podcast";
  const SyntheticAudio audio;
  const std::map<std::string, std::string> code_of = {{"neutral", "N"}, {"happy", "H"}, {"angry", "A"}, {"sad", "S"}};
  std::string csv = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n";
  int file = 0;
  // Speakers 0-2 train, 3 development, 4 Test1, 5 Test2; speaker 2 also speaks in Test1 (shared);
  // the development and Test1 sides also hold utterances of unknown speakers.
  const auto add = [&](int speaker, const std::string& spkr_id, const std::string& split) {
    for (const auto& [emotion, code] : code_of) {
      char name[64];
      std::snprintf(name, sizeof name, "MSP-PODCAST_%04d_%04d.wav", speaker + 1, file++);
      audio.write(root / "Audios" / name, speaker, emotion, file);
      csv += std::string(name) + "," + code + ",4.0,4.0,4.0," + spkr_id + ",Female," + split + "\n";
    }
  };
  for (int s = 0; s < 3; ++s) { add(s, std::to_string(100 + s), "Train"); add(s, std::to_string(100 + s), "Train"); }
  add(3, "103", "Development");
  add(4, "Unknown", "Development");
  add(4, "104", "Test1");
  add(2, "102", "Test1");
  add(1, "Unknown", "Test1");
  add(5, "105", "Test2");
  csv += "MSP-PODCAST_0009_0001.wav,X,4.0,4.0,4.0,105,Female,Train\n";
  audio.write(root / "Audios" / "MSP-PODCAST_0009_0001.wav", 0, "sad", 0);
  fs::create_directories(root / "Labels");
  { std::ofstream(root / "Labels" / "labels_consensus.csv") << csv; }
  { std::ofstream(dir.file("msp.toml")) << "[experiment]\nname = \"msp\"\ncorpus = \"msppodcast\"\nclasses = \"paper4\"\n"
                                           "protocol = \"predefined\"\nvalidation_partition = \"development\"\n"
                                           "test_partition = \"Test1\"\n" << kClassicModels; }
  std::string out;
  const std::string cmd = std::string("experiment ").append(dir.file("msp.toml")).append(" --data ").append(root.string())
                              .append(" --runs ").append(dir.file("runs")).append(" --device cpu --no-progress");
  ASSERT_EQ(test::run_ser(cmd, &out), 0) << out;
  EXPECT_NE(out.find("4 utterances of partition 'test2' are in no side"), std::string::npos) << out;
  EXPECT_NE(out.find("1 x X"), std::string::npos) << out;
  const nlohmann::json r = read_json(dir.path() / "runs" / "msp" / "results.json");
  const auto& d = r["protocol"]["fold_details"];
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]["utterances"]["train"], (std::vector<int>{6, 6, 6, 6}));  // paper4 order: angry happy sad neutral
  EXPECT_EQ(d[0]["utterances"]["validation"], (std::vector<int>{2, 2, 2, 2}));
  EXPECT_EQ(d[0]["utterances"]["test"], (std::vector<int>{3, 3, 3, 3}));
  EXPECT_EQ(d[0]["shared_speakers"], (std::vector<std::string>{"102"}));  // the unknown speaker is no speaker
  EXPECT_EQ(d[0]["shared_test_utterances"], 4);
  EXPECT_EQ(r["protocol"]["partitions"]["test"], "test1");
  EXPECT_EQ(r["models"]["svm_rbf"]["folds"][0]["predictions"]["paths"].size(), 12u);

  // The same corpus under a speaker-based protocol leaves the unknown speakers out, saying so.
  { std::ofstream(dir.file("msp_kfold.toml")) << "[experiment]\nname = \"msp_kfold\"\ncorpus = \"msppodcast\"\n"
                                                 "classes = \"paper4\"\nprotocol = \"kfold\"\nfolds = 3\n" << kClassicModels; }
  ASSERT_EQ(test::run_ser(std::string("experiment ").append(dir.file("msp_kfold.toml")).append(" --data ").append(root.string())
                              .append(" --runs ").append(dir.file("runs")).append(" --device cpu --no-progress"), &out), 0)
      << out;
  EXPECT_NE(out.find("8 utterances without a speaker id left out"), std::string::npos) << out;
  const nlohmann::json k = read_json(dir.path() / "runs" / "msp_kfold" / "results.json");
  long tested = 0;
  for (const auto& f : k["protocol"]["fold_details"])
    for (const auto& n : f["utterances"]["test"]) tested += n.get<long>();
  EXPECT_EQ(tested, 48 - 8);  // 12 speaker-partition blocks of 4; every known-speaker utterance tested once
}

TEST(ExperimentCorpora, ProtocolsThatNeedWhatTheCorpusLacksAreClearErrors) {
  test::TempDir dir;
  { std::ofstream(dir.file("logo.toml")) << "[experiment]\nname = \"logo\"\ncorpus = \"synthetic\"\nprotocol = \"logo\"\n"
                                            "synthetic_speakers = 3\nsynthetic_per_emotion = 1\n" << kClassicModels; }
  { std::ofstream(dir.file("pre.toml")) << "[experiment]\nname = \"pre\"\ncorpus = \"synthetic\"\nprotocol = \"predefined\"\n"
                                           "synthetic_speakers = 3\nsynthetic_per_emotion = 1\n" << kClassicModels; }
  std::string out;
  EXPECT_NE(test::run_ser(std::string("experiment ").append(dir.file("logo.toml")).append(" --runs ").append(dir.file("runs")), &out), 0);
  EXPECT_NE(out.find("needs fold groups"), std::string::npos) << out;
  EXPECT_NE(test::run_ser(std::string("experiment ").append(dir.file("pre.toml")).append(" --runs ").append(dir.file("runs")), &out), 0);
  EXPECT_NE(out.find("own partition"), std::string::npos) << out;
}

}  // namespace
}  // namespace ser
