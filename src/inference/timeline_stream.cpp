// ser::TimelineStream — sliding_windows' windows cut from audio as it arrives, classified a batch at
// a time, with one window of samples held in between.
#include <algorithm>
#include <cmath>
#include <utility>

#include "ser/error.hpp"
#include "ser/inference.hpp"

namespace ser {

TimelineStream::TimelineStream(const Classifier& clf, double window_seconds, double hop_seconds, Sink on_window,
                               std::size_t batch_windows)
    : clf_(&clf), rate_(clf.feature_config().logmel.sample_rate), on_window_(std::move(on_window)) {
  if (!(window_seconds > 0) || !(hop_seconds > 0)) throw Error("timeline: window and hop must be positive seconds");
  window_ = std::max<std::size_t>(static_cast<std::size_t>(std::llround(window_seconds * rate_)), 1);
  hop_ = std::max<std::size_t>(static_cast<std::size_t>(std::llround(hop_seconds * rate_)), 1);
  batch_ = std::max<std::size_t>(batch_windows, 1);
}

void TimelineStream::push(const float* samples, std::size_t n) {
  if (finished_) throw Error("timeline: audio pushed after the end");
  while (n > 0) {
    if (seen_ < next_start_) {  // a hop longer than the window: these samples are in no window
      const std::size_t skip = std::min(n, next_start_ - seen_);
      samples += skip;
      n -= skip;
      seen_ += skip;
      continue;
    }
    // Only up to the end of the next window, so the buffer never holds more than one window.
    const std::size_t take = std::min(n, next_start_ + window_ - seen_);
    buffer_.insert(buffer_.end(), samples, samples + take);
    samples += take;
    n -= take;
    seen_ += take;
    note_held();
    if (seen_ < next_start_ + window_) continue;
    cut(next_start_, seen_);
    next_start_ += hop_;
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(std::min(hop_, buffer_.size())));
    if (pending_.size() == batch_) classify_pending();
  }
}

void TimelineStream::finish() {
  if (finished_) return;
  finished_ = true;
  if (cut_ == 0) {
    cut(0, seen_);  // no whole window fitted: one window over all of it (or "too short")
  } else {
    // sliding_windows' last rule: next_start_ is the first start whose window did not fit.
    const std::size_t last_end = next_start_ - hop_ + window_;
    if (last_end < seen_ && next_start_ < seen_ && 2 * (seen_ - next_start_) >= window_) cut(next_start_, seen_);
  }
  classify_pending();
  buffer_ = {};
}

void TimelineStream::cut(std::size_t begin, std::size_t end) {
  pending_.push_back(buffer_);  // buffer_ holds exactly [begin, end) here
  pending_spans_.push_back({begin, end});
  ++cut_;
  note_held();
}

void TimelineStream::classify_pending() {
  if (pending_.empty()) return;
  std::vector<Prediction> out = clf_->classify_batch(pending_);
  pending_.clear();
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].start_seconds = double(pending_spans_[i].begin) / rate_;
    out[i].end_seconds = double(pending_spans_[i].end) / rate_;
    ++emitted_;
    on_window_(std::move(out[i]));
  }
  pending_spans_.clear();
}

void TimelineStream::note_held() {
  std::size_t held = buffer_.capacity();
  for (const auto& w : pending_) held += w.capacity();
  peak_held_ = std::max(peak_held_, held);
}

}  // namespace ser
