// ONNX export of a checkpoint's inference graph: the ONNX checker and strict shape inference accept
// the file, inputs, outputs and initializers are as documented (docs/export_onnx.md), and the graph
// computes ser's logits. Without an ONNX runtime in C++, the numbers come from a small reference
// interpreter (tests/onnx_interpreter.hpp: double precision, naive loops, exactly the ops the exporter
// emits), run on the exported ModelProto and compared with the engine's own forward pass
// (nn::Model<double>, inference mode) fed by the trainer's batch maker on the same raw features.
#include <gtest/gtest.h>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "export/onnx_export.hpp"
#include "checkpoint_test_util.hpp"
#include "nn/model.hpp"
#include "nn_test_util.hpp"
#include "onnx_interpreter.hpp"
#include "ser/cache.hpp"
#include "ser/error.hpp"
#include "ser/model_config.hpp"
#include "test_util.hpp"
#include "engine/checkpoint.hpp"
#include "engine/dataset.hpp"

namespace ser {
namespace {

using onnx_reference::Dims;
using onnx_reference::from_proto;
using onnx_reference::interpret;
using onnx_reference::Tensor;

// ================================ test models and data ==========================================

constexpr int kMels = 12, kFunctionals = 5, kClasses = 4;

RunConfig config_from(const std::string& model_toml) {
  return parse_run_config("[model]\nname = \"tiny\"\n" + model_toml, "test config");
}

// A checkpoint with random non-zero weights, running statistics and normaliser.
engine::Checkpoint random_checkpoint(const RunConfig& rc, std::uint64_t seed) {
  engine::Checkpoint ck = test::random_model_checkpoint(rc, kMels, kFunctionals, {"anger", "happiness", "neutral", "sadness"}, seed);
  ck.feature_config_json = "{}";
  return ck;
}

// A feature cache of n utterances of `frames` frames each: raw log-mel and functionals as a corpus
// would give them, with a missing (NaN), an infinite and an out-of-range functional.
FeatureCache raw_cache(int n, int frames, std::uint64_t seed) {
  FeatureCache c;
  c.config.logmel.n_mels = kMels;
  c.class_names = {"anger", "happiness", "neutral", "sadness"};
  for (int j = 0; j < kFunctionals; ++j) c.functional_names.push_back(std::string("f").append(std::to_string(j)));
  c.logmel = test::random_nonzero<float>(static_cast<std::size_t>(n) * frames * kMels, seed, -9.0, 4.0);
  c.functionals = test::random_nonzero<float>(static_cast<std::size_t>(n) * kFunctionals, seed + 1, -100.0, 300.0);
  c.functionals[1] = std::numeric_limits<float>::quiet_NaN();
  if (n > 1) c.functionals[kFunctionals + 2] = 1e6f;  // clamped to +8 after normalisation
  if (n > 2) c.functionals[2 * kFunctionals] = -std::numeric_limits<float>::infinity();
  c.offsets = {0};
  for (int i = 0; i < n; ++i) {
    c.offsets.push_back(c.offsets.back() + frames);
    c.labels.push_back(i % kClasses);
    c.speakers.push_back("s");
    c.paths.push_back(std::to_string(i) + ".wav");
  }
  return c;
}

// The engine's logits for every utterance of the cache, in inference mode, in double precision.
std::vector<double> engine_logits(const engine::Checkpoint& ck, const FeatureCache& cache) {
  const RunConfig rc = parse_run_config(ck.run_config_toml, "checkpoint");
  nn::Model<double> m(rc.model, nn::ModelInputs{ck.n_mels, ck.n_prosody, kClasses});
  const engine::BatchMaker maker(cache, ck.normalizer, m.min_frames());
  std::vector<int> all(cache.n_utterances());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  engine::HostBatch b;
  maker.make(all, 0, 0, b);
  const nn::ExecContext ctx;
  m.plan(ctx, b.n, b.t, 1);
  std::copy(ck.params.begin(), ck.params.end(), m.params());
  std::copy(ck.state.begin(), ck.state.end(), m.state());
  std::copy(b.x.begin(), b.x.end(), m.input());
  if (ck.n_prosody > 0) std::copy(b.prosody.begin(), b.prosody.end(), m.prosody_input());
  m.set_batch(ctx, b.n, b.t, b.lengths);
  const double* logits = m.forward(ctx, false, 0);
  return std::vector<double>(logits, logits + static_cast<std::ptrdiff_t>(b.n) * kClasses);
}

onnx::ModelProto load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(ss.str())) << path;
  return m;
}

std::map<std::string, Tensor> graph_inputs(const RunConfig& rc, const FeatureCache& cache) {
  std::map<std::string, Tensor> in;
  const auto n = static_cast<std::int64_t>(cache.n_utterances());
  if (!rc.model.functionals_only()) {
    Tensor x;
    x.dims = {n, cache.offsets[1], kMels};
    x.v.assign(cache.logmel.begin(), cache.logmel.end());
    in["logmel"] = x;
  }
  if (rc.model.uses_functionals()) {
    Tensor f;
    f.dims = {n, kFunctionals};
    f.v.assign(cache.functionals.begin(), cache.functionals.end());
    in["functionals"] = f;
  }
  return in;
}

// Exports, interprets the file and compares logits and probabilities with the engine.
void expect_graph_matches_engine(const std::string& model_toml, int n, int frames, std::uint64_t seed) {
  SCOPED_TRACE(model_toml);
  const RunConfig rc = config_from(model_toml);
  const engine::Checkpoint ck = random_checkpoint(rc, seed);
  test::TempDir dir;
  const std::string path = dir.file("model.onnx");
  export_onnx(ck, path);
  const onnx::ModelProto proto = load(path);
  const FeatureCache cache = raw_cache(n, frames, seed + 10);
  const auto out = interpret(proto, graph_inputs(rc, cache));
  const std::vector<double> ref = engine_logits(ck, cache);
  const Tensor& logits = out.at("logits");
  const Tensor& probs = out.at("probabilities");
  ASSERT_EQ(logits.dims, (Dims{n, kClasses}));
  ASSERT_EQ(probs.dims, (Dims{n, kClasses}));
  double max_diff = 0, max_prob_diff = 0, max_abs = 0;
  for (int i = 0; i < n; ++i) {
    double mx = -1e300, sum = 0;
    for (int j = 0; j < kClasses; ++j) mx = std::max(mx, ref[static_cast<std::size_t>(i * kClasses + j)]);
    for (int j = 0; j < kClasses; ++j) sum += std::exp(ref[static_cast<std::size_t>(i * kClasses + j)] - mx);
    for (int j = 0; j < kClasses; ++j) {
      const auto k = static_cast<std::size_t>(i * kClasses + j);
      ASSERT_TRUE(std::isfinite(logits.v[k])) << "logit " << k;
      max_diff = std::max(max_diff, std::abs(logits.v[k] - ref[k]));
      max_prob_diff = std::max(max_prob_diff, std::abs(probs.v[k] - std::exp(ref[k] - mx) / sum));
      max_abs = std::max(max_abs, std::abs(ref[k]));
    }
  }
  EXPECT_GT(max_abs, 1e-3) << "degenerate logits";
  EXPECT_LT(max_diff, 1e-4) << "largest |logit| " << max_abs;
  EXPECT_LT(max_prob_diff, 1e-5);
}

const char* kAttnAfter1 =
    "conv_channels = [4, 8]\nattention_after = 1\nattention_heads = 2\nattention_head_dim = 3\n"
    "temporal_pool = \"attention\"\nfuse_prosody = true\ndense = [16]\n";

// ================================ tests ==========================================================

TEST(OnnxExport, CheckerAcceptsFileWithDocumentedInterface) {
  const RunConfig rc = config_from(kAttnAfter1);
  test::TempDir dir;
  // Through the checkpoint file, as `ser export` reads it (its tensors come back in file order).
  engine::write_checkpoint(dir.file("ck.h5"), random_checkpoint(rc, 3));
  const engine::Checkpoint ck = engine::read_checkpoint(dir.file("ck.h5"));
  const std::string path = dir.file("model.onnx");
  export_onnx(ck, path);
  EXPECT_NO_THROW(onnx::checker::check_model(path));
  const onnx::ModelProto m = load(path);
  EXPECT_NO_THROW(onnx::checker::check_model(m));
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).domain(), "");
  EXPECT_EQ(m.opset_import(0).version(), 17);

  auto expect_value = [](const onnx::ValueInfoProto& v, const std::string& name, const std::vector<std::string>& dims) {
    EXPECT_EQ(v.name(), name);
    ASSERT_TRUE(v.type().has_tensor_type()) << name;
    EXPECT_EQ(v.type().tensor_type().elem_type(), onnx::TensorProto::FLOAT) << name;
    const auto& s = v.type().tensor_type().shape();
    ASSERT_EQ(s.dim_size(), static_cast<int>(dims.size())) << name;
    for (int i = 0; i < s.dim_size(); ++i)
      EXPECT_EQ(s.dim(i).has_dim_value() ? std::to_string(s.dim(i).dim_value()) : s.dim(i).dim_param(),
                dims[static_cast<std::size_t>(i)]) << name << " dim " << i;
  };
  ASSERT_EQ(m.graph().input_size(), 2);
  expect_value(m.graph().input(0), "logmel", {"N", "T", std::to_string(kMels)});
  expect_value(m.graph().input(1), "functionals", {"N", std::to_string(kFunctionals)});
  ASSERT_EQ(m.graph().output_size(), 2);
  expect_value(m.graph().output(0), "logits", {"N", std::to_string(kClasses)});
  expect_value(m.graph().output(1), "probabilities", {"N", std::to_string(kClasses)});

  // Every checkpoint tensor is an initializer of its own name, shape and values; the rest are the
  // normaliser and small constants.
  std::map<std::string, const onnx::TensorProto*> init;
  for (const auto& t : m.graph().initializer()) init[t.name()] = &t;
  std::size_t matched = 0;
  for (const auto* list : {&ck.param_entries, &ck.state_entries})
    for (const auto& e : *list) {
      const auto* values = list == &ck.param_entries ? &ck.params : &ck.state;
      auto it = init.find(e.name);
      ASSERT_NE(it, init.end()) << e.name;
      const Tensor t = from_proto(*it->second);
      EXPECT_EQ(t.dims, Dims(e.shape.begin(), e.shape.end())) << e.name;
      for (std::int64_t j = 0; j < e.count(); ++j)
        ASSERT_EQ(t.v[static_cast<std::size_t>(j)], (*values)[static_cast<std::size_t>(e.offset + j)]) << e.name;
      ++matched;
    }
  EXPECT_EQ(matched, ck.param_entries.size() + ck.state_entries.size());
  std::size_t normaliser = 0;
  for (const auto& [name, t] : init) {
    if (name.rfind("normalizer.", 0) == 0) {
      ++normaliser;
    } else if (name.rfind("const.", 0) == 0) {
      EXPECT_LE(from_proto(*t).count(), 4) << name;
    }
  }
  EXPECT_EQ(normaliser, 4u);
  EXPECT_EQ(init.size() - matched - normaliser, static_cast<std::size_t>(std::count_if(
      init.begin(), init.end(), [](const auto& kv) { return kv.first.rfind("const.", 0) == 0; })));

  std::map<std::string, std::string> meta;
  for (const auto& p : m.metadata_props()) meta[p.key()] = p.value();
  EXPECT_EQ(meta["ser.class_names"], "[\"anger\",\"happiness\",\"neutral\",\"sadness\"]");
  EXPECT_EQ(meta["ser.n_mels"], std::to_string(kMels));
  // Training-only ops never reach the graph.
  for (const auto& node : m.graph().node()) EXPECT_NE(node.op_type(), "Dropout");
}

TEST(OnnxExport, StrictShapeInferenceGivesNByK) {
  for (const char* toml : {kAttnAfter1, "conv_channels = [4, 8]\nattention_after = 0\nfuse_prosody = false\n"
                                        "temporal_pool = \"mean\"\ndense = [16]\n"}) {
    SCOPED_TRACE(toml);
    const engine::Checkpoint ck = random_checkpoint(config_from(toml), 5);
    test::TempDir dir;
    export_onnx(ck, dir.file("m.onnx"));
    onnx::ModelProto m = load(dir.file("m.onnx"));
    for (auto& o : *m.mutable_graph()->mutable_output()) o.mutable_type()->mutable_tensor_type()->clear_shape();
    ASSERT_NO_THROW(onnx::shape_inference::InferShapes(m, onnx::OpSchemaRegistry::Instance(),
                                                       onnx::ShapeInferenceOptions(true, 1)));
    for (const auto& o : m.graph().output()) {
      const auto& s = o.type().tensor_type().shape();
      ASSERT_EQ(s.dim_size(), 2) << o.name();
      EXPECT_EQ(s.dim(0).dim_param(), "N") << o.name();
      EXPECT_EQ(s.dim(1).dim_value(), kClasses) << o.name();
    }
  }
}

TEST(OnnxExport, RefusesCheckpointThatDoesNotFitItsConfig) {
  const RunConfig rc = config_from(kAttnAfter1);
  test::TempDir dir;
  const std::string path = dir.file("bad.onnx");
  {
    engine::Checkpoint ck = random_checkpoint(rc, 7);
    ck.param_entries[0].shape[0] += 1;  // blocks.0.conv.weight
    EXPECT_THROW(export_onnx(ck, path), Error);
  }
  {
    engine::Checkpoint ck = random_checkpoint(rc, 7);
    ck.normalizer.logmel_mean.pop_back();
    EXPECT_THROW(export_onnx(ck, path), Error);
  }
  {
    engine::Checkpoint ck = random_checkpoint(rc, 7);
    ck.class_names.pop_back();  // the classifier is 4 wide, the names say 3
    EXPECT_THROW(export_onnx(ck, path), Error);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  const engine::Checkpoint ck = random_checkpoint(rc, 7);
  EXPECT_THROW(export_onnx(ck, dir.file("no/such/folder/m.onnx")), Error);
}

TEST(OnnxParity, AttentionAfterFirstBlockAttentionPoolingProsody) {
  expect_graph_matches_engine(kAttnAfter1, 3, 20, 21);
}

TEST(OnnxParity, AttentionAfterLastBlockMeanPoolingNoProsody) {
  expect_graph_matches_engine("conv_channels = [4, 8]\nattention_after = 2\nattention_heads = 3\n"
                              "attention_head_dim = 2\ntemporal_pool = \"mean\"\nfuse_prosody = false\n"
                              "dense = [16]\n", 2, 17, 31);
}

TEST(OnnxParity, NoAttentionNoBatchNormWideKernelTwoDense) {
  expect_graph_matches_engine("conv_channels = [4, 8]\nattention_after = 0\nbatchnorm = false\n"
                              "kernel_time = 5\nkernel_freq = 3\npool_time = 2\npool_freq = 1\n"
                              "temporal_pool = \"attention\"\nfuse_prosody = true\ndense = [16, 8]\n", 3, 15, 41);
}

TEST(OnnxParity, ShortUtteranceIsPaddedAsTheLoaderDoes) {
  const RunConfig rc = config_from(kAttnAfter1);
  const nn::Model<float> m(rc.model, nn::ModelInputs{kMels, kFunctionals, kClasses});
  ASSERT_GT(m.min_frames(), 2);
  expect_graph_matches_engine(kAttnAfter1, 2, m.min_frames() - 2, 51);
}

// Δ and ΔΔ input channels: the graph's edge-padded convolutions against the engine's op.
TEST(OnnxParity, PreNormAttentionAfterFirstBlock) {
  expect_graph_matches_engine(std::string(kAttnAfter1) + "attention_pre_norm = true\n", 3, 17, 53);
}
TEST(OnnxParity, PreNormAttentionOfAShortPaddedUtterance) {
  const std::string cfg = std::string(kAttnAfter1).append("attention_pre_norm = true\n");
  const RunConfig rc = config_from(cfg);
  const nn::Model<float> m(rc.model, nn::ModelInputs{kMels, kFunctionals, kClasses});
  expect_graph_matches_engine(cfg, 2, m.min_frames() - 2, 59);
}
TEST(OnnxParity, DeltaAndDeltaDeltaInputChannels) {
  expect_graph_matches_engine(std::string("deltas = 2\n").append(kAttnAfter1), 3, 19, 71);
}

TEST(OnnxParity, DeltaChannelsOfAShortPaddedUtterance) {
  const std::string cfg = std::string("deltas = 1\n").append(kAttnAfter1);
  const RunConfig rc = config_from(cfg);
  const nn::Model<float> m(rc.model, nn::ModelInputs{kMels, kFunctionals, kClasses});
  expect_graph_matches_engine(cfg, 2, m.min_frames() - 2, 81);
}

TEST(OnnxParity, FunctionalsOnlyMlp) {
  expect_graph_matches_engine("input = \"functionals\"\nattention_after = 0\nfuse_prosody = false\ndense = [16, 8]\n",
                              3, 10, 61);
}

}  // namespace
}  // namespace ser
