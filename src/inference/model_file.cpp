// src/inference/model_file.cpp — reading checkpoints and safetensors exports into one form, and
// writing the export.
#include "inference/model_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cache/h5_handles.hpp"
#include "export/safetensors.hpp"
#include "nn/model.hpp"
#include "ser/error.hpp"
#include "ser/feature_config.hpp"
#include "ser/model_config.hpp"
#include "ser/build_info.hpp"

namespace ser::inference {
namespace {

// The network the configs describe (building it allocates nothing; it gives the tensor tables).
nn::Model<float> model_of(const engine::Checkpoint& c, const std::string& path) {
  const RunConfig rc = parse_run_config(c.run_config_toml, path + " (run config)");
  return nn::Model<float>(rc.model, nn::ModelInputs{c.n_mels, c.n_prosody, static_cast<int>(c.class_names.size())});
}

void check_normalizer(const std::string& path, const engine::Checkpoint& c) {
  const auto& n = c.normalizer;
  const auto bad = [&](const std::string& why) { throw file_error(path, "normaliser: " + why); };
  if (static_cast<int>(n.logmel_mean.size()) != c.n_mels || n.logmel_std.size() != n.logmel_mean.size())
    bad(std::string("logmel_mean/std hold ").append(std::to_string(n.logmel_mean.size())).append("/")
            .append(std::to_string(n.logmel_std.size())).append(" values, the model has ")
            .append(std::to_string(c.n_mels)).append(" mel bands"));
  if (n.functional_std.size() != n.functional_mean.size()) bad("functional_mean and functional_std differ in length");
  if (c.n_prosody > 0 && static_cast<int>(n.functional_mean.size()) != c.n_prosody)
    bad(std::string("functional_mean holds ").append(std::to_string(n.functional_mean.size()))
            .append(" values, the model reads ").append(std::to_string(c.n_prosody)).append(" functionals"));
  for (const auto* v : {&n.logmel_mean, &n.functional_mean})
    for (float x : *v) if (!std::isfinite(x)) bad("a mean is not finite");
  for (const auto* v : {&n.logmel_std, &n.functional_std})
    for (float x : *v) if (!(x > 0) || !std::isfinite(x)) bad("a standard deviation is not positive and finite");
}

// A NaN or infinite weight makes every prediction meaningless: the file is damaged.
void check_finite(const std::string& path, const std::vector<nn::ParamEntry>& entries, const std::vector<float>& flat) {
  for (const auto& e : entries)
    for (std::int64_t i = 0; i < e.count(); ++i)
      if (!std::isfinite(flat[static_cast<std::size_t>(e.offset + i)]))
        throw file_error(path, "tensor '" + e.name + "' holds a NaN or infinite value (damaged model)");
}

// Checks the configs and rearranges the weights into the model's own table layout.
void validate(const std::string& path, engine::Checkpoint& c) {
  if (c.class_names.size() < 2) throw file_error(path, "a classifier needs at least 2 class names");
  FeatureConfig fc;
  try {
    fc = FeatureConfig::from_json(c.feature_config_json);
    fc.validate();
  } catch (const Error& e) {
    throw file_error(path, std::string("feature config: ") + e.what());
  }
  if (fc.logmel.n_mels != c.n_mels)
    throw file_error(path, std::string("n_mels ").append(std::to_string(c.n_mels)).append(" differs from the feature config's ")
                               .append(std::to_string(fc.logmel.n_mels)));
  const nn::Model<float> model = model_of(c, path);
  c.params = engine::arrange_by_name(path, c.param_entries, c.params, model.param_table(), "parameter");
  c.state = engine::arrange_by_name(path, c.state_entries, c.state, model.state_table(), "state tensor");
  c.param_entries = model.param_table().entries();
  c.state_entries = model.state_table().entries();
  check_finite(path, c.param_entries, c.params);
  check_finite(path, c.state_entries, c.state);
  c.adam_m.clear();
  c.adam_v.clear();
  c.data_order.clear();
  check_normalizer(path, c);
}

const std::string& meta(const std::string& path, const safetensors::File& f, const std::string& key) {
  const auto it = f.metadata.find(key);
  if (it == f.metadata.end()) throw file_error(path, "safetensors metadata has no '" + key + "' (not a ser export)");
  return it->second;
}

int meta_int(const std::string& path, const safetensors::File& f, const std::string& key) {
  const std::string& s = meta(path, f, key);
  try {
    std::size_t used = 0;
    const int v = std::stoi(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  throw file_error(path, "safetensors metadata '" + key + "' is not an integer: '" + s + "'");
}

// The tensors of `table` (or, when the name is not in it, none) into entries + flat, as a
// checkpoint holds them.
void take_tensors(const safetensors::File& f, const nn::ParamTable& table, std::vector<nn::ParamEntry>& entries,
                  std::vector<float>& flat) {
  nn::ParamTable t;
  std::vector<const safetensors::Tensor*> picked;
  for (const auto& x : f.tensors) {
    if (table.find(x.name) < 0) continue;
    std::vector<int> shape(x.shape.begin(), x.shape.end());
    t.add(x.name, shape, nn::Init::zeros, 1, false);
    picked.push_back(&x);
  }
  entries = t.entries();
  flat.assign(static_cast<std::size_t>(t.total()), 0.0f);
  for (std::size_t i = 0; i < picked.size(); ++i)
    std::copy(picked[i]->values.begin(), picked[i]->values.end(), flat.begin() + entries[i].offset);
}

std::vector<float> normalizer_tensor(const std::string& path, const safetensors::File& f, const std::string& name) {
  const safetensors::Tensor* t = f.find("normalizer." + name);
  if (!t) throw file_error(path, "tensor 'normalizer." + name + "' missing");
  if (t->shape.size() != 1) throw file_error(path, "tensor 'normalizer." + name + "' is not one-dimensional");
  return t->values;
}

engine::Checkpoint read_export(const std::string& path) {
  const safetensors::File f = safetensors::read_file(path);
  if (meta(path, f, "format") != kExportFormat)
    throw file_error(path, "safetensors metadata format is '" + meta(path, f, "format") + "', not '" + kExportFormat + "'");
  const int version = meta_int(path, f, "format_version");
  if (version != kExportFormatVersion)
    throw file_error(path, std::string("export format version ").append(std::to_string(version))
                               .append(", this ser reads ").append(std::to_string(kExportFormatVersion)));
  engine::Checkpoint c;
  c.run_config_toml = meta(path, f, "run_config");
  c.feature_config_json = meta(path, f, "feature_config");
  c.n_mels = meta_int(path, f, "n_mels");
  c.n_prosody = meta_int(path, f, "n_prosody");
  try {
    c.class_names = nlohmann::json::parse(meta(path, f, "class_names")).get<std::vector<std::string>>();
    if (f.metadata.count("split")) c.split = nlohmann::json::parse(f.metadata.at("split"));
    if (f.metadata.count("progress"))
      c.progress = engine::Progress::from_json(nlohmann::json::parse(f.metadata.at("progress")));
  } catch (const nlohmann::json::exception& e) {
    throw file_error(path, std::string("safetensors metadata: ") + e.what());
  }
  if (c.class_names.size() < 2) throw file_error(path, "a classifier needs at least 2 class names");
  const nn::Model<float> model = model_of(c, path);
  take_tensors(f, model.param_table(), c.param_entries, c.params);
  take_tensors(f, model.state_table(), c.state_entries, c.state);
  c.normalizer.logmel_mean = normalizer_tensor(path, f, "logmel_mean");
  c.normalizer.logmel_std = normalizer_tensor(path, f, "logmel_std");
  c.normalizer.functional_mean = normalizer_tensor(path, f, "functional_mean");
  c.normalizer.functional_std = normalizer_tensor(path, f, "functional_std");
  for (const auto& t : f.tensors)
    if (model.param_table().find(t.name) < 0 && model.state_table().find(t.name) < 0 &&
        t.name.rfind("normalizer.", 0) != 0)
      throw file_error(path, "tensor '" + t.name + "' is not part of the model");
  return c;
}

}  // namespace

ModelFileKind sniff_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[sizeof h5::kSealMagic - 1] = {};
  in.read(head, sizeof head);
  const auto got = static_cast<std::size_t>(in.gcount());
  // A sealed checkpoint, or a bare HDF5 file (an older ser's; read_checkpoint says so).
  if ((got == sizeof head && std::memcmp(head, h5::kSealMagic, sizeof head) == 0) ||
      (got >= 8 && std::memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0))
    return ModelFileKind::checkpoint;
  if (safetensors::looks_like_safetensors(path)) return ModelFileKind::safetensors;
  return ModelFileKind::unknown;
}

engine::Checkpoint load_model_file(const std::string& path) {
  std::ifstream probe(path, std::ios::binary);
  if (!probe) throw file_error(path, "model file not found or unreadable");
  engine::Checkpoint c;
  switch (sniff_model_file(path)) {
    case ModelFileKind::checkpoint: c = engine::read_checkpoint(path); break;
    case ModelFileKind::safetensors: c = read_export(path); break;
    case ModelFileKind::unknown:
      throw file_error(path, "not a ser model: neither a checkpoint (HDF5) nor a safetensors export");
  }
  validate(path, c);
  return c;
}

void write_safetensors_export(const engine::Checkpoint& c, const std::string& path) {
  safetensors::File f;
  const auto add = [&](const std::string& name, const std::vector<int>& shape, const float* v) {
    safetensors::Tensor t;
    t.name = name;
    t.shape.assign(shape.begin(), shape.end());
    std::int64_t n = 1;
    for (int d : shape) n *= d;
    t.values.assign(v, v + n);
    f.tensors.push_back(std::move(t));
  };
  for (const auto& e : c.param_entries) add(e.name, e.shape, c.params.data() + e.offset);
  for (const auto& e : c.state_entries) add(e.name, e.shape, c.state.data() + e.offset);
  const auto& n = c.normalizer;
  add("normalizer.logmel_mean", {static_cast<int>(n.logmel_mean.size())}, n.logmel_mean.data());
  add("normalizer.logmel_std", {static_cast<int>(n.logmel_std.size())}, n.logmel_std.data());
  add("normalizer.functional_mean", {static_cast<int>(n.functional_mean.size())}, n.functional_mean.data());
  add("normalizer.functional_std", {static_cast<int>(n.functional_std.size())}, n.functional_std.data());
  f.metadata = {{"format", kExportFormat},
                {"format_version", std::to_string(kExportFormatVersion)},
                {"run_config", c.run_config_toml},
                {"feature_config", c.feature_config_json},
                {"class_names", nlohmann::json(c.class_names).dump()},
                {"n_mels", std::to_string(c.n_mels)},
                {"n_prosody", std::to_string(c.n_prosody)},
                {"split", c.split.is_null() ? "{}" : c.split.dump()},
                {"progress", c.progress.to_json().dump()},
                {"ser_version", SER_VERSION},
                {"ser_commit", build_commit()}};
  safetensors::write_file(path, f);
}

}  // namespace ser::inference
