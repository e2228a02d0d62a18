// The CPU log-mel twin against fixtures computed by torchaudio (tools/make_torchaudio_fixtures.py):
// the proof that the default convention equals torchaudio's MelSpectrogram followed by log(mel + 1e-6).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ser/feature_config.hpp"
#include "ser/logmel.hpp"

namespace ser {
namespace {

nlohmann::json load_fixture() {
  std::ifstream in(std::string(SER_TEST_FIXTURES) + "/torchaudio_logmel.json");
  EXPECT_TRUE(in.good()) << "missing fixture; run tools/make_torchaudio_fixtures.py";
  return nlohmann::json::parse(in);
}

TEST(LogMelTorchaudio, FixturesAgree) {
  const nlohmann::json doc = load_fixture();
  ASSERT_GE(doc["cases"].size(), 4u);
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    // The fixture's logmel section plus the default prosody section make a full config.
    nlohmann::json full = nlohmann::json::parse(FeatureConfig{}.to_json());
    for (const auto& [k, v] : c["logmel_config"].items()) full["logmel"][k] = v;
    const FeatureConfig cfg = FeatureConfig::from_json(full.dump());
    const std::vector<float> x = c["signal"].get<std::vector<float>>();
    const std::vector<float> want = c["logmel"].get<std::vector<float>>();
    const std::vector<float> got = LogMelCpu(cfg.logmel).compute(x);
    ASSERT_EQ(cfg.logmel.num_frames(static_cast<std::int64_t>(x.size())), c["n_frames"].get<std::int64_t>());
    ASSERT_EQ(got.size(), want.size());
    double err2 = 0, ref2 = 0, max_abs = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      err2 += double(got[i] - want[i]) * (got[i] - want[i]);
      ref2 += double(want[i]) * want[i];
      max_abs = std::max(max_abs, double(std::abs(got[i] - want[i])));
    }
    EXPECT_LT(std::sqrt(err2 / ref2), 1e-5) << "relative Frobenius error";
    EXPECT_LT(max_abs, 1e-3) << "largest absolute error";
  }
}

TEST(LogMelTorchaudio, DefaultConfigIsTheTorchaudioDefaultOfTheFixture) {
  const nlohmann::json doc = load_fixture();
  const auto& c = doc["cases"][0];
  ASSERT_EQ(c["name"], "default");
  const nlohmann::json ours = nlohmann::json::parse(FeatureConfig{}.to_json())["logmel"];
  for (const auto& [k, v] : c["logmel_config"].items()) EXPECT_EQ(ours[k], v) << k;
}

}  // namespace
}  // namespace ser
