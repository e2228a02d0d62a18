// ser::stream_timeline — an audio file's timeline with bounded memory: decode a block, resample it
// when the rates differ, push it into a TimelineStream, repeat.
#include <algorithm>
#include <optional>
#include <vector>

#include "ser/audio_stream.hpp"
#include "ser/error.hpp"
#include "ser/inference.hpp"

namespace ser {

StreamedTimeline stream_timeline(const Classifier& clf, const std::string& path, double window_seconds,
                                 double hop_seconds, const TimelineStream::Sink& on_window, std::size_t batch_windows) {
  // Every error names the file, as `ser predict` reports an input's errors; the reader's already do.
  const auto naming_the_file = [&path](auto&& step) {
    try {
      return step();
    } catch (const Error& e) {
      throw file_error(path, e.what());
    }
  };
  TimelineStream timeline = naming_the_file([&] { return TimelineStream(clf, window_seconds, hop_seconds, on_window, batch_windows); });
  AudioFileStream in(path);
  const int rate = clf.feature_config().logmel.sample_rate;
  std::optional<StreamResampler> resampler;
  if (in.sample_rate() != rate) naming_the_file([&] { resampler.emplace(in.sample_rate(), rate); });

  StreamedTimeline run;
  std::vector<float> block;      // (<= AudioFileStream::kBlockFrames) at the file's rate
  std::vector<float> resampled;  // (about block.size() * rate / file rate) at the feature rate
  const auto feed = [&](const std::vector<float>& x, bool last) {
    naming_the_file([&] {
      timeline.push(x.data(), x.size());
      if (last) timeline.finish();
    });
    run.peak_samples_held = std::max(run.peak_samples_held, block.capacity() + resampled.capacity() + timeline.peak_samples_held());
  };
  while (in.read(block)) {
    if (!resampler) {
      feed(block, false);
      continue;
    }
    resampled.clear();
    naming_the_file([&] { resampler->process(block.data(), block.size(), resampled); });
    feed(resampled, false);
  }
  resampled.clear();
  if (resampler) naming_the_file([&] { resampler->finish(resampled); });
  feed(resampled, true);
  run.windows = timeline.windows_emitted();
  run.samples = timeline.samples_pushed();
  return run;
}

}  // namespace ser
