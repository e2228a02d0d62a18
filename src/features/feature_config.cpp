// FeatureConfig: validation, derived sizes, canonical JSON (stored in the cache) and differences.
#include "ser/feature_config.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <type_traits>

#include "ser/error.hpp"

namespace ser {

using nlohmann::json;

std::string to_string(WindowType w) {
  switch (w) {
    case WindowType::hann: return "hann";
    case WindowType::hamming: return "hamming";
    case WindowType::rectangular: return "rectangular";
  }
  return "?";
}
std::string to_string(PadMode p) { return p == PadMode::reflect ? "reflect" : "constant"; }
std::string to_string(MelScale s) { return s == MelScale::htk ? "htk" : "slaney"; }
std::string to_string(MelNorm n) { return n == MelNorm::none ? "none" : "slaney"; }

namespace {

template <typename Enum>
Enum parse_enum(const std::string& field, const std::string& value, std::initializer_list<Enum> all) {
  std::string options;
  for (Enum e : all) {
    if (to_string(e) == value) return e;
    options += (options.empty() ? "" : ", ") + to_string(e);
  }
  throw Error("feature config: " + field + ": expected one of " + options + ", found '" + value + "'");
}

void require(bool ok, const std::string& field, const std::string& expected, const std::string& found) {
  if (!ok) throw Error("feature config: " + field + ": expected " + expected + ", found " + found);
}

bool is_power_of_two(int n) { return n > 0 && (n & (n - 1)) == 0; }

template <typename T>
std::string str(T v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

}  // namespace

std::int64_t LogMelConfig::num_frames(std::int64_t n_samples) const {
  if (center) return 1 + n_samples / hop_length;
  if (n_samples < n_fft) return 0;
  return 1 + (n_samples - n_fft) / hop_length;
}

std::int64_t LogMelConfig::min_samples() const {
  // Reflect padding mirrors n_fft/2 samples without repeating the edge sample.
  if (center && pad_mode == PadMode::reflect) return n_fft / 2 + 1;
  if (center) return 1;
  return n_fft;
}

void LogMelConfig::validate() const {
  require(sample_rate >= 1000 && sample_rate <= 384000, "logmel.sample_rate", "1000..384000 Hz", str(sample_rate));
  require(is_power_of_two(n_fft) && n_fft >= 16 && n_fft <= 4096, "logmel.n_fft",
          "a power of two in 16..4096", str(n_fft));
  require(win_length >= 1 && win_length <= n_fft, "logmel.win_length", "1..n_fft", str(win_length));
  require(hop_length >= 1, "logmel.hop_length", ">= 1", str(hop_length));
  require(power == 1.0 || power == 2.0, "logmel.power", "1 or 2", str(power));
  require(n_mels >= 1 && n_mels <= 512, "logmel.n_mels", "1..512", str(n_mels));
  require(f_min >= 0 && f_min < f_max, "logmel.f_min", ">= 0 and < f_max", str(f_min));
  require(f_max <= sample_rate / 2.0, "logmel.f_max", "<= sample_rate / 2", str(f_max));
  require(log_offset > 0, "logmel.log_offset", "> 0", str(log_offset));
  require(preemphasis >= 0 && preemphasis < 1, "logmel.preemphasis", "0 <= a < 1", str(preemphasis));
  require(dither >= 0, "logmel.dither", ">= 0", str(dither));
}

int ProsodyConfig::tau_min(int sample_rate) const {
  return std::max(2, static_cast<int>(std::floor(sample_rate / f0_max)));
}
int ProsodyConfig::tau_max(int sample_rate) const {
  return static_cast<int>(std::ceil(sample_rate / f0_min));
}

void ProsodyConfig::validate(int sample_rate) const {
  require(f0_min >= 20 && f0_min < f0_max, "prosody.f0_min", "20 Hz..f0_max", str(f0_min));
  require(f0_max <= sample_rate / 4.0, "prosody.f0_max", "<= sample_rate / 4", str(f0_max));
  require(yin_window >= tau_max(sample_rate) && yin_window <= 4096, "prosody.yin_window",
          "between the longest period (" + str(tau_max(sample_rate)) + " samples) and 4096", str(yin_window));
  require(yin_threshold > 0 && yin_threshold < 1, "prosody.yin_threshold", "0..1", str(yin_threshold));
  require(voicing_threshold > 0 && voicing_threshold <= 1, "prosody.voicing_threshold", "0..1", str(voicing_threshold));
  require(silence_db < 0, "prosody.silence_db", "< 0 dB", str(silence_db));
  require(loudness_exponent > 0 && loudness_exponent <= 1, "prosody.loudness_exponent", "0..1", str(loudness_exponent));
}

void FeatureConfig::validate() const {
  logmel.validate();
  prosody.validate(logmel.sample_rate);
}

namespace {

json to_json_value(const FeatureConfig& c) {
  const LogMelConfig& m = c.logmel;
  const ProsodyConfig& p = c.prosody;
  json lm = json::object();
  lm["sample_rate"] = m.sample_rate;
  lm["n_fft"] = m.n_fft;
  lm["win_length"] = m.win_length;
  lm["hop_length"] = m.hop_length;
  lm["window"] = to_string(m.window);
  lm["window_periodic"] = m.window_periodic;
  lm["center"] = m.center;
  lm["pad_mode"] = to_string(m.pad_mode);
  lm["power"] = m.power;
  lm["mel_scale"] = to_string(m.mel_scale);
  lm["mel_norm"] = to_string(m.mel_norm);
  lm["f_min"] = m.f_min;
  lm["f_max"] = m.f_max;
  lm["n_mels"] = m.n_mels;
  lm["log_offset"] = m.log_offset;
  lm["preemphasis"] = m.preemphasis;
  lm["dither"] = m.dither;
  lm["dither_seed"] = m.dither_seed;
  json pr = json::object();
  pr["f0_min"] = p.f0_min;
  pr["f0_max"] = p.f0_max;
  pr["yin_window"] = p.yin_window;
  pr["yin_threshold"] = p.yin_threshold;
  pr["voicing_threshold"] = p.voicing_threshold;
  pr["silence_db"] = p.silence_db;
  pr["loudness_exponent"] = p.loudness_exponent;
  return json{{"logmel", lm}, {"prosody", pr}};
}

// Whether the JSON value fits T exactly: nlohmann converts a number to any arithmetic type, and an
// out-of-range conversion (5e54 to int) is undefined behaviour, so numbers are checked first.
template <typename T>
bool fits(const json& v) {
  if constexpr (std::is_same_v<T, bool> || !std::is_arithmetic_v<T>) {
    return true;  // get<T> checks the JSON type itself
  } else if constexpr (std::is_integral_v<T>) {
    if (v.is_number_unsigned()) return v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    if (!v.is_number_integer()) return false;
    const auto x = v.get<std::int64_t>();
    return x >= static_cast<std::int64_t>(std::numeric_limits<T>::lowest()) &&
           (x < 0 || static_cast<std::uint64_t>(x) <= static_cast<std::uint64_t>(std::numeric_limits<T>::max()));
  } else {
    if (!v.is_number()) return false;
    const double x = v.get<double>();
    return std::isfinite(x) && std::abs(x) <= static_cast<double>(std::numeric_limits<T>::max());
  }
}

template <typename T>
void read_field(const json& obj, const std::string& section, const std::string& key, T& out) {
  const std::string field = section + "." + key;
  if (!obj.contains(key)) throw Error("feature config: missing field " + field);
  try {
    if (!fits<T>(obj.at(key))) throw Error("");
    out = obj.at(key).get<T>();
  } catch (const std::exception&) {
    throw Error("feature config: " + field + ": wrong type or out of range (" + obj.at(key).dump() + ")");
  }
}

void reject_unknown(const json& obj, const std::string& section, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : obj.items()) {
    bool found = false;
    for (const char* k : known) found = found || key == k;
    if (!found) throw Error("feature config: unknown field " + section + "." + key);
  }
}

}  // namespace

std::string FeatureConfig::to_json() const { return to_json_value(*this).dump(); }

FeatureConfig FeatureConfig::from_json(const std::string& text) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(std::string("feature config: not valid JSON (") + e.what() + ")");
  }
  if (!root.is_object() || !root.contains("logmel") || !root.contains("prosody"))
    throw Error("feature config: expected an object with 'logmel' and 'prosody'");
  FeatureConfig c;
  const json& lm = root["logmel"];
  const json& pr = root["prosody"];
  reject_unknown(lm, "logmel", {"sample_rate", "n_fft", "win_length", "hop_length", "window", "window_periodic",
                                "center", "pad_mode", "power", "mel_scale", "mel_norm", "f_min", "f_max",
                                "n_mels", "log_offset", "preemphasis", "dither", "dither_seed"});
  reject_unknown(pr, "prosody", {"f0_min", "f0_max", "yin_window", "yin_threshold", "voicing_threshold",
                                 "silence_db", "loudness_exponent"});
  std::string window, pad, scale, norm;
  read_field(lm, "logmel", "sample_rate", c.logmel.sample_rate);
  read_field(lm, "logmel", "n_fft", c.logmel.n_fft);
  read_field(lm, "logmel", "win_length", c.logmel.win_length);
  read_field(lm, "logmel", "hop_length", c.logmel.hop_length);
  read_field(lm, "logmel", "window", window);
  read_field(lm, "logmel", "window_periodic", c.logmel.window_periodic);
  read_field(lm, "logmel", "center", c.logmel.center);
  read_field(lm, "logmel", "pad_mode", pad);
  read_field(lm, "logmel", "power", c.logmel.power);
  read_field(lm, "logmel", "mel_scale", scale);
  read_field(lm, "logmel", "mel_norm", norm);
  read_field(lm, "logmel", "f_min", c.logmel.f_min);
  read_field(lm, "logmel", "f_max", c.logmel.f_max);
  read_field(lm, "logmel", "n_mels", c.logmel.n_mels);
  read_field(lm, "logmel", "log_offset", c.logmel.log_offset);
  read_field(lm, "logmel", "preemphasis", c.logmel.preemphasis);
  read_field(lm, "logmel", "dither", c.logmel.dither);
  read_field(lm, "logmel", "dither_seed", c.logmel.dither_seed);
  c.logmel.window = parse_enum("logmel.window", window,
                               {WindowType::hann, WindowType::hamming, WindowType::rectangular});
  c.logmel.pad_mode = parse_enum("logmel.pad_mode", pad, {PadMode::reflect, PadMode::constant});
  c.logmel.mel_scale = parse_enum("logmel.mel_scale", scale, {MelScale::htk, MelScale::slaney});
  c.logmel.mel_norm = parse_enum("logmel.mel_norm", norm, {MelNorm::none, MelNorm::slaney});
  read_field(pr, "prosody", "f0_min", c.prosody.f0_min);
  read_field(pr, "prosody", "f0_max", c.prosody.f0_max);
  read_field(pr, "prosody", "yin_window", c.prosody.yin_window);
  read_field(pr, "prosody", "yin_threshold", c.prosody.yin_threshold);
  read_field(pr, "prosody", "voicing_threshold", c.prosody.voicing_threshold);
  read_field(pr, "prosody", "silence_db", c.prosody.silence_db);
  read_field(pr, "prosody", "loudness_exponent", c.prosody.loudness_exponent);
  c.validate();
  return c;
}

std::vector<std::string> FeatureConfig::differences(const FeatureConfig& other) const {
  const json a = to_json_value(*this), b = to_json_value(other);
  std::vector<std::string> out;
  for (const char* section : {"logmel", "prosody"}) {
    for (const auto& [key, value] : a[section].items()) {
      const json& theirs = b[section][key];
      if (value != theirs) out.push_back(std::string(section) + "." + key + ": " + value.dump() + " vs " + theirs.dump());
    }
  }
  return out;
}

}  // namespace ser
