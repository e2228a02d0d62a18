// src/export/onnx_export.cpp — a checkpoint's inference graph as an ONNX model (docs/export_onnx.md):
// the layer list of src/nn/model.cpp walked from the checkpoint's run config, the checkpoint's
// tensors as initializers under their own names, then the ONNX checker and strict shape inference
// (the outputs must come out (N, k)) before the file is written under a temporary name and renamed.
#include "export/onnx_export.hpp"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "export/onnx_graph.hpp"
#include "export/onnx_layers.hpp"
#include "export/onnx_weights.hpp"
#include "nn/model.hpp"
#include "ser/error.hpp"
#include "ser/model_config.hpp"
#include "util/atomic_file.hpp"
#include "ser/build_info.hpp"

namespace ser {
namespace {

using namespace onnx_export;

constexpr int kOpset = 17;
constexpr int kIrVersion = 8;  // the IR version that goes with opset 17 (ONNX 1.12)

// The checkpoint must hold exactly the tensors the config's model declares, by name and shape (a
// checkpoint read back lists them in its file's order, which need not be the model's).
void check_tensors_match(const engine::Checkpoint& ck, const nn::Model<float>& model) {
  auto check = [](const std::vector<nn::ParamEntry>& have, const std::vector<nn::ParamEntry>& want, const char* what) {
    for (const auto& w : want) {
      const auto it = std::find_if(have.begin(), have.end(), [&](const nn::ParamEntry& h) { return h.name == w.name; });
      if (it == have.end())
        throw Error(std::string("onnx export: the checkpoint lacks the ").append(what).append(" '").append(w.name).append(
            "' that the model of its run config declares"));
      if (it->shape != w.shape)
        throw Error("onnx export: tensor '" + w.name + "' is " + nn::shape_string(it->shape) +
                    " in the checkpoint, the model of its run config declares " + nn::shape_string(w.shape));
    }
    if (have.size() != want.size())
      throw Error(std::string("onnx export: the checkpoint holds ").append(std::to_string(have.size())).append(" ").append(what)
                      .append("s, the model of its run config declares ").append(std::to_string(want.size())));
  };
  check(ck.param_entries, model.param_table().entries(), "parameter");
  check(ck.state_entries, model.state_table().entries(), "running statistic");
}

void check_normalizer(const engine::Checkpoint& ck, const ModelConfig& m) {
  const auto& n = ck.normalizer;
  if (!m.functionals_only() && (n.logmel_mean.size() != static_cast<std::size_t>(ck.n_mels) ||
                                n.logmel_std.size() != static_cast<std::size_t>(ck.n_mels)))
    throw Error(std::string("onnx export: the checkpoint's log-mel normaliser has ")
                    .append(std::to_string(n.logmel_mean.size()))
                    .append(" values, the model reads ")
                    .append(std::to_string(ck.n_mels))
                    .append(" mel bands"));
  if (m.uses_functionals() && (n.functional_mean.size() != static_cast<std::size_t>(ck.n_prosody) ||
                               n.functional_std.size() != static_cast<std::size_t>(ck.n_prosody)))
    throw Error(std::string("onnx export: the checkpoint's functional normaliser has ")
                    .append(std::to_string(n.functional_mean.size()))
                    .append(" values, the model reads ")
                    .append(std::to_string(ck.n_prosody))
                    .append(" functionals"));
}

void add_metadata(onnx::ModelProto& proto, const std::string& key, const std::string& value) {
  auto* p = proto.add_metadata_props();
  p->set_key(key);
  p->set_value(value);
}

// The graph of src/nn/model.cpp in inference mode.
void build_graph(GraphBuilder& g, const engine::Checkpoint& ck, const ModelConfig& m, int min_frames) {
  CheckpointWeights w(ck);
  const int k = static_cast<int>(ck.class_names.size());
  const Dim n_dim = Dim::symbol("N");
  if (!m.functionals_only()) g.input("logmel", {n_dim, Dim::symbol("T"), Dim::fixed(ck.n_mels)});
  if (m.uses_functionals()) g.input("functionals", {n_dim, Dim::fixed(ck.n_prosody)});
  const std::string functionals = m.uses_functionals() ? emit_functionals_input(g, ck.normalizer, "functionals") : "";

  std::string v;  // (N, d) utterance vector
  int d = 0;
  if (m.functionals_only()) {
    v = functionals;
    d = ck.n_prosody;
  } else {
    std::string x = emit_logmel_input(g, ck.normalizer, "logmel", min_frames);  // (N, 1, T, M)
    int c = 1, f = ck.n_mels;
    if (m.deltas > 0) {
      x = emit_time_deltas(g, m.deltas, x);  // (N, 1 + deltas, T, M)
      c = 1 + m.deltas;
    }
    for (std::size_t b = 0; b < m.conv_channels.size(); ++b) {
      x = emit_conv_block(g, w, m, static_cast<int>(b), c, x);
      c = m.conv_channels[b];
      if (m.pool_time > 1 || m.pool_freq > 1) f /= m.pool_freq;
      if (m.attention_after == static_cast<int>(b) + 1)
        x = emit_self_attention(g, w, "attention", c, f, m.attention_heads, m.attention_head_dim, m.attention_pre_norm, x);
    }
    v = emit_temporal_pool(g, w, "pool", m.temporal_pool == "attention", c, f, x);
    d = c * f;
    if (m.fuse_prosody) {
      v = g.node("Concat", {v, functionals}, {attr_int("axis", 1)});  // [acoustic, prosodic]
      d += ck.n_prosody;
    }
  }
  for (std::size_t j = 0; j < m.dense.size(); ++j) {
    std::string name("dense.");
    name.append(std::to_string(j));
    v = g.node("Relu", {emit_linear(g, w, name, d, m.dense[j], v)});
    d = m.dense[j];
  }
  const std::string logits = emit_linear(g, w, "classifier", d, k, v, "logits");
  g.node("Softmax", {logits}, {attr_int("axis", 1)}, "probabilities");
  g.output("logits", {n_dim, Dim::fixed(k)});
  g.output("probabilities", {n_dim, Dim::fixed(k)});

  if (const auto left = w.unused(); !left.empty())
    throw Error(std::string("onnx export: the graph leaves ")
                    .append(std::to_string(left.size()))
                    .append(" checkpoint tensors unused, the first '")
                    .append(left.front())
                    .append("'"));
}

std::string dims_string(const onnx::TypeProto& t) {
  if (!t.has_tensor_type() || !t.tensor_type().has_shape()) return "no shape";
  std::string s("(");
  const auto& shape = t.tensor_type().shape();
  for (int i = 0; i < shape.dim_size(); ++i) {
    if (i) s.append(", ");
    const auto& dim = shape.dim(i);
    s.append(dim.has_dim_value() ? std::to_string(dim.dim_value()) : dim.has_dim_param() ? dim.dim_param() : "?");
  }
  return s.append(")");
}

// The checker, then strict shape inference on a copy whose outputs carry no declared shape: each
// output must be inferred as (N, k).
void validate(const onnx::ModelProto& proto, int k) {
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    throw Error(std::string("onnx export: the ONNX checker rejects the graph: ").append(e.what()));
  }
  onnx::ModelProto probe = proto;
  for (auto& o : *probe.mutable_graph()->mutable_output()) o.mutable_type()->mutable_tensor_type()->clear_shape();
  try {
    onnx::shape_inference::InferShapes(probe, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*error_mode=*/1));
  } catch (const std::exception& e) {
    throw Error(std::string("onnx export: shape inference fails: ").append(e.what()));
  }
  for (const auto& o : probe.graph().output()) {
    const auto& t = o.type();
    const bool ok = t.has_tensor_type() && t.tensor_type().has_shape() && t.tensor_type().shape().dim_size() == 2 &&
                    t.tensor_type().shape().dim(0).dim_param() == "N" &&
                    t.tensor_type().shape().dim(1).dim_value() == k;
    if (!ok)
      throw Error(std::string("onnx export: shape inference gives ")
                      .append(dims_string(t))
                      .append(" for output '")
                      .append(o.name())
                      .append("', expected (N, ")
                      .append(std::to_string(k))
                      .append(")"));
  }
}

}  // namespace

void export_onnx(const engine::Checkpoint& ck, const std::string& out_path) {
  const RunConfig rc = parse_run_config(ck.run_config_toml, "the checkpoint's run_config");
  const ModelConfig& m = rc.model;
  const int k = static_cast<int>(ck.class_names.size());
  const nn::Model<float> model(m, nn::ModelInputs{ck.n_mels, ck.n_prosody, k});
  check_tensors_match(ck, model);
  check_normalizer(ck, m);

  onnx::ModelProto proto;
  proto.set_ir_version(kIrVersion);
  auto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  proto.set_producer_name("ser");
  proto.set_producer_version(std::string(SER_VERSION) + " (" + build_commit() + ")");
  const std::string reads = m.functionals_only() ? "utterance functionals"
                            : m.fuse_prosody     ? "log-mel frames and utterance functionals"
                                                 : "log-mel frames";
  proto.set_doc_string("ser " + m.name + ": " + reads + " to emotion class probabilities (docs/export_onnx.md)");
  add_metadata(proto, "ser.model", m.name);
  add_metadata(proto, "ser.class_names", nlohmann::json(ck.class_names).dump());
  add_metadata(proto, "ser.n_mels", std::to_string(ck.n_mels));
  add_metadata(proto, "ser.min_frames", std::to_string(model.min_frames()));
  add_metadata(proto, "ser.feature_config", ck.feature_config_json);
  add_metadata(proto, "ser.run_config", ck.run_config_toml);
  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name("ser_" + m.name);
  GraphBuilder g(graph);
  build_graph(g, ck, m, model.min_frames());
  validate(proto, k);

  std::string bytes;
  if (!proto.SerializeToString(&bytes)) throw file_error(out_path, "cannot serialise the ONNX model");
  util::write_text_atomic(out_path, bytes);
}

}  // namespace ser
