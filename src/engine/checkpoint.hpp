// src/engine/checkpoint.hpp — training checkpoints in HDF5 (docs/checkpoint.md):
//   /params/<name>, /state/<name>          float32, one dataset per tensor with its shape
//   /adam/m/<name>, /adam/v/<name>         Adam moments (absent in a weights-only checkpoint)
//   /normalizer/{logmel_mean,logmel_std,functional_mean,functional_std}
//   /data_order, /data_order_offsets       int32/int64: the current epoch's batches (utterance indices)
//   root attributes: format = "ser-checkpoint", format_version, run_config (TOML), feature_config
//   (JSON), class_names, progress (JSON: step, epoch, batch, best, early stopping, RNG), split (JSON),
//   and complete = 1, written last.
// Written to PATH.tmp-PID and renamed when complete, so a killed run never leaves a half checkpoint.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/param_table.hpp"
#include "engine/dataset.hpp"

namespace ser::engine {

inline constexpr int kCheckpointFormatVersion = 2;  // 2: the checksum block (cache/h5_seal.cpp)

struct Progress {
  std::int64_t step = 0;          // optimizer steps taken
  int epoch = 0;                  // current epoch (0-based)
  int batch = 0;                  // next batch of that epoch
  double best_val_ua = -1;        // best validation UA so far
  int best_epoch = -1;
  int epochs_since_best = 0;
  std::uint64_t seed = 0;         // the run's seed: with step it is the whole RNG state (counter-based)
  nlohmann::json to_json() const;
  static Progress from_json(const nlohmann::json& j);
};

struct Checkpoint {
  std::string run_config_toml;
  std::string feature_config_json;
  std::vector<std::string> class_names;
  int n_mels = 0, n_prosody = 0;
  Progress progress;
  nlohmann::json split;                   // speakers of each side
  Normalizer normalizer;
  std::vector<nn::ParamEntry> param_entries, state_entries;
  std::vector<float> params, state;       // flat, laid out by the entries' offsets
  std::vector<float> adam_m, adam_v;      // empty in a weights-only checkpoint
  std::vector<std::vector<int>> data_order;  // current epoch's batches
};

void write_checkpoint(const std::string& path, const Checkpoint& c);
// Reads and validates; throws ser::Error naming the file and what is wrong (not HDF5, not a ser
// checkpoint, incomplete, missing tensor, wrong shape).
Checkpoint read_checkpoint(const std::string& path);

// Lays the named tensors of `from` (flat values laid out by their entries) out by `table`, checking
// that each tensor the table names is present with its shape and that none is left over. Errors name
// `path` and the tensor (`what`: "parameter", "state", "Adam moment").
std::vector<float> arrange_by_name(const std::string& path, const std::vector<nn::ParamEntry>& from,
                                   const std::vector<float>& flat, const nn::ParamTable& table, const char* what);

}  // namespace ser::engine
