// FeatureConfig: JSON round trip, validation messages and the differences report.
#include <gtest/gtest.h>

#include "ser/error.hpp"
#include "ser/feature_config.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

TEST(FeatureConfig, JsonRoundTrip) {
  FeatureConfig a;
  a.logmel.n_mels = 80;
  a.logmel.mel_scale = MelScale::slaney;
  a.prosody.f0_max = 400;
  const FeatureConfig b = FeatureConfig::from_json(a.to_json());
  EXPECT_TRUE(a.differences(b).empty());
  EXPECT_EQ(b.logmel.n_mels, 80);
  EXPECT_EQ(b.logmel.mel_scale, MelScale::slaney);
}

TEST(FeatureConfig, DifferencesNameTheFields) {
  FeatureConfig a, b;
  b.logmel.n_mels = 40;
  b.logmel.window = WindowType::hamming;
  const auto d = a.differences(b);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_NE(d[0].find("logmel.n_mels: 64 vs 40"), std::string::npos) << d[0];
}

TEST(FeatureConfig, ValidationNamesTheField) {
  FeatureConfig c;
  c.logmel.n_fft = 500;
  try {
    c.validate();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("logmel.n_fft"), std::string::npos) << e.what();
  }
  c = FeatureConfig{};
  c.logmel.f_max = 9000;
  EXPECT_THROW(c.validate(), Error);
}

TEST(FeatureConfig, UnknownAndMissingFieldsAreErrors) {
  std::string text = FeatureConfig{}.to_json();
  const std::string unknown = text.substr(0, text.size() - 2) + ",\"bogus\":1}}";
  EXPECT_THROW(FeatureConfig::from_json(unknown), Error);
  EXPECT_THROW(FeatureConfig::from_json("{\"logmel\":{},\"prosody\":{}}"), Error);
  EXPECT_THROW(FeatureConfig::from_json("not json"), Error);
}

// Found by fuzz_feature_config: a number that does not fit the field (5e54 for an int) was
// converted anyway, which is undefined behaviour. Now it is an error naming the field.
TEST(FeatureConfig, NumbersThatDoNotFitTheFieldAreErrors) {
  const std::string text = FeatureConfig{}.to_json();
  const auto with = [&](const std::string& from, const std::string& to) {
    const std::size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    std::string t = text;
    return t.replace(at, from.size(), to);
  };
  const std::string n_mels = "\"n_mels\":" + std::to_string(FeatureConfig{}.logmel.n_mels);
  for (const std::string bad : {"5e54", "2.5", "-3000000000", "18446744073709551615"})
    test::expect_error([&] { FeatureConfig::from_json(with(n_mels, "\"n_mels\":" + bad)); }, {"logmel.n_mels", "out of range"});
  EXPECT_EQ(FeatureConfig::from_json(with(n_mels, "\"n_mels\":40")).logmel.n_mels, 40);
}

}  // namespace
}  // namespace ser
