// tests/checkpoint_test_util.hpp — checkpoints made without training: one that exercises the file
// format only, and one of a whole model with random weights.
#pragma once
#include <string>
#include <vector>

#include "nn/model.hpp"
#include "nn/param_table.hpp"
#include "nn_test_util.hpp"
#include "ser/model_config.hpp"
#include "test_util.hpp"
#include "engine/checkpoint.hpp"

namespace ser::test {

// One weight tensor "w" of n values in [value, value + 1) with Adam moments. Random values, so that
// compression cannot shrink the file.
inline engine::Checkpoint format_only_checkpoint(int n, float value) {
  nn::ParamTable table;
  table.add("w", {n}, nn::Init::zeros, 1, false);
  engine::Checkpoint c;
  c.class_names = {"angry", "sad"};
  c.param_entries = table.entries();
  c.params = random_signal(static_cast<std::size_t>(table.total()), 7, value, value + 1.0f);
  c.adam_m = random_signal(c.params.size(), 8);
  c.adam_v = random_signal(c.params.size(), 9, 0.0f, 1.0f);
  return c;
}

// The model of `rc` for n_mels bands, n_functionals functionals (when it fuses them) and the given
// classes, with random non-zero weights, running statistics and normaliser. feature_config_json is
// left to the caller.
inline engine::Checkpoint random_model_checkpoint(const RunConfig& rc, int n_mels, int n_functionals,
                                                 const std::vector<std::string>& class_names, std::uint64_t seed) {
  engine::Checkpoint ck;
  ck.run_config_toml = to_toml(rc);
  ck.class_names = class_names;
  ck.n_mels = n_mels;
  ck.n_prosody = rc.model.uses_functionals() ? n_functionals : 0;
  const nn::Model<float> m(rc.model, nn::ModelInputs{ck.n_mels, ck.n_prosody, static_cast<int>(class_names.size())});
  ck.param_entries = m.param_table().entries();
  ck.state_entries = m.state_table().entries();
  ck.params = random_nonzero<float>(static_cast<std::size_t>(m.param_table().total()), seed, -0.4, 0.4);
  ck.state.assign(static_cast<std::size_t>(m.state_table().total()), 0.0f);
  const auto means = random_nonzero<float>(ck.state.size(), seed + 1, -0.3, 0.3);
  const auto vars = random_nonzero<float>(ck.state.size(), seed + 2, 0.5, 1.5);
  for (const auto& e : ck.state_entries) {
    const bool var = e.name.find("running_var") != std::string::npos;
    for (std::int64_t j = 0; j < e.count(); ++j) {
      const auto i = static_cast<std::size_t>(e.offset + j);
      ck.state[i] = var ? vars[i] : means[i];
    }
  }
  auto& nz = ck.normalizer;
  nz.logmel_mean = random_nonzero<float>(static_cast<std::size_t>(n_mels), seed + 3, -6.0, 2.0);
  nz.logmel_std = random_nonzero<float>(static_cast<std::size_t>(n_mels), seed + 4, 0.5, 3.0);
  nz.functional_mean = random_nonzero<float>(static_cast<std::size_t>(n_functionals), seed + 5, -50.0, 200.0);
  nz.functional_std = random_nonzero<float>(static_cast<std::size_t>(n_functionals), seed + 6, 1.0, 40.0);
  return ck;
}

}  // namespace ser::test
