// ser/model_config.hpp — a run's configuration, read from TOML (experiments/*.toml):
//   [model]  the network: convolution blocks, where self-attention sits, temporal pooling, prosody
//            fusion, dense layers;
//   [train]  optimiser, schedule, batches, early stopping, seed.
// Every field has a default; unknown keys and out-of-range values are errors naming the file and key.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ser {

struct ModelConfig {
  std::string name = "cnn_attn";
  // "logmel": the CNN (+ attention) on log-mel maps; "functionals": a multi-layer perceptron on the
  // utterance functionals alone (the paper's small neural net; the convolution, attention and
  // fuse_prosody keys are ignored).
  std::string input = "logmel";
  // Δ (1) or Δ and ΔΔ (2) of the log-mel as extra input channels of the first convolution
  // (ser/nn/deltas.hpp); 0 = the log-mel alone.
  int deltas = 0;
  std::vector<int> conv_channels{16, 32, 64, 64};  // one block each: conv → BN → ReLU → max-pool → dropout
  int kernel_time = 3, kernel_freq = 3;              // odd; "same" padding
  int pool_time = 2, pool_freq = 2;                  // max-pool window = stride
  bool batchnorm = true;
  float conv_dropout = 0.1f;
  int attention_after = 4;   // self-attention after this block (1-based); 0 = no attention
  int attention_heads = 4;
  int attention_head_dim = 32;
  // Zero-initialised output projection: the residual attention block starts as the identity, so it
  // does not perturb the CNN features at the first step (its projections still learn: the output
  // projection's gradient is not zero).
  bool attention_identity_init = false;
  // Pre-norm attention: the Q/K/V projections read LN(x), a layer norm over each token's C * F
  // features with learned gain and bias (ser/nn/layernorm.hpp); the residual adds the raw x.
  bool attention_pre_norm = false;
  std::string temporal_pool = "attention";  // "attention" or "mean"
  bool fuse_prosody = true;                 // concatenate the utterance functionals before the dense layers
  // The utterance vector the model reads (fused, or as the MLP's input): "cache" — the front-end's
  // prosodic and voice functionals; "utterance" — MFCC statistics + those functionals, the classic
  // baselines' feature vector (classic::with_utterance_features).
  std::string functionals = "cache";
  std::vector<int> dense{128};
  float dropout = 0.3f;                     // after each dense layer

  bool functionals_only() const { return input == "functionals"; }
  // Whether the model reads the cache's utterance functionals (fused or as its only input).
  bool uses_functionals() const { return fuse_prosody || functionals_only(); }
};

struct TrainConfig {
  int epochs = 40;
  int batch_size = 16;
  std::string optimizer = "adamw";  // "adam" (L2 through the gradient) or "adamw" (decoupled)
  float lr = 1e-3f;
  float weight_decay = 1e-4f;
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  std::string schedule = "cosine";  // "cosine", "step" or "constant", after linear warm-up
  float warmup_epochs = 1.0f;
  float min_lr_ratio = 0.05f;       // cosine floor, as a fraction of lr
  int step_every_epochs = 10;       // "step": lr *= step_gamma every this many epochs
  float step_gamma = 0.5f;
  float clip_norm = 5.0f;           // global gradient-norm clipping (0 = off)
  std::string class_weights = "balanced";  // "balanced" (inverse training frequency) or "none"
  float label_smoothing = 0.0f;     // eps in [0, 1) of the training loss (ser/nn/loss.hpp); 0 = none
  float mixup_alpha = 0.0f;         // mixup of training batches, lambda ~ Beta(alpha, alpha); 0 = none
  int patience = 10;                // early stopping: epochs without a better validation UA
  int max_frames = 0;               // random crop of longer utterances in training (0 = none)
  // SpecAugment-style masks on training batches (src/train/spec_augment.hpp); 0 = none.
  int time_masks = 0;               // bands of frames per utterance
  int time_mask_frames = 0;         // widest band, frames
  int freq_masks = 0;               // bands of mel bins per utterance
  int freq_mask_bins = 0;           // widest band, bins
  std::uint64_t seed = 1;
  int bucket_batches = 8;           // length bucketing: sort windows of this many batches by length
};

struct RunConfig {
  ModelConfig model;
  TrainConfig train;
};

// Reads and validates a TOML run config. Throws ser::Error naming the file and key.
RunConfig load_run_config(const std::string& path);
// Parses TOML text (`origin` names it in errors).
RunConfig parse_run_config(const std::string& toml_text, const std::string& origin);
// The config as TOML (recorded in run folders and checkpoints; parse_run_config reads it back).
std::string to_toml(const RunConfig& config);

}  // namespace ser
