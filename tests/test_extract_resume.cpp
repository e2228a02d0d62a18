// An interrupted extraction resumes: `ser features` killed with SIGKILL and started again writes a
// cache equal, dataset by dataset and attribute by attribute, to one made in one go; saved progress
// of other inputs, damaged saved progress and a folder that is not ser's are never trusted.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "cache/h5_handles.hpp"
#include "ser/audio.hpp"
#include "ser/cache.hpp"
#include "ser/error.hpp"
#include "ser/extract.hpp"
#include "ser/synthetic.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

namespace fs = std::filesystem;
using test::read_all;
using test::spawn_ser;
using test::wait_for;

// ---- comparing two caches ---------------------------------------------------------------------------

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}
herr_t collect_attr_name(hid_t, const char* name, const H5A_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

// Every root attribute, as text.
std::map<std::string, std::string> root_attributes(hid_t f, const std::string& path) {
  std::vector<std::string> names;
  hsize_t at = 0;
  H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, &at, collect_attr_name, &names);
  std::map<std::string, std::string> out;
  for (const std::string& n : names) {
    h5::Handle a(H5Aopen(f, n.c_str(), H5P_DEFAULT), H5Aclose);
    h5::Handle type(H5Aget_type(a.get()), H5Tclose);
    h5::Handle space(H5Aget_space(a.get()), H5Sclose);
    if (H5Tget_class(type.get()) == H5T_INTEGER) {
      out[n] = std::to_string(h5::read_attr_int(f, path, n));
    } else if (H5Sget_simple_extent_type(space.get()) == H5S_SCALAR) {
      out[n] = h5::read_attr_string(f, path, n);
    } else {
      for (const std::string& s : h5::read_attr_strings(f, path, n)) out[n].append(s).append("\x1f");
    }
  }
  return out;
}

// Every dataset's contents: strings joined, numbers as their raw bytes in the native type.
std::map<std::string, std::string> datasets(hid_t f, const std::string& path) {
  std::vector<std::string> names;
  hsize_t at = 0;
  H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, &at, collect_name, &names);
  std::map<std::string, std::string> out;
  for (const std::string& n : names) {
    h5::Handle d(H5Dopen2(f, n.c_str(), H5P_DEFAULT), H5Dclose);
    h5::Handle type(H5Dget_type(d.get()), H5Tclose);
    std::string shape;
    for (hsize_t x : h5::dataset_dims(f, path, n)) shape.append(std::to_string(x)).append("x");
    if (H5Tget_class(type.get()) == H5T_STRING) {
      for (const std::string& s : h5::read_strings(f, path, n)) out[n].append(s).append("\x1f");
    } else {
      h5::Handle native(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), H5Tclose);
      h5::Handle space(H5Dget_space(d.get()), H5Sclose);
      const auto points = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get()));
      std::string bytes(points * H5Tget_size(native.get()), '\0');
      if (!bytes.empty()) {
        EXPECT_GE(H5Dread(d.get(), native.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()), 0) << n;
      }
      out[n] = bytes;
    }
    out[n] = shape + ":" + out[n];
  }
  return out;
}

// `got` equals `want` in every member of FeatureCache, every root attribute and every dataset.
void expect_same_cache(const std::string& want, const std::string& got) {
  const FeatureCache a = read_cache(want), b = read_cache(got);
  EXPECT_EQ(a.config.to_json(), b.config.to_json());
  EXPECT_EQ(a.corpus, b.corpus);
  EXPECT_EQ(a.frontend, b.frontend);
  EXPECT_EQ(a.class_names, b.class_names);
  EXPECT_EQ(a.prosody_names, b.prosody_names);
  EXPECT_EQ(a.functional_names, b.functional_names);
  EXPECT_TRUE(same_bits(a.logmel, b.logmel));
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_TRUE(same_bits(a.prosody, b.prosody));
  EXPECT_TRUE(same_bits(a.functionals, b.functionals));
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.speakers, b.speakers);
  EXPECT_EQ(a.paths, b.paths);
  EXPECT_EQ(a.groups, b.groups);
  EXPECT_EQ(a.splits, b.splits);

  h5::quiet_errors();
  h5::Handle fa(H5Fopen(want.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  h5::Handle fb(H5Fopen(got.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  ASSERT_GE(fa.get(), 0);
  ASSERT_GE(fb.get(), 0);
  const auto attrs_a = root_attributes(fa.get(), want), attrs_b = root_attributes(fb.get(), got);
  EXPECT_GE(attrs_a.size(), 10u);
  EXPECT_EQ(attrs_a, attrs_b);
  const auto data_a = datasets(fa.get(), want), data_b = datasets(fb.get(), got);
  EXPECT_GE(data_a.size(), 7u);
  EXPECT_EQ(data_a.size(), data_b.size());
  for (const auto& [name, contents] : data_a) {
    ASSERT_TRUE(data_b.count(name)) << name;
    EXPECT_TRUE(contents == data_b.at(name)) << "dataset /" << name << " differs";
  }
}

// ---- corpora and runs ---------------------------------------------------------------------------------

SyntheticCorpusConfig small_synthetic() {
  SyntheticCorpusConfig s;
  s.n_speakers = 2;
  s.utterances_per_emotion = 2;  // 2 x 7 x 2 = 28 utterances
  return s;
}

ExtractOptions options(std::size_t batch) {
  ExtractOptions o;
  o.cpu_threads = 2;
  o.batch_size = batch;
  o.progress = false;
  o.synthetic = small_synthetic();
  return o;
}

struct Interrupted {};

// Runs extract_corpus and stops it (as a kill would: no clean-up of its saved progress) once it
// has saved `batches` batches.
void interrupted_run(const Manifest& m, ExtractOptions o, const std::string& out, std::size_t batches) {
  o.after_batch_saved = [batches](std::size_t saved) {
    if (saved >= batches) throw Interrupted{};
  };
  std::ostringstream log;
  EXPECT_THROW(extract_corpus(m, o, out, log), Interrupted);
  ASSERT_FALSE(fs::exists(out));
}

ExtractReport run(const Manifest& m, const ExtractOptions& o, const std::string& out, std::string* log_text = nullptr) {
  std::ostringstream log;
  ExtractReport r = extract_corpus(m, o, out, log);
  if (log_text) *log_text = log.str();
  return r;
}

std::size_t count_batches(const std::string& partial) {
  std::size_t n = 0;
  if (!fs::is_directory(partial)) return 0;
  for (const auto& e : fs::directory_iterator(partial))
    n += e.path().filename().string().rfind("batch-", 0) == 0 && e.path().extension() == ".bin";
  return n;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A csv corpus of `n` WAVs on disk; the names in `bad` are text files pretending to be audio.
std::string write_csv_corpus(const fs::path& root, int n, const std::vector<int>& bad = {}) {
  fs::create_directories(root);
  std::ofstream csv(root / "manifest.csv");
  csv << "path,label,speaker\n";
  for (int i = 0; i < n; ++i) {
    const std::string name = std::string("u").append(std::to_string(i)).append(".wav");
    if (std::find(bad.begin(), bad.end(), i) != bad.end())
      test::write_text(root / name, "not audio\n");
    else
      write_wav16((root / name).string(), test::random_signal(8000 + 331 * i, 500 + i, -0.3f, 0.3f), 16000);
    csv << name << "," << (i % 3 == 0 ? "angry" : i % 3 == 1 ? "sad" : "neutral") << ",s" << (i % 2) << "\n";
  }
  return root.string();
}

// ---- in-process: interrupted by an exception after K saved batches ----------------------------------

TEST(ExtractResume, InterruptedRunResumesToTheSameCache) {
  test::TempDir dir;
  const Manifest m = synthetic_manifest(small_synthetic());
  const ExtractOptions o = options(4);  // 7 batches
  const ExtractReport whole = run(m, o, dir.file("whole.h5"));

  const std::string out = dir.file("resumed.h5"), partial = out + ".partial";
  interrupted_run(m, o, out, 3);
  EXPECT_TRUE(fs::exists(fs::path(partial) / "identity"));
  EXPECT_EQ(count_batches(partial), 3u);

  std::string log;
  const ExtractReport r = run(m, o, out, &log);
  EXPECT_TRUE(contains(log, "resuming: 12 of 28 utterances already extracted")) << log;
  EXPECT_EQ(r.resumed, 12u);
  EXPECT_EQ(r.written, whole.written);
  EXPECT_EQ(r.audio_seconds, whole.audio_seconds);
  EXPECT_FALSE(fs::exists(partial));
  expect_same_cache(dir.file("whole.h5"), out);

  // Killed after its last batch but before the cache was written: nothing is left to extract.
  const std::string late = dir.file("late.h5");
  interrupted_run(m, o, late, 7);
  const ExtractReport all = run(m, o, late, &log);
  EXPECT_TRUE(contains(log, "resuming: 28 of 28")) << log;
  EXPECT_EQ(all.frontend_seconds, 0.0);
  expect_same_cache(dir.file("whole.h5"), late);
}

TEST(ExtractResume, SkippedFilesStaySkippedOnResume) {
  test::TempDir dir;
  const Manifest m = load_manifest("csv", write_csv_corpus(dir.path() / "corpus", 14, {1, 9}));
  ExtractOptions o = options(4);  // batches 0..3; bad files in batches 0 and 2
  o.on_error = OnError::skip;
  std::string whole_log;
  const ExtractReport whole = run(m, o, dir.file("whole.h5"), &whole_log);
  ASSERT_EQ(whole.skipped.size(), 2u);

  const std::string out = dir.file("resumed.h5");
  interrupted_run(m, o, out, 3);  // both bad files are in saved batches
  std::string log;
  const ExtractReport r = run(m, o, out, &log);
  EXPECT_TRUE(contains(log, "resuming: 12 of 14")) << log;
  EXPECT_EQ(r.skipped, whole.skipped);
  EXPECT_EQ(log.substr(log.find("skipped ")), whole_log.substr(whole_log.find("skipped "))) << log;
  expect_same_cache(dir.file("whole.h5"), out);

  // Resumed with --on-error fail, a bad file in a saved batch fails as it would have in one go,
  // and the saved progress stays for a run that skips it.
  const std::string strict = dir.file("strict.h5");
  interrupted_run(m, o, strict, 2);
  ExtractOptions fail = o;
  fail.on_error = OnError::fail;
  std::ostringstream ignored;
  const std::string msg = test::error_of([&] { extract_corpus(m, fail, strict, ignored); });
  EXPECT_TRUE(contains(msg, "u1.wav: not a recognised audio file")) << msg;
  EXPECT_TRUE(contains(msg, "no cache written")) << msg;
  EXPECT_FALSE(fs::exists(strict));
  EXPECT_EQ(count_batches(strict + ".partial"), 2u);
  run(m, o, strict, &log);
  EXPECT_TRUE(contains(log, "resuming: 8 of 14")) << log;
  expect_same_cache(dir.file("whole.h5"), strict);
}

TEST(ExtractResume, ProgressOfOtherInputsIsNotReused) {
  test::TempDir dir;
  const Manifest m = synthetic_manifest(small_synthetic());
  ExtractOptions other = options(4);
  other.config.logmel.n_mels = 40;
  run(m, other, dir.file("whole40.h5"));

  std::string log;
  const std::string out = dir.file("c.h5");
  interrupted_run(m, options(4), out, 2);  // saved with 64 mels
  const ExtractReport r = run(m, other, out, &log);
  EXPECT_TRUE(contains(log, "different feature_config; starting over")) << log;
  EXPECT_FALSE(contains(log, "resuming")) << log;
  EXPECT_EQ(r.resumed, 0u);
  expect_same_cache(dir.file("whole40.h5"), out);

  // Another batch size, another manifest (one utterance fewer), another synthetic generator.
  const auto expect_restart = [&](const Manifest& mm, const ExtractOptions& oo, const std::string& key) {
    fs::remove(out);
    interrupted_run(m, options(4), out, 2);
    EXPECT_EQ(run(mm, oo, out, &log).resumed, 0u);
    EXPECT_TRUE(contains(log, "different " + key + "; starting over")) << log;
  };
  expect_restart(m, options(7), "batch_size");
  Manifest fewer = m;
  fewer.utterances.pop_back();
  expect_restart(fewer, options(4), "utterances");
  ExtractOptions reseeded = options(4);
  reseeded.synthetic.seed += 1;
  expect_restart(m, reseeded, "synthetic");
}

TEST(ExtractResume, AChangedAudioFileMakesTheRunStartOver) {
  test::TempDir dir;
  const std::string root = write_csv_corpus(dir.path() / "corpus", 10);
  const Manifest m = load_manifest("csv", root);
  const std::string out = dir.file("c.h5");
  interrupted_run(m, options(4), out, 2);
  const fs::path changed = fs::path(root) / "u2.wav";
  write_wav16(changed.string(), test::random_signal(9000, 4242, -0.3f, 0.3f), 16000);
  fs::last_write_time(changed, fs::last_write_time(changed) + std::chrono::seconds(5));
  std::string log;
  EXPECT_EQ(run(m, options(4), out, &log).resumed, 0u);
  EXPECT_TRUE(contains(log, "different audio_files; starting over")) << log;
  run(m, options(4), dir.file("whole.h5"));
  expect_same_cache(dir.file("whole.h5"), out);
}

TEST(ExtractResume, DamagedProgressIsExtractedAgainNeverTrusted) {
  test::TempDir dir;
  const Manifest m = synthetic_manifest(small_synthetic());
  const ExtractOptions o = options(4);
  const std::string whole = dir.file("whole.h5");
  run(m, o, whole);
  const std::string out = dir.file("c.h5"), partial = out + ".partial";
  std::string log;

  // A truncated batch file: the batches before it are used, the rest is extracted again.
  interrupted_run(m, o, out, 4);
  const fs::path batch1 = fs::path(partial) / "batch-000001.bin";
  fs::resize_file(batch1, fs::file_size(batch1) / 2);
  ExtractReport r = run(m, o, out, &log);
  EXPECT_TRUE(contains(log, "batch-000001.bin")) << log;
  EXPECT_TRUE(contains(log, "damaged")) << log;
  EXPECT_TRUE(contains(log, "resuming: 4 of 28")) << log;
  EXPECT_EQ(r.resumed, 4u);
  expect_same_cache(whole, out);
  fs::remove(out);

  // One flipped byte inside the features: the checksum catches it.
  interrupted_run(m, o, out, 3);
  const fs::path batch0 = fs::path(partial) / "batch-000000.bin";
  {
    std::fstream f(batch0, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(batch0) / 2));
    f.put('\x5a');
  }
  r = run(m, o, out, &log);
  EXPECT_TRUE(contains(log, "batch-000000.bin")) << log;
  EXPECT_TRUE(contains(log, "checksum")) << log;
  EXPECT_EQ(r.resumed, 0u);
  expect_same_cache(whole, out);
  fs::remove(out);

  // A batch file cut to nothing, and a damaged identity: a clean restart that says so.
  interrupted_run(m, o, out, 3);
  fs::resize_file(batch0, 0);
  EXPECT_EQ(run(m, o, out, &log).resumed, 0u);
  EXPECT_TRUE(contains(log, "batch-000000.bin: not a partial-extraction batch, or truncated")) << log;
  fs::remove(out);
  interrupted_run(m, o, out, 3);
  const fs::path identity = fs::path(partial) / "identity";
  fs::resize_file(identity, fs::file_size(identity) / 3);
  EXPECT_EQ(run(m, o, out, &log).resumed, 0u);
  EXPECT_TRUE(contains(log, "identity file is missing or damaged; starting over")) << log;
  expect_same_cache(whole, out);
  fs::remove(out);

  // Batch files of another run put into this one's folder are refused by their identity.
  const std::string other = dir.file("other.h5");
  ExtractOptions reseeded = o;
  reseeded.synthetic.seed += 1;
  interrupted_run(m, reseeded, other, 3);
  interrupted_run(m, o, out, 1);
  fs::copy_file(fs::path(other + ".partial") / "batch-000001.bin", fs::path(partial) / "batch-000001.bin");
  r = run(m, o, out, &log);
  EXPECT_TRUE(contains(log, "identity differs")) << log;
  EXPECT_EQ(r.resumed, 4u);
  expect_same_cache(whole, out);
}

TEST(ExtractResume, AFolderThatIsNotSerProgressIsAnErrorNamingIt) {
  test::TempDir dir;
  const Manifest m = synthetic_manifest(small_synthetic());
  const std::string out = dir.file("c.h5"), partial = out + ".partial";
  test::write_text(fs::path(partial) / "notes.txt", "mine\n");
  std::ostringstream log;
  test::expect_error([&] { extract_corpus(m, options(4), out, log); },
                     {partial, "notes.txt", "not saved extraction progress"});
  EXPECT_TRUE(fs::exists(fs::path(partial) / "notes.txt"));
  fs::remove_all(partial);
  test::write_text(partial, "a file\n");
  test::expect_error([&] { extract_corpus(m, options(4), out, log); }, {partial, "not a folder"});
  EXPECT_FALSE(fs::exists(out));
}

TEST(ExtractResume, NoResumeStartsOver) {
  test::TempDir dir;
  const Manifest m = synthetic_manifest(small_synthetic());
  run(m, options(4), dir.file("whole.h5"));
  const std::string out = dir.file("c.h5");
  interrupted_run(m, options(4), out, 3);
  ExtractOptions fresh = options(4);
  fresh.resume = false;
  std::string log;
  EXPECT_EQ(run(m, fresh, out, &log).resumed, 0u);
  EXPECT_TRUE(contains(log, "not resumed (--no-resume); starting over")) << log;
  EXPECT_FALSE(fs::exists(out + ".partial"));
  expect_same_cache(dir.file("whole.h5"), out);
}

// ---- the ser command, killed ---------------------------------------------------------------------------

std::vector<std::string> features_args(const std::string& root, const std::string& out) {
  return {"features", "--corpus", "csv", "--data", root, "--out", out, "--device", "cpu", "--threads", "2",
          "--batch-size", "2"};
}

std::string joined(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s.append(" ").append(a);
  return s;
}

TEST(ExtractResumeCli, KilledAtAKnownBatchThenStartedAgainGivesTheSameCache) {
  test::TempDir dir;
  const std::string root = write_csv_corpus(dir.path() / "corpus", 24);
  std::string out;
  ASSERT_EQ(test::run_ser(joined(features_args(root, dir.file("whole.h5"))), &out), 0) << out;

  const std::string cache = dir.file("c.h5"), partial = cache + ".partial";
  std::vector<std::string> args = features_args(root, cache);
  args.insert(args.end(), {"--kill-after-batches", "3"});
  const int status = wait_for(spawn_ser(args, dir.file("killed.log")));
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << read_all(dir.file("killed.log"));
  EXPECT_FALSE(fs::exists(cache));
  EXPECT_EQ(count_batches(partial), 3u);

  ASSERT_EQ(test::run_ser(joined(features_args(root, cache)), &out), 0) << out;
  EXPECT_TRUE(contains(out, "resuming: 6 of 24 utterances already extracted")) << out;
  EXPECT_FALSE(fs::exists(partial));
  expect_same_cache(dir.file("whole.h5"), cache);

  ASSERT_EQ(test::run_ser("features --help", &out), 0);
  EXPECT_TRUE(contains(out, "--no-resume")) << out;
  EXPECT_TRUE(contains(out, "OUT.partial")) << out;
  EXPECT_FALSE(contains(out, "--kill-after-batches")) << out;
}

// A real SIGKILL from outside, at whatever point the child has reached once its first batch is
// saved. A kill that lands after the child finished (or before it saved anything) proves nothing,
// so such an attempt is thrown away and made again.
TEST(ExtractResumeCli, SigkillMidwayThenStartedAgainGivesTheSameCache) {
  test::TempDir dir;
  const std::string root = write_csv_corpus(dir.path() / "corpus", 60);
  std::string out;
  ASSERT_EQ(test::run_ser(joined(features_args(root, dir.file("whole.h5"))), &out), 0) << out;

  const std::string cache = dir.file("c.h5"), partial = cache + ".partial";
  bool killed_midway = false;
  for (int attempt = 0; attempt < 20 && !killed_midway; ++attempt) {
    fs::remove_all(partial);
    fs::remove(cache);
    const pid_t pid = spawn_ser(features_args(root, cache), dir.file("killed.log"));
    ASSERT_GT(pid, 0);
    const std::size_t target = attempt < 5 ? 5 : 1;  // batches saved before the kill (of 30)
    int status = 0;
    bool exited = false;
    while (!exited && count_batches(partial) < target) {
      exited = waitpid(pid, &status, WNOHANG) == pid;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!exited) {
      kill(pid, SIGKILL);
      status = wait_for(pid);
    }
    killed_midway = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && !fs::exists(cache) &&
                    count_batches(partial) > 0;
  }
  ASSERT_TRUE(killed_midway) << "no attempt was killed between its first saved batch and its end";
  const std::size_t saved = count_batches(partial);

  ASSERT_EQ(test::run_ser(joined(features_args(root, cache)), &out), 0) << out;
  EXPECT_TRUE(contains(out, "resuming: ")) << out;
  EXPECT_TRUE(contains(out, " of 60 utterances already extracted")) << out;
  EXPECT_FALSE(fs::exists(partial));
  expect_same_cache(dir.file("whole.h5"), cache);
  std::cout << "killed with " << saved << " batch files saved; resumed: " << out.substr(out.find("resuming")) << "\n";
}

// The real corpus with the default batch size: killed after 4 of its 9 batches.
TEST(ExtractResumeCli, EmoDbKilledMidwayResumesToTheSameCache) {
  SER_SKIP_WITHOUT_EMODB();
  test::TempDir dir;
  const std::vector<std::string> base = {"features", "--corpus", "emodb", "--data", test::emodb_dir(),
                                         "--device", "cpu", "--threads", "2", "--out"};
  const auto args = [&](const std::string& out) {
    std::vector<std::string> a = base;
    a.push_back(out);
    return a;
  };
  std::string out;
  ASSERT_EQ(test::run_ser(joined(args(dir.file("whole.h5"))), &out), 0) << out;
  const std::string cache = dir.file("c.h5");
  std::vector<std::string> killed = args(cache);
  killed.insert(killed.end(), {"--kill-after-batches", "4"});
  const int status = wait_for(spawn_ser(killed, dir.file("killed.log")));
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << read_all(dir.file("killed.log"));
  ASSERT_EQ(test::run_ser(joined(args(cache)), &out), 0) << out;
  EXPECT_TRUE(contains(out, "resuming: 256 of 535 utterances already extracted")) << out;
  EXPECT_FALSE(fs::exists(cache + ".partial"));
  expect_same_cache(dir.file("whole.h5"), cache);
}

}  // namespace
}  // namespace ser
