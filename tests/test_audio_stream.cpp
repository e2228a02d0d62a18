// Audio read and resampled block by block (ser/audio_stream.hpp): the same samples as read_audio
// and resample give at once, and the same errors naming the file.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "ser/audio.hpp"
#include "ser/audio_stream.hpp"
#include "ser/error.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

namespace fs = std::filesystem;

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

// Interleaved float samples as a float WAV (values stored as given, overs and NaN included).
void write_float_wav(const std::string& path, const std::vector<float>& interleaved, int channels, int rate) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  sf_command(f, SFC_SET_CLIPPING, nullptr, SF_FALSE);
  EXPECT_EQ(sf_write_float(f, interleaved.data(), sf_count_t(interleaved.size())), sf_count_t(interleaved.size()));
  sf_close(f);
}

std::vector<float> read_all_blocks(const std::string& path, std::size_t* blocks = nullptr) {
  AudioFileStream in(path);
  std::vector<float> all, block;
  std::size_t n = 0;
  while (in.read(block)) {
    EXPECT_LE(block.size(), AudioFileStream::kBlockFrames);
    all.insert(all.end(), block.begin(), block.end());
    ++n;
  }
  EXPECT_TRUE(block.empty());
  EXPECT_FALSE(in.read(block)) << "the end stays the end";
  EXPECT_EQ(in.frames_read(), static_cast<std::int64_t>(all.size()));
  if (blocks) *blocks = n;
  return all;
}

TEST(AudioStream, ResamplerFedInPiecesIsBitIdenticalToOneShot) {
  // Lengths that are not multiples of anything; rates down, up and by odd ratios.
  const std::vector<float> x = test::random_signal(123457, 11);
  for (const auto& [from, to] : {std::pair{44100, 16000}, {48000, 16000}, {22050, 16000}, {8000, 16000}, {16000, 44100}}) {
    const std::vector<float> want = resample(x, from, to);
    for (std::size_t piece : {std::size_t(1), std::size_t(777), std::size_t(4096), std::size_t(65536), x.size()}) {
      if (piece == 1 && from != 44100) continue;  // one sample at a time is slow; one ratio suffices
      StreamResampler r(from, to);
      std::vector<float> got;
      for (std::size_t i = 0; i < x.size(); i += piece) r.process(x.data() + i, std::min(piece, x.size() - i), got);
      r.finish(got);
      EXPECT_TRUE(same_bits(got, want)) << from << " -> " << to << " in pieces of " << piece << ": " << got.size()
                                        << " samples vs " << want.size();
    }
  }
  StreamResampler r(44100, 16000);
  std::vector<float> out;
  r.finish(out);
  EXPECT_TRUE(out.empty());
  EXPECT_THROW(r.process(x.data(), 10, out), Error);
  EXPECT_THROW(StreamResampler(0, 16000), Error);
}

// read_audio collects these blocks, so the samples are checked against what was written.
TEST(AudioStream, BlocksHoldTheWrittenSamples) {
  test::TempDir dir;
  // Mono 16-bit over several blocks (and a partial last one): write_wav16's grid, x * 32768 rounded.
  const std::vector<float> x = test::random_signal(3 * AudioFileStream::kBlockFrames + 1234, 5, -0.9f, 0.9f);
  write_wav16(dir.file("mono.wav"), x, 22050);
  std::vector<float> grid(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) grid[i] = static_cast<float>(std::nearbyint(double(x[i]) * 32768.0) / 32768.0);
  std::size_t blocks = 0;
  EXPECT_TRUE(same_bits(read_all_blocks(dir.file("mono.wav"), &blocks), grid));
  EXPECT_EQ(blocks, 4u);
  EXPECT_EQ(AudioFileStream(dir.file("mono.wav")).sample_rate(), 22050);
  // Stereo float with overs: the channels' mean, clamped to [-1, 1).
  std::vector<float> stereo = test::random_signal(2 * 70000, 6, -1.5f, 1.5f);
  write_float_wav(dir.file("stereo.wav"), stereo, 2, 16000);
  std::vector<float> mixed(70000);
  for (std::size_t f = 0; f < mixed.size(); ++f)
    mixed[f] = std::clamp((stereo[2 * f] + stereo[2 * f + 1]) / 2.0f, -1.0f, 0.99999994f);
  EXPECT_TRUE(same_bits(read_all_blocks(dir.file("stereo.wav")), mixed));
}

TEST(AudioStream, BadFilesAreTheErrorsOfReadAudio) {
  test::TempDir dir;
  const auto same_error = [](const std::string& path, const std::string& what) {
    const std::string streamed = test::error_of([&] { read_all_blocks(path); });
    EXPECT_EQ(streamed, test::error_of([&] { read_audio(path); }));
    EXPECT_NE(streamed.find(path), std::string::npos) << streamed;
    EXPECT_NE(streamed.find(what), std::string::npos) << streamed;
  };
  same_error(dir.file("missing.wav"), "file not found");
  test::touch(dir.file("empty.wav"));
  same_error(dir.file("empty.wav"), "empty file");
  test::write_text(dir.file("garbage.wav"), "RIFF....WAVEfmt garbage");
  same_error(dir.file("garbage.wav"), "");
  same_error(dir.path().string(), "is a directory");
  write_wav16(dir.file("rate.wav"), test::random_signal(1000, 9), 500);
  same_error(dir.file("rate.wav"), "invalid sample rate 500");
  write_wav16(dir.file("cut.wav"), test::random_signal(100000, 7), 16000);
  fs::resize_file(dir.file("cut.wav"), 100000);
  same_error(dir.file("cut.wav"), "truncated WAV file");
  // A NaN past the first block: found part-way, with its frame.
  std::vector<float> nan = test::random_signal(100000, 8);
  nan[90000] = std::numeric_limits<float>::quiet_NaN();
  write_float_wav(dir.file("nan.wav"), nan, 1, 16000);
  same_error(dir.file("nan.wav"), "contains a NaN or infinite sample (frame 90000, channel 0)");
  AudioFileStream in(dir.file("nan.wav"));
  std::vector<float> block;
  EXPECT_TRUE(in.read(block)) << "the first block is good";
  EXPECT_THROW(in.read(block), Error);
}

}  // namespace
}  // namespace ser
