// Audio input: decoding every supported layout, rejecting bad files with one-line errors naming the
// file, resampling, and the 16-bit WAV writer. Fixtures are written here at test time.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "ser/audio.hpp"
#include "ser/error.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using ser::test::TempDir;
using ser::test::random_signal;

// Opens a libsndfile writer or fails the test.
SNDFILE* open_writer(const std::string& path, int format, int channels, int rate) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  EXPECT_NE(f, nullptr) << path << ": " << sf_strerror(nullptr);
  return f;
}

void write_shorts(const std::string& path, int format, const std::vector<short>& data, int channels = 1, int rate = 16000) {
  SNDFILE* f = open_writer(path, format, channels, rate);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(sf_write_short(f, data.data(), sf_count_t(data.size())), sf_count_t(data.size()));
  sf_close(f);
}

void write_ints(const std::string& path, int format, const std::vector<int>& data, int channels = 1, int rate = 16000) {
  SNDFILE* f = open_writer(path, format, channels, rate);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(sf_write_int(f, data.data(), sf_count_t(data.size())), sf_count_t(data.size()));
  sf_close(f);
}

void write_floats(const std::string& path, int format, const std::vector<float>& data, int channels = 1, int rate = 16000) {
  SNDFILE* f = open_writer(path, format, channels, rate);
  ASSERT_NE(f, nullptr);
  // Float files store the values as given; no normalisation or clipping on the way out.
  sf_command(f, SFC_SET_CLIPPING, nullptr, SF_FALSE);
  EXPECT_EQ(sf_write_float(f, data.data(), sf_count_t(data.size())), sf_count_t(data.size()));
  sf_close(f);
}

// Random integers spanning the full range of a `bits`-bit signed PCM sample.
std::vector<std::int64_t> random_pcm(std::size_t n, int bits, std::uint64_t seed) {
  const std::vector<float> u = random_signal(n, seed, 0.0f, 1.0f);
  const double full = std::ldexp(1.0, bits);
  std::vector<std::int64_t> q(n);
  for (std::size_t i = 0; i < n; ++i) {
    q[i] = std::int64_t(std::floor(double(u[i]) * full)) - std::int64_t(full / 2);
  }
  return q;
}

void expect_samples_near(const std::vector<float>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(double(got[i]) - want[i]));
  EXPECT_LE(worst, tol);
}

// Reads `path`, expecting ser::Error whose one-line message names the file and contains `reason`.
void expect_read_error(const std::string& path, const std::string& reason) {
  try {
    ser::read_audio(path);
    ADD_FAILURE() << path << ": expected ser::Error containing '" << reason << "'";
  } catch (const ser::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(fs::path(path).filename().string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(reason), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

void put_le(std::string& s, std::uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += char((v >> (8 * i)) & 0xFF);
}

// A 16-bit mono PCM RIFF/WAVE built by hand: fmt, a LIST/INFO chunk of odd length (so a pad byte
// follows), data, then a trailing chunk. `data_bytes_declared` lets a test lie about the data size.
std::string riff_wav(const std::vector<short>& pcm, int rate, std::uint16_t format_tag = 1,
                     std::int64_t data_bytes_declared = -1) {
  std::string fmt;
  put_le(fmt, format_tag, 2);
  put_le(fmt, 1, 2);               // channels
  put_le(fmt, std::uint32_t(rate), 4);
  put_le(fmt, std::uint32_t(rate) * 2, 4);
  put_le(fmt, 2, 2);               // block align
  put_le(fmt, 16, 2);              // bits
  const std::string info = std::string("INFO") + "ISFT" + std::string("\x03\x00\x00\x00", 4) + "se" + '\0';  // 11 bytes + pad
  std::string data(reinterpret_cast<const char*>(pcm.data()), pcm.size() * 2);

  std::string body = "WAVE";
  body += "fmt ";
  put_le(body, std::uint32_t(fmt.size()), 4);
  body += fmt;
  body += "LIST";
  put_le(body, std::uint32_t(info.size()), 4);
  body += info;
  body += '\0';  // pad byte of the odd-length LIST chunk
  body += "data";
  put_le(body, std::uint32_t(data_bytes_declared >= 0 ? data_bytes_declared : std::int64_t(data.size())), 4);
  body += data;
  body += "id3 ";
  put_le(body, 4, 4);
  body += "TAG!";
  std::string out = "RIFF";
  put_le(out, std::uint32_t(body.size()), 4);
  return out + body;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// ---- decoding ------------------------------------------------------------------------------------

TEST(AudioRead, Pcm16WavMatchesWrittenSamples) {
  TempDir dir;
  const auto q = random_pcm(4000, 16, 1);
  std::vector<short> pcm(q.begin(), q.end());
  std::vector<double> want(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) want[i] = double(q[i]) / 32768.0;
  write_shorts(dir.file("a.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, pcm, 1, 22050);
  const ser::Audio a = ser::read_audio(dir.file("a.wav"));
  EXPECT_EQ(a.sample_rate, 22050);
  EXPECT_NEAR(a.duration_s(), 4000.0 / 22050.0, 1e-12);
  expect_samples_near(a.samples, want, 1e-9);
}

TEST(AudioRead, Pcm24WavMatchesWrittenSamples) {
  TempDir dir;
  const auto q = random_pcm(4000, 24, 2);
  std::vector<int> data(q.size());
  std::vector<double> want(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) {
    data[i] = int(q[i] * 256);  // libsndfile's int API is 32-bit full scale
    want[i] = double(q[i]) / 8388608.0;
  }
  write_ints(dir.file("a.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_24, data);
  expect_samples_near(ser::read_audio(dir.file("a.wav")).samples, want, 1e-9);  // exact in float
}

TEST(AudioRead, Pcm32WavMatchesWrittenSamples) {
  TempDir dir;
  auto q = random_pcm(4000, 32, 3);
  q[0] = 2147483647;  // full scale must still read below 1
  q[1] = -2147483647 - 1;
  std::vector<int> data(q.begin(), q.end());
  std::vector<double> want(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) want[i] = double(q[i]) / 2147483648.0;
  write_ints(dir.file("a.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_32, data);
  const ser::Audio a = ser::read_audio(dir.file("a.wav"));
  expect_samples_near(a.samples, want, 1.2e-7);  // float keeps 24 bits of the 32
  EXPECT_LT(a.samples[0], 1.0f);
  EXPECT_EQ(a.samples[1], -1.0f);
}

TEST(AudioRead, Pcm8WavMatchesWrittenSamples) {
  TempDir dir;
  const auto q = random_pcm(2000, 8, 4);
  std::vector<short> data(q.size());
  std::vector<double> want(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) {
    data[i] = short(q[i] * 256);
    want[i] = double(q[i]) / 128.0;
  }
  write_shorts(dir.file("a.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_U8, data);
  expect_samples_near(ser::read_audio(dir.file("a.wav")).samples, want, 1e-7);
}

TEST(AudioRead, Float32WavIsExact) {
  TempDir dir;
  const auto x = random_signal(4000, 5, -0.99f, 0.99f);
  write_floats(dir.file("a.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, x);
  EXPECT_EQ(ser::read_audio(dir.file("a.wav")).samples, x);
}

TEST(AudioRead, Float64WavMatches) {
  TempDir dir;
  const auto x = random_signal(4000, 6, -0.99f, 0.99f);
  write_floats(dir.file("a.wav"), SF_FORMAT_WAV | SF_FORMAT_DOUBLE, x);
  EXPECT_EQ(ser::read_audio(dir.file("a.wav")).samples, x);  // float -> double -> float is exact
}

TEST(AudioRead, FloatOversAreClippedBelowOne) {
  TempDir dir;
  write_floats(dir.file("a.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, {1.5f, -3.0f, 1.0f, 0.25f});
  const auto s = ser::read_audio(dir.file("a.wav")).samples;
  ASSERT_EQ(s.size(), 4u);
  EXPECT_LT(s[0], 1.0f);
  EXPECT_GT(s[0], 0.9999f);
  EXPECT_EQ(s[1], -1.0f);
  EXPECT_LT(s[2], 1.0f);
  EXPECT_EQ(s[3], 0.25f);
}

TEST(AudioRead, StereoIsAveragedToMono) {
  TempDir dir;
  const auto left = random_signal(3000, 7), right = random_signal(3000, 8);
  std::vector<float> interleaved;
  std::vector<double> want;
  for (std::size_t i = 0; i < left.size(); ++i) {
    interleaved.push_back(left[i]);
    interleaved.push_back(right[i]);
    want.push_back((double(left[i]) + right[i]) / 2.0);
  }
  write_floats(dir.file("stereo.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, interleaved, 2, 48000);
  const ser::Audio a = ser::read_audio(dir.file("stereo.wav"));
  EXPECT_EQ(a.sample_rate, 48000);
  expect_samples_near(a.samples, want, 1e-7);
}

TEST(AudioRead, SixChannelsAreAveragedToMono) {
  TempDir dir;
  const int ch = 6;
  const auto x = random_signal(1000 * ch, 9);
  std::vector<double> want(1000, 0.0);
  for (std::size_t f = 0; f < 1000; ++f) {
    for (int c = 0; c < ch; ++c) want[f] += x[f * ch + c];
    want[f] /= ch;
  }
  write_floats(dir.file("six.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, x, ch);
  expect_samples_near(ser::read_audio(dir.file("six.wav")).samples, want, 1e-6);
}

TEST(AudioRead, Flac16AndFlac24MatchWrittenSamples) {
  TempDir dir;
  const auto q16 = random_pcm(5000, 16, 10);
  std::vector<short> pcm(q16.begin(), q16.end());
  std::vector<double> want16(q16.size());
  for (std::size_t i = 0; i < q16.size(); ++i) want16[i] = double(q16[i]) / 32768.0;
  write_shorts(dir.file("a16.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, pcm, 1, 44100);
  const ser::Audio a = ser::read_audio(dir.file("a16.flac"));
  EXPECT_EQ(a.sample_rate, 44100);
  expect_samples_near(a.samples, want16, 1e-9);

  const auto q24 = random_pcm(5000, 24, 11);
  std::vector<int> data(q24.size());
  std::vector<double> want24(q24.size());
  for (std::size_t i = 0; i < q24.size(); ++i) {
    data[i] = int(q24[i] * 256);
    want24[i] = double(q24[i]) / 8388608.0;
  }
  write_ints(dir.file("a24.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_24, data);
  expect_samples_near(ser::read_audio(dir.file("a24.flac")).samples, want24, 1e-9);
}

TEST(AudioRead, WavWithListAndTrailingChunks) {
  TempDir dir;
  const auto q = random_pcm(3001, 16, 12);
  std::vector<short> pcm(q.begin(), q.end());
  std::vector<double> want(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) want[i] = double(q[i]) / 32768.0;
  write_bytes(dir.file("list.wav"), riff_wav(pcm, 16000));
  const ser::Audio a = ser::read_audio(dir.file("list.wav"));
  EXPECT_EQ(a.sample_rate, 16000);
  expect_samples_near(a.samples, want, 1e-9);
}

// ---- bad input -----------------------------------------------------------------------------------

TEST(AudioErrors, MissingFile) {
  TempDir dir;
  expect_read_error(dir.file("nothere.wav"), "not found");
}

TEST(AudioErrors, EmptyFile) {
  TempDir dir;
  write_bytes(dir.file("empty.wav"), "");
  expect_read_error(dir.file("empty.wav"), "empty file");
}

TEST(AudioErrors, TextFileNamedWav) {
  TempDir dir;
  write_bytes(dir.file("notes.wav"), "this is not audio\nsecond line\n");
  expect_read_error(dir.file("notes.wav"), "not a recognised audio file");
}

TEST(AudioErrors, Directory) {
  TempDir dir;
  fs::create_directory(dir.path() / "folder.wav");
  expect_read_error(dir.file("folder.wav"), "directory");
}

TEST(AudioErrors, WavWithZeroSamples) {
  TempDir dir;
  write_shorts(dir.file("silent.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, {});
  ASSERT_GT(fs::file_size(dir.file("silent.wav")), 0u);
  expect_read_error(dir.file("silent.wav"), "contains no audio samples");
}

TEST(AudioErrors, TruncatedWav) {
  TempDir dir;
  const std::vector<short> pcm(8000, 1000);
  write_shorts(dir.file("cut.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, pcm);
  fs::resize_file(dir.file("cut.wav"), 44 + 8000);  // half the data chunk is gone
  expect_read_error(dir.file("cut.wav"), "truncated");
}

TEST(AudioErrors, TruncatedWavWithExtraChunks) {
  TempDir dir;
  const std::vector<short> pcm(4000, -2000);
  std::string bytes = riff_wav(pcm, 16000, 1, 2 * 4000 + 4096);  // declares more than it holds
  write_bytes(dir.file("cut_list.wav"), bytes);
  expect_read_error(dir.file("cut_list.wav"), "truncated");
}

TEST(AudioErrors, TruncatedAiff) {
  TempDir dir;
  write_floats(dir.file("cut.aiff"), SF_FORMAT_AIFF | SF_FORMAT_PCM_16, random_signal(10000, 13));
  fs::resize_file(dir.file("cut.aiff"), 8000);
  expect_read_error(dir.file("cut.aiff"), "truncated");
}

TEST(AudioErrors, TruncatedFlac) {
  TempDir dir;
  write_floats(dir.file("cut.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, random_signal(20000, 14));
  fs::resize_file(dir.file("cut.flac"), fs::file_size(dir.file("cut.flac")) / 2);
  expect_read_error(dir.file("cut.flac"), "");
}

TEST(AudioErrors, UnsupportedWavEncoding) {
  TempDir dir;
  write_bytes(dir.file("odd.wav"), riff_wav(std::vector<short>(100, 5), 16000, /*format_tag=*/0x1234));
  expect_read_error(dir.file("odd.wav"), "");
}

// A header's rate outside 1 kHz..768 kHz is damage; resampling 1 Hz to 16 kHz would be 16000x the samples.
TEST(AudioErrors, ImplausibleSampleRate) {
  TempDir dir;
  write_bytes(dir.file("slow.wav"), riff_wav(std::vector<short>(100, 5), 1));
  expect_read_error(dir.file("slow.wav"), "invalid sample rate 1 Hz");
  write_bytes(dir.file("fast.wav"), riff_wav(std::vector<short>(100, 5), 4000000));
  expect_read_error(dir.file("fast.wav"), "invalid sample rate 4000000 Hz");
  write_bytes(dir.file("ok.wav"), riff_wav(std::vector<short>(100, 5), 8000));
  EXPECT_EQ(ser::read_audio(dir.file("ok.wav")).sample_rate, 8000);
}

// Found by fuzz_audio: 17 samples at 677410 Hz resample to no sample at 16 kHz.
TEST(AudioErrors, TooShortToResample) {
  TempDir dir;
  write_bytes(dir.file("blip.wav"), riff_wav(std::vector<short>(17, 5), 677410));
  EXPECT_EQ(ser::read_audio(dir.file("blip.wav")).samples.size(), 17u);
  ser::test::expect_error([&] { (void)ser::load_audio(dir.file("blip.wav"), 16000); },
                     {dir.file("blip.wav"), "too short: its 17 samples at 677410 Hz are no sample at 16000 Hz"});
}

TEST(AudioErrors, GarbageAfterRiffHeader) {
  TempDir dir;
  write_bytes(dir.file("junk.wav"), std::string("RIFF\x10\x00\x00\x00WAVEjunkjunkjunk", 24));
  expect_read_error(dir.file("junk.wav"), "");
}

TEST(AudioErrors, NanAndInfInFloatWav) {
  TempDir dir;
  auto x = random_signal(100, 15);
  x[50] = std::numeric_limits<float>::quiet_NaN();
  write_floats(dir.file("nan.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, x);
  expect_read_error(dir.file("nan.wav"), "NaN or infinite");
  x[50] = 0.0f;
  x[70] = -std::numeric_limits<float>::infinity();
  write_floats(dir.file("inf.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, x);
  expect_read_error(dir.file("inf.wav"), "NaN or infinite");
}

// ---- resampling ----------------------------------------------------------------------------------

std::vector<float> sine(double freq, double amp, int rate, std::size_t n) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = float(amp * std::sin(2.0 * std::numbers::pi * freq * double(i) / rate));
  return x;
}

// Least-squares fit of a*sin + b*cos at `freq` over the middle half of x (away from the resampler's
// edge transients): returns the fitted amplitude and the RMS of what the fit leaves.
std::pair<double, double> fit_sine(const std::vector<float>& x, double freq, int rate) {
  const std::size_t begin = x.size() / 4, end = 3 * x.size() / 4;
  double ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const double w = 2.0 * std::numbers::pi * freq * double(i) / rate;
    const double s = std::sin(w), c = std::cos(w);
    ss += s * s, cc += c * c, sc += s * c, xs += x[i] * s, xc += x[i] * c;
  }
  const double det = ss * cc - sc * sc;
  const double a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
  double residual = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const double w = 2.0 * std::numbers::pi * freq * double(i) / rate;
    const double r = x[i] - (a * std::sin(w) + b * std::cos(w));
    residual += r * r;
  }
  return {std::hypot(a, b), std::sqrt(residual / double(end - begin))};
}

TEST(AudioResample, SameRateIsIdentity) {
  const auto x = random_signal(1234, 16);
  EXPECT_EQ(ser::resample(x, 16000, 16000), x);
  EXPECT_TRUE(ser::resample({}, 44100, 16000).empty());
}

TEST(AudioResample, Downsample44100To16000KeepsSine) {
  const auto x = sine(1000.0, 0.5, 44100, 44100);
  const auto y = ser::resample(x, 44100, 16000);
  EXPECT_NEAR(double(y.size()), 16000.0, 1.0);
  const auto [amp, residual] = fit_sine(y, 1000.0, 16000);
  EXPECT_NEAR(amp, 0.5, 1e-3);
  EXPECT_LT(residual, 1e-3);  // a sine at any other frequency would leave ~0.35 RMS
}

TEST(AudioResample, Upsample16000To48000KeepsSine) {
  const auto x = sine(440.0, 0.3, 16000, 8000);
  const auto y = ser::resample(x, 16000, 48000);
  EXPECT_NEAR(double(y.size()), 24000.0, 1.0);
  const auto [amp, residual] = fit_sine(y, 440.0, 48000);
  EXPECT_NEAR(amp, 0.3, 1e-3);
  EXPECT_LT(residual, 1e-3);
}

TEST(AudioResample, RemovesContentAboveTheNewNyquist) {
  // 10 kHz cannot exist at 16 kHz: the high-quality filter must suppress it, not alias it to 6 kHz.
  const auto y = ser::resample(sine(10000.0, 0.5, 44100, 44100), 44100, 16000);
  double energy = 0;
  for (std::size_t i = y.size() / 4; i < 3 * y.size() / 4; ++i) energy += double(y[i]) * y[i];
  EXPECT_LT(std::sqrt(energy / double(y.size() / 2)), 1e-3);
}

TEST(AudioResample, BadRatesThrow) {
  EXPECT_THROW(ser::resample({0.1f, 0.2f}, 0, 16000), ser::Error);
  EXPECT_THROW(ser::resample({0.1f, 0.2f}, 16000, -1), ser::Error);
}

TEST(AudioResample, LoadAudioResamplesToTarget) {
  TempDir dir;
  ser::write_wav16(dir.file("s.wav"), sine(1000.0, 0.5, 44100, 44100), 44100);
  const ser::Audio a = ser::load_audio(dir.file("s.wav"), 16000);
  EXPECT_EQ(a.sample_rate, 16000);
  EXPECT_NEAR(double(a.samples.size()), 16000.0, 1.0);
  EXPECT_NEAR(fit_sine(a.samples, 1000.0, 16000).first, 0.5, 2e-3);
  const ser::Audio same = ser::load_audio(dir.file("s.wav"), 44100);
  EXPECT_EQ(same.samples, ser::read_audio(dir.file("s.wav")).samples);
  EXPECT_THROW(ser::load_audio(dir.file("s.wav"), 0), ser::Error);
}

// ---- writing -------------------------------------------------------------------------------------

TEST(AudioWrite, Wav16RoundTripsOnThe16BitGrid) {
  TempDir dir;
  const auto x = random_signal(5000, 17, -1.0f, 1.0f);
  const std::string path = dir.file("out.wav");
  ser::write_wav16(path, x, 16000);

  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr);
  sf_close(f);
  EXPECT_EQ(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.samplerate, 16000);

  std::vector<double> want(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) want[i] = std::min(std::nearbyint(double(x[i]) * 32768.0), 32767.0) / 32768.0;
  expect_samples_near(ser::read_audio(path).samples, want, 1e-9);
  // Nothing but the finished file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(AudioWrite, Wav16ClipsToTheRange) {
  TempDir dir;
  const float inf = std::numeric_limits<float>::infinity();
  ser::write_wav16(dir.file("clip.wav"), {1.5f, -2.0f, 1.0f, -1.0f, inf, -inf, 0.5f}, 8000);
  const auto s = ser::read_audio(dir.file("clip.wav")).samples;
  const std::vector<double> want = {32767 / 32768.0, -1.0, 32767 / 32768.0, -1.0, 32767 / 32768.0, -1.0, 0.5};
  expect_samples_near(s, want, 1e-9);
}

TEST(AudioWrite, Wav16OverwritesAndRejectsBadInput) {
  TempDir dir;
  const std::string path = dir.file("o.wav");
  ser::write_wav16(path, std::vector<float>(100, 0.25f), 16000);
  ser::write_wav16(path, std::vector<float>(50, -0.25f), 16000);
  EXPECT_EQ(ser::read_audio(path).samples, std::vector<float>(50, -0.25f));

  EXPECT_THROW(ser::write_wav16(path, {0.0f, std::nanf("")}, 16000), ser::Error);
  EXPECT_THROW(ser::write_wav16(path, {0.0f}, 0), ser::Error);
  try {
    ser::write_wav16(dir.file("no/such/folder/x.wav"), {0.0f}, 16000);
    ADD_FAILURE() << "expected ser::Error";
  } catch (const ser::Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.wav"), std::string::npos) << e.what();
  }
}

}  // namespace
