// src/audio/audio_file_checks.hpp — the checks made around libsndfile when an audio file is decoded
// (AudioFileStream, which read_audio uses): "PATH: reason" errors.
#pragma once
#include <sndfile.h>

#include <mutex>
#include <string>

namespace ser::audio_checks {

// Largest float below 1: 32-bit PCM full scale (2^31 - 1) / 2^31 rounds to 1.0f otherwise.
constexpr float kBelowOne = 0.99999994f;

// Sample rates a recording of speech can have. Outside them a header is damaged, and trusting it
// would let resampling allocate without bound (1 Hz resampled to 16 kHz is 16000x the samples).
constexpr int kMinSampleRate = 1000, kMaxSampleRate = 768000;

// Held around sf_open: libsndfile reports open failures through one process-wide error slot.
std::mutex& sndfile_open_mutex();
// Exists, is a regular non-empty file, and a RIFF/WAVE file's data chunk fits in the file.
void check_file_basics(const std::string& path);
// Non-RIFF containers: a short file shows up only in libsndfile's parse log.
void check_parse_log(const std::string& path, SNDFILE* handle);
bool is_riff_wave(const std::string& path);
// libsndfile's last open error as one line, classified ("not a recognised audio file: ...").
std::string open_failure_reason();
bool is_float_format(int format);
// Channel count, sample rate and frame count of an opened file are usable.
void check_header(const std::string& path, const SF_INFO& info);

}  // namespace ser::audio_checks
