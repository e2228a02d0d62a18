// src/nn/run_config.cpp — TOML run configs: parse with toml++, validate every field, write back.
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "util/toml_parse.hpp"

#include "ser/error.hpp"
#include "ser/model_config.hpp"

namespace ser {
namespace {

void validate(const RunConfig& c, const std::string& origin) {
  auto bad = [&](const std::string& key, const std::string& why) {
    throw Error(origin + ": " + key + ": " + why);
  };
  const ModelConfig& m = c.model;
  if (m.input != "logmel" && m.input != "functionals")
    bad("[model] input", "expected \"logmel\" or \"functionals\", found \"" + m.input + "\"");
  // With input = "functionals" the convolution, attention and fusion keys do not apply and are ignored.
  if (m.functionals != "cache" && m.functionals != "utterance")
    bad("[model] functionals", "expected \"cache\" or \"utterance\", found \"" + m.functionals + "\"");
  if (!m.functionals_only() && m.conv_channels.empty()) {
    bad("[model] conv_channels", "at least one convolution block is needed");
  }
  if (m.deltas < 0 || m.deltas > 2) bad("[model] deltas", "expected 0 (none), 1 (delta) or 2 (delta and delta-delta)");
  for (int ch : m.conv_channels) if (ch < 1 || ch > 4096) bad("[model] conv_channels", "channels must be in 1..4096");
  if (m.kernel_time < 1 || m.kernel_time % 2 == 0 || m.kernel_freq < 1 || m.kernel_freq % 2 == 0)
    bad("[model] kernel_time/kernel_freq", "kernel sizes must be odd and positive");
  if (m.pool_time < 1 || m.pool_freq < 1) bad("[model] pool_time/pool_freq", "must be >= 1");
  if (m.conv_dropout < 0 || m.conv_dropout >= 1) bad("[model] conv_dropout", "must be in [0, 1)");
  if (m.dropout < 0 || m.dropout >= 1) bad("[model] dropout", "must be in [0, 1)");
  if (!m.functionals_only() && (m.attention_after < 0 || m.attention_after > static_cast<int>(m.conv_channels.size())))
    bad("[model] attention_after", "must be 0 (none) or a block number 1.." + std::to_string(m.conv_channels.size()));
  if (m.attention_heads < 1 || m.attention_head_dim < 1 || m.attention_head_dim > 128)
    bad("[model] attention_heads/attention_head_dim", "heads >= 1, head_dim in 1..128");
  if (m.temporal_pool != "attention" && m.temporal_pool != "mean")
    bad("[model] temporal_pool", "expected \"attention\" or \"mean\", found \"" + m.temporal_pool + "\"");
  for (int d : m.dense) if (d < 1) bad("[model] dense", "layer widths must be positive");
  const TrainConfig& t = c.train;
  if (t.epochs < 1) bad("[train] epochs", "must be >= 1");
  if (t.batch_size < 1) bad("[train] batch_size", "must be >= 1");
  if (t.optimizer != "adam" && t.optimizer != "adamw") bad("[train] optimizer", "expected \"adam\" or \"adamw\"");
  if (!(t.lr > 0)) bad("[train] lr", "must be > 0");
  if (t.weight_decay < 0) bad("[train] weight_decay", "must be >= 0");
  if (t.schedule != "cosine" && t.schedule != "step" && t.schedule != "constant")
    bad("[train] schedule", "expected \"cosine\", \"step\" or \"constant\"");
  if (t.warmup_epochs < 0) bad("[train] warmup_epochs", "must be >= 0");
  if (t.clip_norm < 0) bad("[train] clip_norm", "must be >= 0");
  if (t.class_weights != "balanced" && t.class_weights != "none")
    bad("[train] class_weights", "expected \"balanced\" or \"none\"");
  if (!(t.label_smoothing >= 0 && t.label_smoothing < 1)) bad("[train] label_smoothing", "must be in [0, 1)");
  if (!(t.mixup_alpha >= 0 && t.mixup_alpha <= 100)) bad("[train] mixup_alpha", "must be in [0, 100]");
  if (t.patience < 1) bad("[train] patience", "must be >= 1");
  if (t.max_frames < 0) bad("[train] max_frames", "must be >= 0");
  if (t.time_masks < 0 || t.time_masks > 16) bad("[train] time_masks", "must be in [0, 16]");
  if (t.time_mask_frames < 0) bad("[train] time_mask_frames", "must be >= 0");
  if (t.freq_masks < 0 || t.freq_masks > 16) bad("[train] freq_masks", "must be in [0, 16]");
  if (t.freq_mask_bins < 0) bad("[train] freq_mask_bins", "must be >= 0");
  if (t.bucket_batches < 1) bad("[train] bucket_batches", "must be >= 1");
  if (t.step_every_epochs < 1) bad("[train] step_every_epochs", "must be >= 1");
}

}  // namespace

toml::table parse_toml(const std::string& text, const std::string& origin) {
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << origin << ":" << e.source().begin.line << ": TOML syntax error: " << e.description();
    throw Error(os.str());
  }
}

RunConfig parse_run_config(const std::string& text, const std::string& origin) {
  const toml::table root = parse_toml(text, origin);
  RunConfig c;
  for (const auto& [k, v] : root)
    if (k.str() != "model" && k.str() != "train")
      throw Error(origin + ": unknown section or key '" + std::string(k.str()) + "' (expected [model] and [train])");
  if (const auto* m = root["model"].as_table()) {
    TomlSection r(*m, origin, "[model]");
    ModelConfig& x = c.model;
    r.get("name", x.name); r.get("input", x.input); r.get("deltas", x.deltas); r.get("conv_channels", x.conv_channels);
    r.get("kernel_time", x.kernel_time); r.get("kernel_freq", x.kernel_freq);
    r.get("pool_time", x.pool_time); r.get("pool_freq", x.pool_freq);
    r.get("batchnorm", x.batchnorm); r.get("conv_dropout", x.conv_dropout);
    r.get("attention_after", x.attention_after); r.get("attention_heads", x.attention_heads);
    r.get("attention_head_dim", x.attention_head_dim); r.get("temporal_pool", x.temporal_pool);
    r.get("attention_identity_init", x.attention_identity_init); r.get("attention_pre_norm", x.attention_pre_norm);
    r.get("fuse_prosody", x.fuse_prosody); r.get("functionals", x.functionals); r.get("dense", x.dense); r.get("dropout", x.dropout);
    r.reject_unknown();
  }
  if (const auto* t = root["train"].as_table()) {
    TomlSection r(*t, origin, "[train]");
    TrainConfig& x = c.train;
    r.get("epochs", x.epochs); r.get("batch_size", x.batch_size); r.get("optimizer", x.optimizer);
    r.get("lr", x.lr); r.get("weight_decay", x.weight_decay); r.get("beta1", x.beta1);
    r.get("beta2", x.beta2); r.get("eps", x.eps); r.get("schedule", x.schedule);
    r.get("warmup_epochs", x.warmup_epochs); r.get("min_lr_ratio", x.min_lr_ratio);
    r.get("step_every_epochs", x.step_every_epochs); r.get("step_gamma", x.step_gamma);
    r.get("clip_norm", x.clip_norm); r.get("class_weights", x.class_weights);
    r.get("label_smoothing", x.label_smoothing); r.get("mixup_alpha", x.mixup_alpha);
    r.get("patience", x.patience); r.get("max_frames", x.max_frames); r.get("seed", x.seed);
    r.get("bucket_batches", x.bucket_batches);
    r.get("time_masks", x.time_masks); r.get("time_mask_frames", x.time_mask_frames);
    r.get("freq_masks", x.freq_masks); r.get("freq_mask_bins", x.freq_mask_bins);
    r.reject_unknown();
  }
  validate(c, origin);
  return c;
}

RunConfig load_run_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open run config");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_run_config(ss.str(), path);
}

std::string to_toml(const RunConfig& c) {
  auto ints = [](const std::vector<int>& v) {
    toml::array a;
    for (int x : v) a.push_back(x);
    return a;
  };
  const ModelConfig& m = c.model;
  const TrainConfig& t = c.train;
  toml::table model{{"name", m.name}, {"input", m.input}, {"deltas", m.deltas}, {"conv_channels", ints(m.conv_channels)},
                    {"kernel_time", m.kernel_time}, {"kernel_freq", m.kernel_freq},
                    {"pool_time", m.pool_time}, {"pool_freq", m.pool_freq},
                    {"batchnorm", m.batchnorm}, {"conv_dropout", double(m.conv_dropout)},
                    {"attention_after", m.attention_after}, {"attention_heads", m.attention_heads},
                    {"attention_head_dim", m.attention_head_dim},
                    {"attention_identity_init", m.attention_identity_init}, {"attention_pre_norm", m.attention_pre_norm},
                    {"temporal_pool", m.temporal_pool},
                    {"fuse_prosody", m.fuse_prosody}, {"functionals", m.functionals}, {"dense", ints(m.dense)},
                    {"dropout", double(m.dropout)}};
  toml::table train{{"epochs", t.epochs}, {"batch_size", t.batch_size}, {"optimizer", t.optimizer},
                    {"lr", double(t.lr)}, {"weight_decay", double(t.weight_decay)},
                    {"beta1", double(t.beta1)}, {"beta2", double(t.beta2)}, {"eps", double(t.eps)},
                    {"schedule", t.schedule}, {"warmup_epochs", double(t.warmup_epochs)},
                    {"min_lr_ratio", double(t.min_lr_ratio)}, {"step_every_epochs", t.step_every_epochs},
                    {"step_gamma", double(t.step_gamma)}, {"clip_norm", double(t.clip_norm)},
                    {"class_weights", t.class_weights}, {"label_smoothing", double(t.label_smoothing)},
                    {"mixup_alpha", double(t.mixup_alpha)}, {"patience", t.patience},
                    {"max_frames", t.max_frames}, {"seed", static_cast<std::int64_t>(t.seed)},
                    {"bucket_batches", t.bucket_batches}, {"time_masks", t.time_masks},
                    {"time_mask_frames", t.time_mask_frames}, {"freq_masks", t.freq_masks},
                    {"freq_mask_bins", t.freq_mask_bins}};
  std::ostringstream os;
  os << toml::table{{"model", model}, {"train", train}} << "\n";
  return os.str();
}

}  // namespace ser
