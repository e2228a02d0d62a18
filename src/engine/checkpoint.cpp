// src/engine/checkpoint.cpp — writing and reading checkpoints.
#include "engine/checkpoint.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cache/h5_handles.hpp"
#include "ser/error.hpp"
#include "ser/build_info.hpp"

namespace ser::engine {

nlohmann::json Progress::to_json() const {
  return {{"step", step}, {"epoch", epoch}, {"batch", batch}, {"best_val_ua", best_val_ua},
          {"best_epoch", best_epoch}, {"epochs_since_best", epochs_since_best},
          {"rng", {{"kind", "counter (splitmix64 of seed, step, element)"}, {"seed", seed}, {"step", step}}}};
}

Progress Progress::from_json(const nlohmann::json& j) {
  Progress p;
  p.step = j.at("step").get<std::int64_t>();
  p.epoch = j.at("epoch").get<int>();
  p.batch = j.at("batch").get<int>();
  p.best_val_ua = j.at("best_val_ua").get<double>();
  p.best_epoch = j.at("best_epoch").get<int>();
  p.epochs_since_best = j.at("epochs_since_best").get<int>();
  p.seed = j.at("rng").at("seed").get<std::uint64_t>();
  return p;
}

namespace {

void make_group(hid_t f, const std::string& path, const std::string& name) {
  h5::check(H5Gcreate2(f, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, path,
            "creating group /" + name);
}

void write_tensors(hid_t f, const std::string& path, const std::string& group,
                   const std::vector<nn::ParamEntry>& entries, const std::vector<float>& flat) {
  make_group(f, path, group);
  for (const auto& e : entries) {
    std::vector<float> v(flat.begin() + e.offset, flat.begin() + e.offset + e.count());
    std::vector<hsize_t> dims;
    for (int d : e.shape) dims.push_back(static_cast<hsize_t>(d));
    h5::write_f32(f, path, group + "/" + e.name, v, dims);
  }
}

std::vector<float> read_tensors(hid_t f, const std::string& path, const std::string& group,
                                std::vector<nn::ParamEntry>& entries) {
  // Names come from the group's listing; offsets are recomputed (aligned like ParamTable).
  h5::Handle g = h5::check(H5Gopen2(f, group.c_str(), H5P_DEFAULT), H5Gclose, path, "opening group /" + group);
  H5G_info_t info;
  h5::check(H5Gget_info(g.get(), &info), path, "listing /" + group);
  nn::ParamTable table;
  std::vector<std::vector<float>> values;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    std::string name;
    if (len < 0) {  // creation order not tracked: fall back to name order
      const ssize_t l2 = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
      if (l2 < 0) throw file_error(path, "cannot list /" + group);
      name.resize(static_cast<std::size_t>(l2));
      H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), static_cast<std::size_t>(l2) + 1, H5P_DEFAULT);
    } else {
      name.resize(static_cast<std::size_t>(len));
      H5Lget_name_by_idx(g.get(), ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, i, name.data(), static_cast<std::size_t>(len) + 1, H5P_DEFAULT);
    }
    std::vector<hsize_t> dims;
    values.push_back(h5::read_f32(f, path, group + "/" + name, &dims));
    std::vector<int> shape;
    for (hsize_t d : dims) shape.push_back(static_cast<int>(d));
    table.add(name, shape, nn::Init::zeros, 1, false);
  }
  entries = table.entries();
  std::vector<float> flat(static_cast<std::size_t>(table.total()), 0.0f);
  for (std::size_t i = 0; i < entries.size(); ++i)
    std::copy(values[i].begin(), values[i].end(), flat.begin() + entries[i].offset);
  return flat;
}

}  // namespace

void write_checkpoint(const std::string& path, const Checkpoint& c) {
  h5::quiet_errors();
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  try {
    {
      h5::Handle file = h5::create_file(tmp, "creating the checkpoint");
      const hid_t f = file.get();
      h5::write_attr_string(f, tmp, "format", "ser-checkpoint");
      h5::write_attr_int(f, tmp, "format_version", kCheckpointFormatVersion);
      h5::write_attr_string(f, tmp, "run_config", c.run_config_toml);
      h5::write_attr_string(f, tmp, "feature_config", c.feature_config_json);
      h5::write_attr_strings(f, tmp, "class_names", c.class_names);
      h5::write_attr_int(f, tmp, "n_mels", c.n_mels);
      h5::write_attr_int(f, tmp, "n_prosody", c.n_prosody);
      h5::write_attr_string(f, tmp, "progress", c.progress.to_json().dump());
      h5::write_attr_string(f, tmp, "split", c.split.dump());
      h5::write_attr_string(f, tmp, "ser_commit", build_commit());
      write_tensors(f, tmp, "params", c.param_entries, c.params);
      write_tensors(f, tmp, "state", c.state_entries, c.state);
      if (!c.adam_m.empty()) {
        make_group(f, tmp, "adam");
        write_tensors(f, tmp, "adam/m", c.param_entries, c.adam_m);
        write_tensors(f, tmp, "adam/v", c.param_entries, c.adam_v);
      }
      make_group(f, tmp, "normalizer");
      const auto& n = c.normalizer;
      h5::write_f32(f, tmp, "normalizer/logmel_mean", n.logmel_mean, {n.logmel_mean.size()});
      h5::write_f32(f, tmp, "normalizer/logmel_std", n.logmel_std, {n.logmel_std.size()});
      h5::write_f32(f, tmp, "normalizer/functional_mean", n.functional_mean, {n.functional_mean.size()});
      h5::write_f32(f, tmp, "normalizer/functional_std", n.functional_std, {n.functional_std.size()});
      std::vector<std::int32_t> order;
      std::vector<std::int64_t> offsets{0};
      for (const auto& b : c.data_order) {
        order.insert(order.end(), b.begin(), b.end());
        offsets.push_back(static_cast<std::int64_t>(order.size()));
      }
      h5::write_i32(f, tmp, "data_order", order);
      h5::write_i64(f, tmp, "data_order_offsets", offsets);
      h5::write_attr_int(f, tmp, "complete", 1);
      h5::check(H5Fflush(f, H5F_SCOPE_GLOBAL), tmp, "flushing");
    }
    h5::seal_file(tmp);
    std::filesystem::rename(tmp, path);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
}

Checkpoint read_checkpoint(const std::string& path) {
  h5::quiet_errors();
  if (!std::filesystem::exists(path)) throw file_error(path, "checkpoint not found");
  h5::Handle file = h5::open_sealed(path, "checkpoint", "train the model again");
  const hid_t f = file.get();
  if (!h5::has_attr(f, "format") || h5::read_attr_string(f, path, "format") != "ser-checkpoint")
    throw file_error(path, "not a ser checkpoint (no format = \"ser-checkpoint\" attribute)");
  const auto version = h5::read_attr_int(f, path, "format_version");
  if (version != kCheckpointFormatVersion)
    throw file_error(path, "checkpoint format version " + std::to_string(version) + ", this ser reads " +
                               std::to_string(kCheckpointFormatVersion));
  if (!h5::has_attr(f, "complete")) throw file_error(path, "incomplete checkpoint (no 'complete' marker)");
  Checkpoint c;
  try {
    c.run_config_toml = h5::read_attr_string(f, path, "run_config");
    c.feature_config_json = h5::read_attr_string(f, path, "feature_config");
    c.class_names = h5::read_attr_strings(f, path, "class_names");
    c.n_mels = static_cast<int>(h5::read_attr_int(f, path, "n_mels"));
    c.n_prosody = static_cast<int>(h5::read_attr_int(f, path, "n_prosody"));
    c.progress = Progress::from_json(nlohmann::json::parse(h5::read_attr_string(f, path, "progress")));
    c.split = nlohmann::json::parse(h5::read_attr_string(f, path, "split"));
  } catch (const nlohmann::json::exception& e) {
    throw file_error(path, std::string("damaged checkpoint metadata: ") + e.what());
  }
  c.params = read_tensors(f, path, "params", c.param_entries);
  c.state = read_tensors(f, path, "state", c.state_entries);
  if (H5Lexists(f, "adam", H5P_DEFAULT) > 0) {
    std::vector<nn::ParamEntry> em, ev;
    c.adam_m = read_tensors(f, path, "adam/m", em);
    c.adam_v = read_tensors(f, path, "adam/v", ev);
    if (c.adam_m.size() != c.params.size() || c.adam_v.size() != c.params.size())
      throw file_error(path, "Adam moments do not match the parameters");
  }
  c.normalizer.logmel_mean = h5::read_f32(f, path, "normalizer/logmel_mean", nullptr);
  c.normalizer.logmel_std = h5::read_f32(f, path, "normalizer/logmel_std", nullptr);
  c.normalizer.functional_mean = h5::read_f32(f, path, "normalizer/functional_mean", nullptr);
  c.normalizer.functional_std = h5::read_f32(f, path, "normalizer/functional_std", nullptr);
  const auto order = h5::read_i32(f, path, "data_order");
  const auto offsets = h5::read_i64(f, path, "data_order_offsets");
  for (std::size_t i = 0; i + 1 < offsets.size(); ++i) {
    if (offsets[i] < 0 || offsets[i + 1] < offsets[i] || offsets[i + 1] > static_cast<std::int64_t>(order.size()))
      throw file_error(path, "damaged data order");
    c.data_order.emplace_back(order.begin() + offsets[i], order.begin() + offsets[i + 1]);
  }
  return c;
}

std::vector<float> arrange_by_name(const std::string& path, const std::vector<nn::ParamEntry>& from,
                                   const std::vector<float>& flat, const nn::ParamTable& table, const char* what) {
  std::vector<float> out(static_cast<std::size_t>(table.total()), 0.0f);
  for (const auto& e : table.entries()) {
    const auto it = std::find_if(from.begin(), from.end(), [&](const nn::ParamEntry& f) { return f.name == e.name; });
    if (it == from.end()) throw file_error(path, std::string(what) + " '" + e.name + "' missing");
    if (it->shape != e.shape)
      throw file_error(path, std::string(what) + " '" + e.name + "' has shape " + nn::shape_string(it->shape) +
                                 ", the model expects " + nn::shape_string(e.shape));
    std::copy(flat.begin() + it->offset, flat.begin() + it->offset + it->count(), out.begin() + e.offset);
  }
  for (const auto& f : from)
    if (table.find(f.name) < 0) throw file_error(path, std::string(what) + " '" + f.name + "' is not part of the model");
  return out;
}


}  // namespace ser::engine
