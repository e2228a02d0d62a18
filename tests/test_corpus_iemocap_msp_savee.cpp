// The IEMOCAP, MSP-Podcast and SAVEE adapters on fabricated trees (file names and label files made
// here, empty audio files: the adapters read names and labels, not audio), class sets with merges,
// and field filters.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ser/corpus.hpp"
#include "ser/error.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using ser::test::TempDir;
using Strings = std::vector<std::string>;

using ser::test::expect_error;
using ser::test::touch;
using ser::test::write_text;

std::map<std::string, int> label_counts(const ser::Manifest& m) {
  std::map<std::string, int> counts;
  for (const auto& u : m.utterances) ++counts[u.label];
  return counts;
}

// ---- IEMOCAP ------------------------------------------------------------------------------------

// One label line as the corpus writes it, and the evaluator lines that follow it.
std::string iemocap_line(const std::string& id, const std::string& code) {
  return "[6.2901 - 8.2357]\t" + id + "\t" + code + "\t[2.5000, 3.0000, 2.0000]\n"
         "C-E2:\tNeutral;\t()\nA-E3:\tval 3; act 2; dom  2;\t()\n\n";
}

// Session s: an improvised and a scripted dialog, utterances of both actors.
void iemocap_session(const fs::path& root, int s, const std::vector<std::pair<std::string, std::string>>& utterances) {
  const std::string ses = "Ses0" + std::to_string(s);
  std::map<std::string, std::string> files;  // dialog -> label file text
  for (const auto& [id, code] : utterances) {
    const std::string dialog = id.substr(0, id.rfind('_'));
    files[dialog] += iemocap_line(id, code);
    touch(root / ("Session" + std::to_string(s)) / "sentences" / "wav" / dialog / (id + ".wav"));
  }
  for (const auto& [dialog, text] : files)
    write_text(root / ("Session" + std::to_string(s)) / "dialog" / "EmoEvaluation" / (dialog + ".txt"),
               "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n" + text);
  // Folders the release also has beside the label files, which are not label files.
  touch(root / ("Session" + std::to_string(s)) / "dialog" / "EmoEvaluation" / "Categorical" / (ses + "F_impro01_e1_cat.txt"));
}

void iemocap_tree(const fs::path& root) {
  for (int s = 1; s <= 3; ++s) {
    const std::string ses = "Ses0" + std::to_string(s);
    iemocap_session(root, s, {{ses + "F_impro01_F000", "neu"}, {ses + "F_impro01_M000", "exc"},
                              {ses + "F_impro01_F001", "hap"}, {ses + "F_impro01_M001", "xxx"},
                              {ses + "M_script01_1_F000", "ang"}, {ses + "M_script01_1_M000", "sad"},
                              {ses + "M_script01_1_M001", "fru"}, {ses + "M_script01_1_F001", "oth"}});
  }
}

TEST(CorpusIemocap, SpeakersAreSessionPlusTheUtterancesGenderAndSessionsAreFoldGroups) {
  TempDir dir;
  iemocap_tree(dir.path());
  const ser::Manifest m = ser::load_manifest("iemocap", dir.path().string());
  EXPECT_EQ(m.class_names, ser::corpus_classes("iemocap"));
  ASSERT_EQ(m.utterances.size(), 18u);  // 8 per session, xxx and oth left out
  EXPECT_EQ(m.left_out, (std::map<std::string, int>{{"oth", 3}, {"xxx", 3}}));
  EXPECT_EQ(m.speakers(), (Strings{"Ses01F", "Ses01M", "Ses02F", "Ses02M", "Ses03F", "Ses03M"}));
  for (const auto& u : m.utterances) {
    // Ses01M_script01_1_F000 is spoken by the female actor although the dialog is named after the male.
    const char gender = u.path[u.path.size() - 8];
    EXPECT_EQ(u.speaker, u.group + gender) << u.path;
    EXPECT_EQ(u.fields.at("gender"), gender == 'F' ? "female" : "male") << u.path;
    EXPECT_EQ(u.fields.at("type"), u.path.find("impro") != std::string::npos ? "improvised" : "scripted") << u.path;
    EXPECT_EQ(u.path.rfind("Session", 0), 0u) << u.path;
  }
  EXPECT_EQ(label_counts(m), (std::map<std::string, int>{
                                 {"angry", 3}, {"excited", 3}, {"frustrated", 3}, {"happy", 3}, {"neutral", 3}, {"sad", 3}}));
  const auto& first = m.utterances.front();
  EXPECT_EQ(first.fields.at("valence"), "2.5000");
  EXPECT_EQ(first.fields.at("start"), "6.2901");
}

TEST(CorpusIemocap, FourClassSetMergesExcitedIntoHappyAndTheImprovisedFilter) {
  TempDir dir;
  iemocap_tree(dir.path());
  const ser::Manifest four = ser::load_manifest("iemocap", dir.path().string(), "iemocap4");
  EXPECT_EQ(four.class_names, (Strings{"neutral", "happy", "angry", "sad"}));
  EXPECT_EQ(label_counts(four), (std::map<std::string, int>{{"angry", 3}, {"happy", 6}, {"neutral", 3}, {"sad", 3}}));
  const ser::Manifest impro = ser::load_manifest("iemocap", dir.path().string(), "iemocap4", "type=improvised");
  EXPECT_EQ(label_counts(impro), (std::map<std::string, int>{{"happy", 6}, {"neutral", 3}}));
  for (const auto& u : impro.utterances) EXPECT_NE(u.path.find("impro"), std::string::npos);
  // The same merge spelled out, and filter errors.
  EXPECT_EQ(ser::resolve_class_set("iemocap", "neutral, happy+excited ,angry,sad"), four.class_names);
  expect_error([&] { ser::load_manifest("iemocap", dir.path().string(), "all", "colour=red"); }, {"colour", "no field"});
  expect_error([&] { ser::load_manifest("iemocap", dir.path().string(), "all", "improvised"); }, {"FIELD=VALUE"});
  expect_error([&] { ser::load_manifest("iemocap", dir.path().string(), "all", "type=none"); }, {"type = none"});
}

TEST(CorpusIemocap, BadTreesAndLinesNameTheFileAndLine) {
  {
    TempDir dir;
    touch(dir.path() / "README.txt");
    expect_error([&] { ser::load_manifest("iemocap", dir.path().string()); }, {"Session1..Session5"});
  }
  {
    TempDir dir;
    fs::create_directories(dir.path() / "Session1" / "sentences");
    expect_error([&] { ser::load_manifest("iemocap", dir.path().string()); }, {"EmoEvaluation"});
  }
  const auto with_line = [](const std::string& line, const Strings& parts, int bad_line = 2) {
    TempDir dir;
    touch(dir.path() / "Session1" / "sentences" / "wav" / "Ses01F_impro01" / "Ses01F_impro01_F000.wav");
    const fs::path txt = dir.path() / "Session1" / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt";
    write_text(txt, "% header\n" + line);
    Strings want = parts;
    want.push_back(txt.string() + ":" + std::to_string(bad_line));
    expect_error([&] { ser::load_manifest("iemocap", dir.path().string()); }, want);
  };
  with_line("[6.2 - 8.2]\tSes01F_impro01_F000\tjoy\t[2.5, 2.5, 2.5]\n", {"joy"});
  with_line("[6.2 - 8.2]\tSes01F_impro01_F000\tneu\n", {"not an IEMOCAP label line"});
  with_line("[6.2 - 8.2]\tRecording7\tneu\t[2.5, 2.5, 2.5]\n", {"Recording7", "utterance id"});
  with_line("[6.2 - 8.2]\tSes02F_impro01_F000\tneu\t[2.5, 2.5, 2.5]\n", {"session 02", "Session1"});
  with_line("[6.2 - 8.2]\tSes01F_impro01_M004\tneu\t[2.5, 2.5, 2.5]\n", {"not found", "Ses01F_impro01_M004.wav"});
  with_line("[6.2 - 8.2]\tSes01F_impro01_F000\tneu\t[2.5, 2.5, 2.5]\n[6.2 - 8.2]\tSes01F_impro01_F000\tneu\t[2.5, 2.5, 2.5]\n",
            {"twice"}, 3);
}

// ---- MSP-Podcast --------------------------------------------------------------------------------

const char* kMspHeader = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n";

void msp_tree(const fs::path& root, const std::string& rows) {
  write_text(root / "Labels" / "labels_consensus.csv", std::string(kMspHeader) + rows);
  std::istringstream in(rows);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) touch(root / "Audios" / line.substr(0, line.find(',')));
}

TEST(CorpusMspPodcast, ConsensusLabelsSpeakersAndPartitions) {
  TempDir dir;
  msp_tree(dir.path(),
           "MSP-PODCAST_0001_0008.wav,N,4.2,4.0,4.4,127,Male,Train\n"
           "MSP-PODCAST_0001_0019.wav,A,5.0,2.0,5.2,127,Male,Train\n"
           "MSP-PODCAST_0002_0033.wav,H,4.0,5.6,4.0,Unknown,Unknown,Development\n"
           "MSP-PODCAST_0003_0004.wav,O,4.0,4.0,4.0,12,Female,Test1\n"
           "MSP-PODCAST_0003_0005.wav,X,4.0,4.0,4.0,12,Female,Test1\n"
           "MSP-PODCAST_0003_0006.wav,C,4.0,3.0,4.0,12,Female,Test1\n"
           "MSP-PODCAST_0004_0001.wav,S,2.0,2.5,3.0,33,Female,Test2\n");
  const ser::Manifest m = ser::load_manifest("msppodcast", dir.path().string());
  EXPECT_EQ(m.class_names, ser::corpus_classes("msppodcast"));
  ASSERT_EQ(m.utterances.size(), 5u);
  EXPECT_EQ(m.left_out, (std::map<std::string, int>{{"O", 1}, {"X", 1}}));
  EXPECT_EQ(m.speakers(), (Strings{"12", "127", "33", ser::kUnknownSpeaker}));
  std::map<std::string, std::string> split_of, label_of;
  for (const auto& u : m.utterances) {
    split_of[u.path] = u.split;
    label_of[u.path] = u.label;
  }
  EXPECT_EQ(split_of["Audios/MSP-PODCAST_0002_0033.wav"], "development");
  EXPECT_EQ(split_of["Audios/MSP-PODCAST_0003_0006.wav"], "test1");
  EXPECT_EQ(label_of["Audios/MSP-PODCAST_0003_0006.wav"], "contempt");
  EXPECT_EQ(label_of["Audios/MSP-PODCAST_0004_0001.wav"], "sad");
  EXPECT_EQ(m.utterances.front().fields.at("arousal"), "4.2");
  EXPECT_EQ(m.utterances.front().fields.at("gender"), "male");
}

TEST(CorpusMspPodcast, Errors) {
  {
    TempDir dir;
    fs::create_directories(dir.path() / "Audios");
    expect_error([&] { ser::load_manifest("msppodcast", dir.path().string()); }, {"labels_consensus.csv", "not found"});
  }
  const auto with_rows = [](const std::string& rows, const Strings& parts, bool make_audio = true) {
    TempDir dir;
    if (make_audio) {
      msp_tree(dir.path(), rows);
    } else {
      write_text(dir.path() / "Labels" / "labels_consensus.csv", std::string(kMspHeader) + rows);
      fs::create_directories(dir.path() / "Audios");
    }
    expect_error([&] { ser::load_manifest("msppodcast", dir.path().string()); }, parts);
  };
  with_rows("a.wav,Q,4,4,4,1,Male,Train\n", {"labels_consensus.csv:2", "EmoClass 'Q'"});
  with_rows("a.wav,N,4,4,4,1,Male\n", {"labels_consensus.csv:2", "expected 8 fields"});
  with_rows("a.wav,N,4,4,4,,Male,Train\n", {"empty SpkrID"});
  with_rows("a.wav,N,4,4,4,1,Male,Train\n", {"audio file not found", "a.wav"}, false);
  with_rows("../a.wav,N,4,4,4,1,Male,Train\n", {"bare file name"}, false);
  with_rows("a.wav,N,4,4,4,1,Male,Train\na.wav,S,4,4,4,1,Male,Train\n", {"listed twice"});
  {
    TempDir dir;
    write_text(dir.path() / "Labels" / "labels_consensus.csv", "FileName,EmoClass\na.wav,N\n");
    fs::create_directories(dir.path() / "Audios");
    expect_error([&] { ser::load_manifest("msppodcast", dir.path().string()); }, {"spkrid"});
  }
}

// ---- SAVEE --------------------------------------------------------------------------------------

TEST(CorpusSavee, OriginalAndFlattenedLayouts) {
  TempDir dir;
  for (const char* rel : {"AudioData/DC/a01.wav", "AudioData/DC/sa02.wav", "AudioData/JE/su15.wav", "AudioData/JE/n30.wav"})
    touch(dir.path() / rel);
  touch(dir.path() / "flat" / "JK_d03.wav");
  touch(dir.path() / "flat" / "KL_h07.wav");
  touch(dir.path() / "flat" / "KL_f01.wav");
  const ser::Manifest m = ser::load_manifest("savee", dir.path().string());
  EXPECT_EQ(m.class_names, (Strings{"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"}));
  EXPECT_EQ(m.speakers(), (Strings{"DC", "JE", "JK", "KL"}));
  EXPECT_EQ(label_counts(m), (std::map<std::string, int>{{"angry", 1}, {"disgust", 1}, {"fear", 1}, {"happy", 1},
                                                          {"neutral", 1}, {"sad", 1}, {"surprise", 1}}));
  for (const auto& u : m.utterances) EXPECT_EQ(u.fields.at("gender"), "male");
  const ser::Manifest four = ser::load_manifest("savee", dir.path().string(), "paper4");
  EXPECT_EQ(four.utterances.size(), 4u);
}

TEST(CorpusSavee, BadNames) {
  const auto with = [](const std::string& rel, const Strings& parts) {
    TempDir dir;
    touch(dir.path() / rel);
    expect_error([&] { ser::load_manifest("savee", dir.path().string()); }, parts);
  };
  with("AudioData/XY/a01.wav", {"XY", "speaker"});
  with("DC_q01.wav", {"'q'", "emotion code"});
  with("DC-a01.wav", {"DC-a01.wav", "not a SAVEE file name"});
}

// ---- CSV group and split columns ------------------------------------------------------------------

TEST(CorpusCsvColumns, GroupSplitAndUnknownSpeaker) {
  TempDir dir;
  touch(dir.path() / "a.wav");
  touch(dir.path() / "b.wav");
  write_text(dir.path() / "manifest.csv", "path,label,speaker,group,split\na.wav,angry,s1,rec1,Train\nb.wav,sad,Unknown,rec2,test\n");
  const ser::Manifest m = ser::load_manifest("csv", dir.path().string());
  ASSERT_EQ(m.utterances.size(), 2u);
  EXPECT_EQ(m.utterances[0].group, "rec1");
  EXPECT_EQ(m.utterances[0].split, "train");
  EXPECT_EQ(m.utterances[1].speaker, ser::kUnknownSpeaker);
  EXPECT_EQ(m.utterances[1].split, "test");
}

}  // namespace
