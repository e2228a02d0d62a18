// Cooperating experiment workers (`ser experiment --worker`, src/experiment/run_queue.hpp): the claim
// files (exclusive, released, taken over when stale, kept fresh by the heartbeat), two workers on one
// run folder giving the results of one process with every run computed once, and a worker killed with
// SIGKILL mid-training whose run another worker takes over, resumes from last.h5 and completes with the
// results an uninterrupted run gives.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiment/run_claim.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

namespace fs = std::filesystem;
using experiment::ClaimTiming;
using experiment::RunClaim;

// Sets the file's modification time `seconds` into the past.
void age_file(const fs::path& p, double seconds) {
  struct stat st{};
  ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  times[1].tv_sec -= static_cast<time_t>(seconds);
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0) << p;
}

TEST(RunClaims, ExclusiveUntilReleased) {
  test::TempDir dir;
  const fs::path path = dir.path() / "claim";
  const ClaimTiming timing{60, 10};
  {
    auto held = RunClaim::try_acquire(path, timing);
    ASSERT_TRUE(held);
    EXPECT_TRUE(fs::exists(path));
    EXPECT_EQ(test::read_all(path.string()), experiment::worker_name() + "\n");
    EXPECT_FALSE(RunClaim::try_acquire(path, timing)) << "a live claim is exclusive";
  }
  EXPECT_FALSE(fs::exists(path)) << "released with its holder";
  EXPECT_TRUE(RunClaim::try_acquire(path, timing));
  EXPECT_FALSE(experiment::file_age_seconds(dir.path() / "absent"));
}

TEST(RunClaims, StaleClaimIsTakenOverAndNamesItsOwner) {
  test::TempDir dir;
  const fs::path path = dir.path() / "claim";
  test::write_text(path, "node7-4242\n");
  std::string previous;
  EXPECT_FALSE(RunClaim::try_acquire(path, ClaimTiming{60, 10}, &previous)) << "fresh: its owner may be alive";
  EXPECT_EQ(previous, "");
  age_file(path, 120);
  const auto age = experiment::file_age_seconds(path);
  ASSERT_TRUE(age);
  EXPECT_NEAR(*age, 120, 5);
  auto claim = RunClaim::try_acquire(path, ClaimTiming{60, 10}, &previous);
  ASSERT_TRUE(claim) << "not refreshed for 120 s with a 60 s timeout";
  EXPECT_EQ(previous, "node7-4242");
  EXPECT_EQ(test::read_all(path.string()), experiment::worker_name() + "\n");
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename(), "claim") << "left behind: " << e.path();
}

TEST(RunClaims, HeartbeatKeepsTheClaimFresh) {
  test::TempDir dir;
  const fs::path path = dir.path() / "claim";
  const ClaimTiming timing{2, 0.05};
  auto held = RunClaim::try_acquire(path, timing);
  ASSERT_TRUE(held);
  age_file(path, 30);  // as if the holder had stalled; its heartbeat must bring the time back
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto age = experiment::file_age_seconds(path);
  ASSERT_TRUE(age);
  EXPECT_LT(*age, 1.0);
  EXPECT_FALSE(RunClaim::try_acquire(path, timing)) << "a claim with a beating heart is not taken over";
}

// ---- whole experiments through the CLI -------------------------------------------------------------

// An experiment on the synthetic corpus: a small hybrid and the SVM, 3 folds, the given seeds.
std::string write_experiment(const test::TempDir& dir, int epochs, const std::string& seeds) {
  test::write_text(dir.path() / "hybrid.toml",
                   "[model]\nconv_channels = [4, 8]\nattention_after = 2\nattention_heads = 2\nattention_head_dim = 4\n"
                   "dense = [16]\n[train]\nepochs = " + std::to_string(epochs) + "\nbatch_size = 8\npatience = 100\n");
  test::write_text(dir.path() / "grid.toml",
                   "[experiment]\nname = \"grid\"\ncorpus = \"synthetic\"\nprotocol = \"kfold\"\nfolds = 3\n"
                   "validation_speakers = 1\nsynthetic_speakers = 6\nsynthetic_per_emotion = 1\nseeds = " + seeds + "\n"
                   "attention_examples = 1\n"
                   "[[model]]\nname = \"hybrid\"\nkind = \"engine\"\napproach = \"hybrid\"\nconfig = \"hybrid.toml\"\n"
                   "[[model]]\nname = \"svm_rbf\"\nkind = \"svm_rbf\"\n");
  return dir.file("grid.toml");
}

std::vector<std::string> experiment_args(const std::string& file, const std::string& runs, bool worker) {
  std::vector<std::string> a{"experiment", file, "--runs", runs, "--device", "cpu", "--no-progress", "--threads", "1"};
  if (worker) a.insert(a.end(), {"--worker", "--claim-timeout", "1"});
  return a;
}

// results.json's models and attention examples without what depends on timing (durations, speeds).
nlohmann::json comparable(const fs::path& results) {
  std::ifstream in(results.string());
  nlohmann::json r = nlohmann::json::parse(in);
  nlohmann::json kept{{"models", r["models"]}, {"attention_examples", r["attention_examples"]},
                      {"significance", r.value("significance", nlohmann::json())}};
  std::function<void(nlohmann::json&)> strip = [&](nlohmann::json& j) {
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end();) {
        if (it.key().find("seconds") != std::string::npos || it.key().find("per_second") != std::string::npos)
          it = j.erase(it);
        else strip(*it++);
      }
    } else if (j.is_array()) {
      for (auto& x : j) strip(x);
    }
  };
  strip(kept);
  return kept;
}

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(ExperimentWorkers, TwoWorkersGiveTheResultsOfOneProcessComputingEveryRunOnce) {
  test::TempDir dir;
  const std::string file = write_experiment(dir, 12, "[1, 2]");
  ASSERT_EQ(test::wait_for(test::spawn_ser(experiment_args(file, dir.file("one"), false), dir.file("one.log"))), 0)
      << test::read_all(dir.file("one.log"));
  const pid_t a = test::spawn_ser(experiment_args(file, dir.file("two"), true), dir.file("a.log"));
  const pid_t b = test::spawn_ser(experiment_args(file, dir.file("two"), true), dir.file("b.log"));
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  const int sa = test::wait_for(a), sb = test::wait_for(b);
  const std::string la = test::read_all(dir.file("a.log")), lb = test::read_all(dir.file("b.log"));
  ASSERT_TRUE(WIFEXITED(sa) && WEXITSTATUS(sa) == 0) << la;
  ASSERT_TRUE(WIFEXITED(sb) && WEXITSTATUS(sb) == 0) << lb;
  // 2 models x 3 folds x 2 seeds = 12 runs, each computed by exactly one worker.
  EXPECT_EQ(count_of(la, "test UA") + count_of(lb, "test UA"), 12) << la << lb;
  std::smatch m;
  int computed = 0;
  for (const std::string* log : {&la, &lb}) {
    ASSERT_TRUE(std::regex_search(*log, m, std::regex("computed (\\d+) of 12 runs"))) << *log;
    computed += std::stoi(m[1]);
  }
  EXPECT_EQ(computed, 12);
  // The cache was extracted once: one worker extracted, the other reused it.
  EXPECT_EQ(count_of(la + lb, "features: extracting"), 1) << la << lb;
  EXPECT_EQ(comparable(dir.path() / "two" / "grid" / "results.json"),
            comparable(dir.path() / "one" / "grid" / "results.json"));
  for (const auto& e : fs::recursive_directory_iterator(dir.path() / "two"))
    EXPECT_EQ(e.path().filename().string().find("claim"), std::string::npos) << "claim left behind: " << e.path();
}

TEST(ExperimentWorkers, AKilledWorkersRunIsTakenOverResumedAndCompleted) {
  test::TempDir dir;
  const std::string file = write_experiment(dir, 40, "[1]");
  ASSERT_EQ(test::wait_for(test::spawn_ser(experiment_args(file, dir.file("one"), false), dir.file("one.log"))), 0)
      << test::read_all(dir.file("one.log"));

  // Kill the first worker as soon as its first run has checkpointed an epoch.
  const fs::path run = dir.path() / "two" / "grid" / "models" / "hybrid" / "seed1" / "fold0";
  const pid_t first = test::spawn_ser(experiment_args(file, dir.file("two"), true), dir.file("first.log"));
  ASSERT_GT(first, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(run / "last.h5") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(fs::exists(run / "last.h5")) << test::read_all(dir.file("first.log"));
  ::kill(first, SIGKILL);
  const int killed = test::wait_for(first);
  ASSERT_TRUE(WIFSIGNALED(killed) && WTERMSIG(killed) == SIGKILL) << test::read_all(dir.file("first.log"));
  ASSERT_FALSE(fs::exists(run / "fold.json")) << "killed too late: the run had finished";
  ASSERT_TRUE(fs::exists(run / "claim")) << "a killed worker leaves its claim";

  const pid_t second = test::spawn_ser(experiment_args(file, dir.file("two"), true), dir.file("second.log"));
  const int status = test::wait_for(second);
  const std::string log = test::read_all(dir.file("second.log"));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log;
  EXPECT_NE(log.find("taking over from "), std::string::npos) << log;
  EXPECT_NE(test::read_all((run / "train.log").string()).find("resum"), std::string::npos)
      << "the taken-over run resumes from last.h5: " << test::read_all((run / "train.log").string());
  EXPECT_EQ(comparable(dir.path() / "two" / "grid" / "results.json"),
            comparable(dir.path() / "one" / "grid" / "results.json"));
}

}  // namespace
}  // namespace ser
