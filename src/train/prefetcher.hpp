// src/train/prefetcher.hpp — the background loader: a thread assembles the next padded batches
// (normalise, crop, pad) while the current one trains; at most `depth` wait in the queue.
#pragma once
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "nn/nvtx.hpp"
#include "ser/nn/counter_rng.hpp"
#include "engine/dataset.hpp"
#include "train/mixup.hpp"
#include "train/spec_augment.hpp"

namespace ser::train {

class Prefetcher {
 public:
  // Batches `batches[first..]` of `maker`, cropped to crop_frames (0 = none) with offsets from seed,
  // then masked and mixed as `augment` says (nullptr = neither; spec_augment.hpp, mixup.hpp) with
  // draws from the same seed (mixup's per batch index, so a resumed epoch draws the same).
  Prefetcher(const engine::BatchMaker& maker, const std::vector<std::vector<int>>& batches, std::size_t first,
             int crop_frames, std::uint64_t seed, const TrainConfig* augment = nullptr, std::size_t depth = 3)
      : maker_(maker), batches_(batches), next_(first), crop_(crop_frames), seed_(seed), augment_(augment),
        depth_(depth) {
    worker_ = std::thread([this] { run(); });
  }
  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // The next batch in order; false when all are consumed. Rethrows a loader error.
  bool next(engine::HostBatch& out) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !queue_.empty() || done_ || error_; });
    if (error_) std::rethrow_exception(error_);
    if (queue_.empty()) return false;
    out = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return true;
  }

 private:
  void run() {
    try {
      for (std::size_t i = next_; i < batches_.size(); ++i) {
        engine::HostBatch b;
        {
          const nn::NvtxRange r("loader: assemble batch");
          maker_.make(batches_[i], crop_, seed_, b);
          if (augment_) {
            spec_augment(b, maker_.n_mels(), *augment_, nn::mix64(seed_ ^ 0x5eca0000ULL));
            if (augment_->mixup_alpha > 0)
              mixup(b, augment_->mixup_alpha, nn::mix64(seed_ ^ nn::mix64(0x313e0000ULL + i)));
          }
        }
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return queue_.size() < depth_ || stop_; });
        if (stop_) return;
        queue_.push_back(std::move(b));
        cv_.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
  }

  const engine::BatchMaker& maker_;
  const std::vector<std::vector<int>>& batches_;
  std::size_t next_;
  int crop_;
  std::uint64_t seed_;
  const TrainConfig* augment_;
  std::size_t depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<engine::HostBatch> queue_;
  bool stop_ = false, done_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace ser::train
