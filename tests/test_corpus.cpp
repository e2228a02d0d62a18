// Corpus adapters on fake folders of empty files (the adapters read names, not audio), class sets,
// CSV manifests, and the real Emo-DB when it is present.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ser/audio.hpp"
#include "ser/corpus.hpp"
#include "ser/error.hpp"
#include "ser/synthetic.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using ser::test::TempDir;
using Strings = std::vector<std::string>;

void touch(const TempDir& dir, const std::string& rel) { ser::test::touch(dir.path() / rel); }
using ser::test::expect_error;
using ser::test::write_text;

Strings paths_of(const ser::Manifest& m) {
  Strings out;
  for (const auto& u : m.utterances) out.push_back(u.path);
  return out;
}

std::map<std::string, int> label_counts(const ser::Manifest& m) {
  std::map<std::string, int> counts;
  for (const auto& u : m.utterances) ++counts[u.label];
  return counts;
}

// ---- class sets ----------------------------------------------------------------------------------

TEST(CorpusClassSets, NamesAndCanonicalOrders) {
  EXPECT_EQ(ser::corpus_names(),
            (Strings{"emodb", "ravdess", "cremad", "tess", "savee", "iemocap", "msppodcast", "csv", "synthetic"}));
  EXPECT_EQ(ser::corpus_classes("emodb"), (Strings{"angry", "boredom", "disgust", "fear", "happy", "sad", "neutral"}));
  EXPECT_EQ(ser::corpus_classes("ravdess"),
            (Strings{"neutral", "calm", "happy", "sad", "angry", "fear", "disgust", "surprise"}));
  EXPECT_EQ(ser::corpus_classes("cremad"), (Strings{"angry", "disgust", "fear", "happy", "neutral", "sad"}));
  EXPECT_EQ(ser::corpus_classes("tess"), (Strings{"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"}));
  EXPECT_EQ(ser::corpus_classes("synthetic"), ser::SyntheticCorpusConfig{}.emotions);
  expect_error([] { ser::corpus_classes("timit"); }, {"timit", "emodb"});
}

TEST(CorpusClassSets, Resolve) {
  EXPECT_EQ(ser::resolve_class_set("emodb", "all"), ser::corpus_classes("emodb"));
  for (const std::string corpus : {"emodb", "ravdess", "cremad", "tess", "synthetic"}) {
    EXPECT_EQ(ser::resolve_class_set(corpus, "paper4"), (Strings{"angry", "happy", "sad", "neutral"})) << corpus;
  }
  EXPECT_EQ(ser::resolve_class_set("emodb", "sad, Angry,neutral"), (Strings{"sad", "angry", "neutral"}));
  EXPECT_EQ(ser::resolve_class_set("emodb", "anger,boredom"), (Strings{"angry", "boredom"}));  // synonyms
  expect_error([] { ser::resolve_class_set("emodb", "angry,calm"); }, {"calm", "emodb"});
  expect_error([] { ser::resolve_class_set("cremad", "surprise"); }, {"surprise", "cremad"});
  expect_error([] { ser::resolve_class_set("emodb", "angry,joy"); }, {"joy"});
  expect_error([] { ser::resolve_class_set("emodb", "angry,,sad"); }, {"empty"});
  expect_error([] { ser::resolve_class_set("emodb", "angry,anger"); }, {"twice"});
  expect_error([] { ser::resolve_class_set("emodb", ""); }, {"empty"});
}

TEST(CorpusClassSets, ManifestHelpers) {
  ser::Manifest m;
  m.class_names = {"angry", "sad"};
  m.utterances = {{"b.wav", "sad", "02", "", "", {}}, {"a.wav", "angry", "01", "", "", {}}, {"c.wav", "sad", "01", "", "", {}}};
  EXPECT_EQ(m.label_index("sad"), 1);
  EXPECT_EQ(m.label_index("happy"), -1);
  EXPECT_EQ(m.speakers(), (Strings{"01", "02"}));
}

// ---- emodb ---------------------------------------------------------------------------------------

TEST(CorpusEmoDb, FakeFolder) {
  TempDir dir;
  for (const char* name : {"wav/16b10Td.wav", "wav/03a01Fa.wav", "wav/08a02Wb.wav", "wav/10a04Lc.wav",
                           "wav/03a01Nc.wav", "wav/notes.txt", "wav/._03a01Fa.wav", "silb/03a01Fa.silb"}) {
    touch(dir, name);
  }
  const ser::Manifest m = ser::load_manifest("emodb", dir.path().string());
  EXPECT_EQ(m.corpus, "emodb");
  EXPECT_EQ(m.root, dir.path().string());
  EXPECT_EQ(m.class_names, ser::corpus_classes("emodb"));
  EXPECT_EQ(paths_of(m), (Strings{"wav/03a01Fa.wav", "wav/03a01Nc.wav", "wav/08a02Wb.wav", "wav/10a04Lc.wav",
                                  "wav/16b10Td.wav"}));
  const ser::Utterance& u = m.utterances[0];
  EXPECT_EQ(u.label, "happy");
  EXPECT_EQ(u.speaker, "03");
  EXPECT_EQ(u.fields.at("text"), "a01");
  EXPECT_EQ(u.fields.at("version"), "a");
  EXPECT_EQ(u.fields.at("gender"), "male");
  EXPECT_EQ(m.utterances[2].label, "angry");
  EXPECT_EQ(m.utterances[2].fields.at("gender"), "female");
  EXPECT_EQ(m.utterances[3].label, "boredom");
  EXPECT_EQ(m.utterances[4].label, "sad");
  EXPECT_EQ(m.speakers(), (Strings{"03", "08", "10", "16"}));

  // Root may be wav/ itself.
  const ser::Manifest w = ser::load_manifest("emodb", (dir.path() / "wav").string());
  EXPECT_EQ(w.utterances.size(), 5u);
  EXPECT_EQ(w.utterances[0].path, "03a01Fa.wav");

  // paper4 keeps angry happy sad neutral, in that order.
  const ser::Manifest p = ser::load_manifest("emodb", dir.path().string(), "paper4");
  EXPECT_EQ(p.class_names, (Strings{"angry", "happy", "sad", "neutral"}));
  EXPECT_EQ(paths_of(p), (Strings{"wav/03a01Fa.wav", "wav/03a01Nc.wav", "wav/08a02Wb.wav", "wav/16b10Td.wav"}));
  EXPECT_EQ(p.label_index(p.utterances[1].label), 3);
}

TEST(CorpusEmoDb, BadNamesAndFolders) {
  {
    TempDir dir;
    touch(dir, "wav/03a01Fa.wav");
    touch(dir, "wav/03a01Xa.wav");  // X is no emotion
    expect_error([&] { ser::load_manifest("emodb", dir.path().string()); }, {"03a01Xa.wav", "emotion"});
  }
  {
    TempDir dir;
    touch(dir, "wav/recording1.wav");
    expect_error([&] { ser::load_manifest("emodb", dir.path().string()); }, {"recording1.wav"});
  }
  {
    TempDir dir;
    touch(dir, "wav/99a01Fa.wav");  // no such speaker
    expect_error([&] { ser::load_manifest("emodb", dir.path().string()); }, {"99a01Fa.wav", "speaker"});
  }
  {
    TempDir dir;
    fs::create_directories(dir.path() / "wav");
    expect_error([&] { ser::load_manifest("emodb", dir.path().string()); }, {"wav", "no .wav files"});
  }
  {
    TempDir dir;
    const std::string missing = (dir.path() / "absent").string();
    expect_error([&] { ser::load_manifest("emodb", missing); }, {missing, "not found"});
  }
  {
    TempDir dir;
    touch(dir, "wav/03a01Fa.wav");
    expect_error([&] { ser::load_manifest("emodb", dir.path().string(), "calm"); }, {"calm"});
    expect_error([&] { ser::load_manifest("emodb", dir.path().string(), "sad"); }, {"no utterances"});
  }
}

// ---- ravdess -------------------------------------------------------------------------------------

TEST(CorpusRavdess, FakeFolder) {
  TempDir dir;
  for (const char* name : {"Actor_01/03-01-05-01-02-01-01.wav", "Actor_01/03-01-01-01-01-01-01.wav",
                           "Actor_02/03-01-08-02-01-02-02.wav", "Actor_02/03-01-02-02-02-01-02.wav",
                           "Actor_02/02-01-05-01-02-01-02.wav",   // video-only: skipped
                           "Actor_02/01-01-05-01-02-01-02.wav",   // audio-video: skipped
                           "Actor_02/03-02-03-01-01-01-02.wav",   // song: skipped
                           "Actor_02/01-01-05-01-02-01-02.mp4"}) {
    touch(dir, name);
  }
  const ser::Manifest m = ser::load_manifest("ravdess", dir.path().string());
  EXPECT_EQ(m.class_names, ser::corpus_classes("ravdess"));
  EXPECT_EQ(paths_of(m), (Strings{"Actor_01/03-01-01-01-01-01-01.wav", "Actor_01/03-01-05-01-02-01-01.wav",
                                  "Actor_02/03-01-02-02-02-01-02.wav", "Actor_02/03-01-08-02-01-02-02.wav"}));
  EXPECT_EQ(m.utterances[0].label, "neutral");
  EXPECT_EQ(m.utterances[1].label, "angry");
  EXPECT_EQ(m.utterances[2].label, "calm");
  EXPECT_EQ(m.utterances[3].label, "surprise");
  EXPECT_EQ(m.utterances[1].speaker, "01");
  EXPECT_EQ(m.utterances[1].fields.at("gender"), "male");
  EXPECT_EQ(m.utterances[1].fields.at("statement"), "02");
  EXPECT_EQ(m.utterances[3].fields.at("gender"), "female");
  EXPECT_EQ(m.utterances[3].fields.at("intensity"), "02");
  EXPECT_EQ(m.utterances[3].fields.at("repetition"), "02");
  EXPECT_EQ(m.speakers(), (Strings{"01", "02"}));

  const ser::Manifest calm = ser::load_manifest("ravdess", dir.path().string(), "calm,surprise");
  EXPECT_EQ(paths_of(calm), (Strings{"Actor_02/03-01-02-02-02-01-02.wav", "Actor_02/03-01-08-02-01-02-02.wav"}));
}

TEST(CorpusRavdess, BadNames) {
  {
    TempDir dir;
    touch(dir, "Actor_01/03-01-09-01-02-01-01.wav");  // emotion 09 does not exist
    expect_error([&] { ser::load_manifest("ravdess", dir.path().string()); }, {"03-01-09-01-02-01-01.wav", "emotion"});
  }
  {
    TempDir dir;
    touch(dir, "Actor_01/03-01-05-01-02-01.wav");  // a field short
    expect_error([&] { ser::load_manifest("ravdess", dir.path().string()); }, {"03-01-05-01-02-01.wav"});
  }
  {
    TempDir dir;
    touch(dir, "Actor_01/02-01-05-01-02-01-01.wav");  // only video-only files
    expect_error([&] { ser::load_manifest("ravdess", dir.path().string()); }, {"audio-only"});
  }
}

// ---- cremad --------------------------------------------------------------------------------------

TEST(CorpusCremad, FakeFolder) {
  TempDir dir;
  for (const char* name : {"AudioWAV/1001_DFA_ANG_XX.wav", "AudioWAV/1001_IEO_HAP_HI.wav",
                           "AudioWAV/1002_TIE_SAD_LO.wav", "AudioWAV/1091_WSI_NEU_XX.wav",
                           "AudioWAV/1002_ITS_FEA_MD.wav", "AudioWAV/1003_IOM_DIS_XX.wav"}) {
    touch(dir, name);
  }
  const ser::Manifest m = ser::load_manifest("cremad", dir.path().string());
  ASSERT_EQ(m.utterances.size(), 6u);
  EXPECT_EQ(m.utterances[0].path, "AudioWAV/1001_DFA_ANG_XX.wav");
  EXPECT_EQ(m.utterances[0].label, "angry");
  EXPECT_EQ(m.utterances[0].speaker, "1001");
  EXPECT_EQ(m.utterances[0].fields.at("sentence"), "DFA");
  EXPECT_EQ(m.utterances[0].fields.at("level"), "XX");
  EXPECT_EQ(label_counts(m), (std::map<std::string, int>{
                                 {"angry", 1}, {"happy", 1}, {"sad", 1}, {"neutral", 1}, {"fear", 1}, {"disgust", 1}}));
  EXPECT_EQ(m.speakers(), (Strings{"1001", "1002", "1003", "1091"}));
  EXPECT_EQ(ser::load_manifest("cremad", dir.path().string(), "paper4").utterances.size(), 4u);

  touch(dir, "AudioWAV/1001_DFA_XYZ_XX.wav");
  expect_error([&] { ser::load_manifest("cremad", dir.path().string()); }, {"1001_DFA_XYZ_XX.wav", "emotion"});
}

TEST(CorpusCremad, BadNameIsAnError) {
  TempDir dir;
  touch(dir, "AudioWAV/1001_DFA_ANG_XX.wav");
  touch(dir, "AudioWAV/1001-DFA-ANG.wav");
  expect_error([&] { ser::load_manifest("cremad", dir.path().string()); }, {"1001-DFA-ANG.wav"});
}

// ---- tess ----------------------------------------------------------------------------------------

TEST(CorpusTess, FakeFolder) {
  TempDir dir;
  for (const char* name : {"TESS/OAF_angry/OAF_back_angry.wav", "TESS/YAF_pleasant_surprised/YAF_dog_ps.wav",
                           "TESS/OAF_Fear/OAF_bite_fear.wav", "TESS/YAF_sad/YAF_chair_sad.wav",
                           "YAF_neutral/YAF_Germ_neutral.wav"}) {
    touch(dir, name);
  }
  const ser::Manifest m = ser::load_manifest("tess", dir.path().string());
  EXPECT_EQ(m.class_names, ser::corpus_classes("tess"));
  ASSERT_EQ(m.utterances.size(), 5u);
  EXPECT_EQ(m.utterances[0].path, "TESS/OAF_Fear/OAF_bite_fear.wav");
  EXPECT_EQ(m.utterances[0].label, "fear");
  EXPECT_EQ(m.utterances[0].speaker, "OAF");
  EXPECT_EQ(m.utterances[0].fields.at("word"), "bite");
  EXPECT_EQ(m.utterances[2].path, "TESS/YAF_pleasant_surprised/YAF_dog_ps.wav");
  EXPECT_EQ(m.utterances[2].label, "surprise");
  EXPECT_EQ(m.utterances[4].label, "neutral");
  EXPECT_EQ(m.speakers(), (Strings{"OAF", "YAF"}));

  touch(dir, "TESS/OAF_calm/OAF_back_calm.wav");
  expect_error([&] { ser::load_manifest("tess", dir.path().string()); }, {"OAF_back_calm.wav", "emotion"});
}

TEST(CorpusTess, BadNameAndEmptyFolder) {
  {
    TempDir dir;
    touch(dir, "OAF_back.wav");
    expect_error([&] { ser::load_manifest("tess", dir.path().string()); }, {"OAF_back.wav"});
  }
  {
    TempDir dir;
    touch(dir, "readme.txt");
    expect_error([&] { ser::load_manifest("tess", dir.path().string()); }, {dir.path().string(), "no .wav"});
  }
}

// ---- csv -----------------------------------------------------------------------------------------

TEST(CorpusCsv, QuotedFieldsSynonymsAndExtraColumns) {
  TempDir dir;
  touch(dir, "clips/b, with comma.wav");
  touch(dir, "clips/a.wav");
  touch(dir, "clips/c.wav");
  touch(dir, "clips/d \"quoted\".wav");
  write_text(dir.path() / "manifest.csv",
             "\xEF\xBB\xBFPath,Speaker,label,note\r\n"
             "\"clips/b, with comma.wav\",s2,Anger,\"loud, fast\"\r\n"
             "clips/a.wav , s1 , happiness,plain\r\n"
             "\r\n"
             "clips/c.wav,s1,SAD,\"two\nlines\"\n"
             "\"clips/d \"\"quoted\"\".wav\",s3,bored,\n");
  const ser::Manifest m = ser::load_manifest("csv", dir.path().string());
  EXPECT_EQ(m.corpus, "csv");
  EXPECT_EQ(m.root, dir.path().string());
  EXPECT_EQ(m.class_names, (Strings{"happy", "sad", "angry", "boredom"}));  // present ones, canonical order
  EXPECT_EQ(paths_of(m), (Strings{"clips/a.wav", "clips/b, with comma.wav", "clips/c.wav", "clips/d \"quoted\".wav"}));
  EXPECT_EQ(m.utterances[0].label, "happy");
  EXPECT_EQ(m.utterances[0].speaker, "s1");
  EXPECT_EQ(m.utterances[0].fields.at("note"), "plain");
  EXPECT_EQ(m.utterances[1].label, "angry");
  EXPECT_EQ(m.utterances[1].fields.at("note"), "loud, fast");
  EXPECT_EQ(m.utterances[2].fields.at("note"), "two\nlines");
  EXPECT_EQ(m.utterances[3].label, "boredom");
  EXPECT_EQ(m.utterances[3].fields.at("note"), "");

  // A path to the .csv works the same; class sets narrow it.
  const ser::Manifest p = ser::load_manifest("csv", (dir.path() / "manifest.csv").string(), "sad,angry");
  EXPECT_EQ(p.class_names, (Strings{"sad", "angry"}));
  EXPECT_EQ(paths_of(p), (Strings{"clips/b, with comma.wav", "clips/c.wav"}));
  expect_error([&] { ser::load_manifest("csv", dir.path().string(), "paper4"); }, {"manifest", "neutral"});
}

TEST(CorpusCsv, PathsAreRelativeToTheCsvFolder) {
  TempDir dir;
  touch(dir, "audio/x.wav");
  touch(dir, "audio/y.wav");
  write_text(dir.path() / "lists" / "train.csv",
             "path,label,speaker\n../audio/x.wav,neutral,A\n" + (dir.path() / "audio" / "y.wav").string() + ",fearful,B\n");
  const ser::Manifest m = ser::load_manifest("csv", (dir.path() / "lists" / "train.csv").string());
  EXPECT_EQ(m.root, (dir.path() / "lists").string());
  EXPECT_EQ(paths_of(m), (Strings{"../audio/x.wav", "../audio/y.wav"}));
  EXPECT_EQ(m.utterances[1].label, "fear");
  EXPECT_TRUE(fs::exists(fs::path(m.root) / m.utterances[1].path));
}

TEST(CorpusCsv, Errors) {
  TempDir dir;
  touch(dir, "a.wav");
  const fs::path csv = dir.path() / "manifest.csv";
  const std::string root = dir.path().string();
  const auto load = [&] { ser::load_manifest("csv", root); };

  write_text(csv, "path,label\na.wav,sad\n");
  expect_error(load, {"manifest.csv", "speaker"});
  write_text(csv, "path,label,speaker\na.wav,joy,s1\n");
  expect_error(load, {"manifest.csv:2", "joy"});
  write_text(csv, "path,label,speaker\nmissing.wav,sad,s1\n");
  expect_error(load, {"manifest.csv:2", "missing.wav"});
  write_text(csv, "path,label,speaker\na.wav,sad\n");
  expect_error(load, {"manifest.csv:2", "fields"});
  write_text(csv, "path,label,speaker\n\"a.wav,sad,s1\n");
  expect_error(load, {"manifest.csv:2", "unterminated"});
  write_text(csv, "path,label,speaker\na.wav,sad,s1\na.wav,sad,s1\n");
  expect_error(load, {"manifest.csv:3", "twice"});
  write_text(csv, "path,label,speaker\n");
  expect_error(load, {"manifest.csv", "no utterances"});
  write_text(csv, "");
  expect_error(load, {"manifest.csv", "empty"});
  fs::remove(csv);
  expect_error(load, {root, "manifest.csv"});
  expect_error([&] { ser::load_manifest("csv", root + "/nothing.csv"); }, {"nothing.csv", "not found"});
}

TEST(CorpusManifest, UnknownCorpus) {
  expect_error([] { ser::load_manifest("timit", "/tmp"); }, {"timit", "known", "iemocap"});
}

TEST(CorpusManifest, Synthetic) {
  const ser::Manifest m = ser::load_manifest("synthetic", "");
  EXPECT_EQ(m.corpus, "synthetic");
  EXPECT_EQ(m.class_names, ser::SyntheticCorpusConfig{}.emotions);
  EXPECT_FALSE(m.utterances.empty());
  const ser::Manifest p = ser::load_manifest("synthetic", "", "paper4");
  EXPECT_EQ(p.class_names, (Strings{"angry", "happy", "sad", "neutral"}));
  for (const auto& u : p.utterances) EXPECT_GE(p.label_index(u.label), 0);
}

// ---- the real Emo-DB -----------------------------------------------------------------------------

TEST(CorpusEmoDbReal, CountsSpeakersAndClasses) {
  SER_SKIP_WITHOUT_EMODB();
  const ser::Manifest m = ser::load_manifest("emodb", ser::test::emodb_dir());
  EXPECT_EQ(m.utterances.size(), 535u);
  EXPECT_EQ(m.speakers(), (Strings{"03", "08", "09", "10", "11", "12", "13", "14", "15", "16"}));
  EXPECT_EQ(label_counts(m), (std::map<std::string, int>{{"angry", 127}, {"boredom", 81}, {"neutral", 79},
                                                          {"happy", 71}, {"fear", 69}, {"sad", 62}, {"disgust", 46}}));
  EXPECT_TRUE(std::is_sorted(m.utterances.begin(), m.utterances.end(),
                             [](const auto& a, const auto& b) { return a.path < b.path; }));

  const ser::Manifest p = ser::load_manifest("emodb", ser::test::emodb_dir(), "paper4");
  EXPECT_EQ(p.utterances.size(), 127u + 71u + 62u + 79u);
  EXPECT_EQ(label_counts(p), (std::map<std::string, int>{{"angry", 127}, {"happy", 71}, {"sad", 62}, {"neutral", 79}}));
}

TEST(CorpusEmoDbReal, EveryFileDecodes) {
  SER_SKIP_WITHOUT_EMODB();
  const ser::Manifest m = ser::load_manifest("emodb", ser::test::emodb_dir());
  double total_s = 0;
  for (const auto& u : m.utterances) {
    const ser::Audio a = ser::read_audio((fs::path(m.root) / u.path).string());
    ASSERT_EQ(a.sample_rate, 16000) << u.path;
    ASSERT_GT(a.samples.size(), 8000u) << u.path;
    total_s += a.duration_s();
  }
  EXPECT_NEAR(total_s, 1487.0, 1.0);  // the corpus README: 1487 s in all
}

}  // namespace
