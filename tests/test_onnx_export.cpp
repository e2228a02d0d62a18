// ONNX export of a checkpoint's inference graph: the ONNX checker and strict shape inference accept
// the file, inputs, outputs and initializers are as documented (docs/export_onnx.md), and the graph
// computes ser's logits. Without an ONNX runtime in C++, the numbers come from a small reference
// interpreter below (double precision, naive loops, exactly the ops the exporter emits), run on the
// exported ModelProto and compared with the engine's own forward pass (nn::Model<double>, inference
// mode) fed by the trainer's batch maker on the same raw features.
#include <gtest/gtest.h>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "export/onnx_export.hpp"
#include "checkpoint_test_util.hpp"
#include "nn/model.hpp"
#include "nn_test_util.hpp"
#include "ser/cache.hpp"
#include "ser/error.hpp"
#include "ser/model_config.hpp"
#include "test_util.hpp"
#include "train/checkpoint.hpp"
#include "train/dataset.hpp"

namespace ser {
namespace {

// ================================ reference interpreter =========================================

using Dims = std::vector<std::int64_t>;

struct Tensor {
  Dims dims;
  std::vector<double> v;  // int64 and bool values held as doubles (small integers, exact)
  std::int64_t count() const {
    std::int64_t n = 1;
    for (auto d : dims) n *= d;
    return n;
  }
};

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("interpreter: " + what); }

Tensor from_proto(const onnx::TensorProto& t) {
  Tensor r;
  for (auto d : t.dims()) r.dims.push_back(d);
  const auto n = static_cast<std::size_t>(r.count());
  r.v.resize(n);
  if (t.data_type() == onnx::TensorProto::FLOAT) {
    if (!t.raw_data().empty()) {
      if (t.raw_data().size() != n * 4) fail("raw_data size of " + t.name());
      std::vector<float> f(n);
      std::memcpy(f.data(), t.raw_data().data(), n * 4);
      for (std::size_t i = 0; i < n; ++i) r.v[i] = f[i];
    } else {
      if (static_cast<std::size_t>(t.float_data_size()) != n) fail("float_data size of " + t.name());
      for (std::size_t i = 0; i < n; ++i) r.v[i] = t.float_data(static_cast<int>(i));
    }
  } else if (t.data_type() == onnx::TensorProto::INT64) {
    if (!t.raw_data().empty()) {
      if (t.raw_data().size() != n * 8) fail("raw_data size of " + t.name());
      std::vector<std::int64_t> q(n);
      std::memcpy(q.data(), t.raw_data().data(), n * 8);
      for (std::size_t i = 0; i < n; ++i) r.v[i] = static_cast<double>(q[i]);
    } else {
      for (std::size_t i = 0; i < n; ++i) r.v[i] = static_cast<double>(t.int64_data(static_cast<int>(i)));
    }
  } else {
    fail(std::string("tensor type ").append(std::to_string(t.data_type())).append(" of ").append(t.name()));
  }
  return r;
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
std::int64_t attr_i(const onnx::NodeProto& n, const std::string& name, std::int64_t def) {
  const auto* a = find_attr(n, name);
  return a ? a->i() : def;
}
float attr_f(const onnx::NodeProto& n, const std::string& name, float def) {
  const auto* a = find_attr(n, name);
  return a ? a->f() : def;
}
Dims attr_ints(const onnx::NodeProto& n, const std::string& name) {
  const auto* a = find_attr(n, name);
  if (!a) fail(n.op_type() + " lacks attribute " + name);
  return Dims(a->ints().begin(), a->ints().end());
}

Dims unravel(std::int64_t flat, const Dims& dims) {
  Dims idx(dims.size());
  for (std::size_t i = dims.size(); i-- > 0;) {
    idx[i] = flat % dims[i];
    flat /= dims[i];
  }
  return idx;
}

// Offset into a tensor of `dims` for the multi-index of a (numpy-)broadcast result.
std::int64_t broadcast_offset(const Dims& dims, const Dims& idx) {
  std::int64_t off = 0, stride = 1;
  for (std::size_t i = dims.size(); i-- > 0;) {
    const std::size_t j = idx.size() - dims.size() + i;
    off += (dims[i] == 1 ? 0 : idx[j]) * stride;
    stride *= dims[i];
  }
  return off;
}

Dims broadcast_dims(const std::vector<const Tensor*>& ins) {
  std::size_t rank = 0;
  for (const auto* t : ins) rank = std::max(rank, t->dims.size());
  Dims out(rank, 1);
  for (const auto* t : ins)
    for (std::size_t i = 0; i < t->dims.size(); ++i) {
      const std::size_t j = rank - t->dims.size() + i;
      const std::int64_t d = t->dims[i];
      if (d != 1) {
        if (out[j] != 1 && out[j] != d) fail("shapes do not broadcast");
        out[j] = d;
      }
    }
  return out;
}

template <typename F>
Tensor elementwise(const std::vector<const Tensor*>& ins, F f) {
  Tensor r;
  r.dims = broadcast_dims(ins);
  r.v.resize(static_cast<std::size_t>(r.count()));
  std::vector<double> args(ins.size());
  for (std::int64_t o = 0; o < r.count(); ++o) {
    const Dims idx = unravel(o, r.dims);
    for (std::size_t k = 0; k < ins.size(); ++k)
      args[k] = ins[k]->v[static_cast<std::size_t>(broadcast_offset(ins[k]->dims, idx))];
    r.v[static_cast<std::size_t>(o)] = f(args);
  }
  return r;
}

std::int64_t norm_axis(std::int64_t axis, std::size_t rank) {
  return axis < 0 ? axis + static_cast<std::int64_t>(rank) : axis;
}

// outer x len x inner split of dims around one axis.
void split_axis(const Dims& d, std::int64_t axis, std::int64_t& outer, std::int64_t& len, std::int64_t& inner) {
  outer = inner = 1;
  for (std::int64_t i = 0; i < axis; ++i) outer *= d[static_cast<std::size_t>(i)];
  len = d[static_cast<std::size_t>(axis)];
  for (std::size_t i = static_cast<std::size_t>(axis) + 1; i < d.size(); ++i) inner *= d[i];
}

Tensor softmax(const Tensor& x, std::int64_t axis) {
  std::int64_t outer, len, inner;
  split_axis(x.dims, norm_axis(axis, x.dims.size()), outer, len, inner);
  Tensor r = x;
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < inner; ++i) {
      auto at = [&](std::int64_t j) -> double& { return r.v[static_cast<std::size_t>((o * len + j) * inner + i)]; };
      double mx = -std::numeric_limits<double>::infinity(), sum = 0;
      for (std::int64_t j = 0; j < len; ++j) mx = std::max(mx, at(j));
      for (std::int64_t j = 0; j < len; ++j) sum += (at(j) = std::exp(at(j) - mx));
      for (std::int64_t j = 0; j < len; ++j) at(j) /= sum;
    }
  return r;
}

Tensor reduce(const Tensor& x, const Dims& axes, bool keepdims, bool mean) {
  if (axes.size() != 1) fail("reductions over one axis only");
  const std::int64_t axis = norm_axis(axes[0], x.dims.size());
  std::int64_t outer, len, inner;
  split_axis(x.dims, axis, outer, len, inner);
  Tensor r;
  r.dims = x.dims;
  if (keepdims) r.dims[static_cast<std::size_t>(axis)] = 1;
  else r.dims.erase(r.dims.begin() + axis);
  r.v.assign(static_cast<std::size_t>(outer * inner), 0.0);
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < inner; ++i) {
      double s = 0;
      for (std::int64_t j = 0; j < len; ++j) s += x.v[static_cast<std::size_t>((o * len + j) * inner + i)];
      r.v[static_cast<std::size_t>(o * inner + i)] = mean ? s / static_cast<double>(len) : s;
    }
  return r;
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.dims.size() < 2 || b.dims.size() < 2) fail("MatMul of rank < 2");
  const std::int64_t m = a.dims[a.dims.size() - 2], k = a.dims.back(), n = b.dims.back();
  if (b.dims[b.dims.size() - 2] != k) fail("MatMul inner dimensions differ");
  Tensor ab, bb;  // batch parts only, for broadcasting
  ab.dims.assign(a.dims.begin(), a.dims.end() - 2);
  bb.dims.assign(b.dims.begin(), b.dims.end() - 2);
  const Dims batch = broadcast_dims({&ab, &bb});
  Tensor r;
  r.dims = batch;
  r.dims.push_back(m);
  r.dims.push_back(n);
  std::int64_t nb = 1;
  for (auto d : batch) nb *= d;
  r.v.assign(static_cast<std::size_t>(nb * m * n), 0.0);
  for (std::int64_t q = 0; q < nb; ++q) {
    const Dims idx = unravel(q, batch);
    const double* pa = a.v.data() + broadcast_offset(ab.dims, idx) * m * k;
    const double* pb = b.v.data() + broadcast_offset(bb.dims, idx) * k * n;
    double* pr = r.v.data() + q * m * n;
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::int64_t l = 0; l < k; ++l) s += pa[i * k + l] * pb[l * n + j];
        pr[i * n + j] = s;
      }
  }
  return r;
}

Tensor gemm(const onnx::NodeProto& node, const Tensor& a, const Tensor& b, const Tensor& c) {
  if (attr_i(node, "transA", 0) != 0 || attr_f(node, "alpha", 1) != 1 || attr_f(node, "beta", 1) != 1)
    fail("Gemm with transA/alpha/beta");
  const bool tb = attr_i(node, "transB", 0) != 0;
  const std::int64_t m = a.dims[0], k = a.dims[1], n = tb ? b.dims[0] : b.dims[1];
  Tensor r;
  r.dims = {m, n};
  r.v.resize(static_cast<std::size_t>(m * n));
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::int64_t l = 0; l < k; ++l)
        s += a.v[static_cast<std::size_t>(i * k + l)] * b.v[static_cast<std::size_t>(tb ? j * k + l : l * n + j)];
      r.v[static_cast<std::size_t>(i * n + j)] = s + c.v[static_cast<std::size_t>(broadcast_offset(c.dims, {i, j}))];
    }
  return r;
}

Tensor conv(const onnx::NodeProto& node, const Tensor& x, const Tensor& w, const Tensor& b) {
  const Dims pads = attr_ints(node, "pads"), st = attr_ints(node, "strides");
  if (attr_i(node, "group", 1) != 1 || attr_ints(node, "dilations") != Dims{1, 1}) fail("Conv with groups/dilation");
  const std::int64_t n = x.dims[0], c = x.dims[1], h = x.dims[2], wd = x.dims[3];
  const std::int64_t m = w.dims[0], kh = w.dims[2], kw = w.dims[3];
  if (w.dims[1] != c) fail("Conv channels");
  const std::int64_t ho = (h + pads[0] + pads[2] - kh) / st[0] + 1, wo = (wd + pads[1] + pads[3] - kw) / st[1] + 1;
  Tensor r;
  r.dims = {n, m, ho, wo};
  r.v.resize(static_cast<std::size_t>(r.count()));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t o = 0; o < m; ++o)
      for (std::int64_t y = 0; y < ho; ++y)
        for (std::int64_t z = 0; z < wo; ++z) {
          double s = b.v[static_cast<std::size_t>(o)];
          for (std::int64_t ci = 0; ci < c; ++ci)
            for (std::int64_t p = 0; p < kh; ++p)
              for (std::int64_t q = 0; q < kw; ++q) {
                const std::int64_t iy = y * st[0] - pads[0] + p, iz = z * st[1] - pads[1] + q;
                if (iy < 0 || iy >= h || iz < 0 || iz >= wd) continue;
                s += x.v[static_cast<std::size_t>(((i * c + ci) * h + iy) * wd + iz)] *
                     w.v[static_cast<std::size_t>(((o * c + ci) * kh + p) * kw + q)];
              }
          r.v[static_cast<std::size_t>(((i * m + o) * ho + y) * wo + z)] = s;
        }
  return r;
}

// Pad in "edge" mode (the only one the export uses): each axis extended by repeating its first and
// last entries; pads = [begin of every axis, end of every axis].
Tensor pad_edge(const onnx::NodeProto& node, const Tensor& x, const Tensor& pads) {
  const auto* mode = find_attr(node, "mode");
  if (!mode || mode->s() != "edge") fail("Pad in a mode other than edge");
  const std::size_t rank = x.dims.size();
  if (pads.v.size() != 2 * rank) fail("Pad with pads not of 2 x rank entries");
  Tensor r;
  for (std::size_t a = 0; a < rank; ++a)
    r.dims.push_back(x.dims[a] + static_cast<std::int64_t>(pads.v[a] + pads.v[a + rank]));
  r.v.resize(static_cast<std::size_t>(r.count()));
  for (std::int64_t i = 0; i < r.count(); ++i) {
    Dims idx = unravel(i, r.dims);
    std::int64_t src = 0;
    for (std::size_t a = 0; a < rank; ++a)
      src = src * x.dims[a] + std::clamp<std::int64_t>(idx[a] - static_cast<std::int64_t>(pads.v[a]), 0, x.dims[a] - 1);
    r.v[static_cast<std::size_t>(i)] = x.v[static_cast<std::size_t>(src)];
  }
  return r;
}

Tensor maxpool(const onnx::NodeProto& node, const Tensor& x) {
  const Dims k = attr_ints(node, "kernel_shape"), st = attr_ints(node, "strides");
  if (attr_ints(node, "pads") != Dims{0, 0, 0, 0} || attr_i(node, "ceil_mode", 0) != 0) fail("MaxPool padding/ceil");
  const std::int64_t n = x.dims[0], c = x.dims[1], h = x.dims[2], w = x.dims[3];
  const std::int64_t ho = (h - k[0]) / st[0] + 1, wo = (w - k[1]) / st[1] + 1;
  Tensor r;
  r.dims = {n, c, ho, wo};
  r.v.resize(static_cast<std::size_t>(r.count()));
  for (std::int64_t i = 0; i < n * c; ++i)
    for (std::int64_t y = 0; y < ho; ++y)
      for (std::int64_t z = 0; z < wo; ++z) {
        double mx = -std::numeric_limits<double>::infinity();
        for (std::int64_t p = 0; p < k[0]; ++p)
          for (std::int64_t q = 0; q < k[1]; ++q)
            mx = std::max(mx, x.v[static_cast<std::size_t>((i * h + y * st[0] + p) * w + z * st[1] + q)]);
        r.v[static_cast<std::size_t>((i * ho + y) * wo + z)] = mx;
      }
  return r;
}

Tensor transpose(const Tensor& x, const Dims& perm) {
  Tensor r;
  for (auto p : perm) r.dims.push_back(x.dims[static_cast<std::size_t>(p)]);
  r.v.resize(x.v.size());
  Dims in(x.dims.size());
  for (std::int64_t o = 0; o < r.count(); ++o) {
    const Dims idx = unravel(o, r.dims);
    for (std::size_t i = 0; i < perm.size(); ++i) in[static_cast<std::size_t>(perm[i])] = idx[i];
    std::int64_t off = 0;
    for (std::size_t i = 0; i < in.size(); ++i) off = off * x.dims[i] + in[i];
    r.v[static_cast<std::size_t>(o)] = x.v[static_cast<std::size_t>(off)];
  }
  return r;
}

Tensor reshape(const Tensor& x, const Tensor& shape) {
  Tensor r = x;
  r.dims.clear();
  std::int64_t known = 1, infer = -1;
  for (std::size_t i = 0; i < shape.v.size(); ++i) {
    auto d = static_cast<std::int64_t>(shape.v[i]);
    if (d == 0) d = x.dims.at(i);
    if (d == -1) infer = static_cast<std::int64_t>(i);
    else known *= d;
    r.dims.push_back(d);
  }
  if (infer >= 0) r.dims[static_cast<std::size_t>(infer)] = x.count() / known;
  if (r.count() != x.count()) fail("Reshape changes the element count");
  return r;
}

Tensor concat(const std::vector<const Tensor*>& ins, std::int64_t axis) {
  axis = norm_axis(axis, ins[0]->dims.size());
  Tensor r;
  r.dims = ins[0]->dims;
  r.dims[static_cast<std::size_t>(axis)] = 0;
  for (const auto* t : ins) r.dims[static_cast<std::size_t>(axis)] += t->dims[static_cast<std::size_t>(axis)];
  std::int64_t outer, len, inner;
  split_axis(ins[0]->dims, axis, outer, len, inner);
  for (std::int64_t o = 0; o < outer; ++o)
    for (const auto* t : ins) {
      const std::int64_t block = t->dims[static_cast<std::size_t>(axis)] * inner;
      r.v.insert(r.v.end(), t->v.begin() + o * block, t->v.begin() + (o + 1) * block);
    }
  return r;
}

Tensor eval_node(const onnx::NodeProto& node, const std::vector<const Tensor*>& in) {
  const std::string& op = node.op_type();
  auto arg = [&](std::size_t i) -> const Tensor& {
    if (i >= in.size() || !in[i]) fail(std::string(op).append(" lacks input ").append(std::to_string(i)));
    return *in[i];
  };
  if (op == "Add") return elementwise({&arg(0), &arg(1)}, [](const auto& a) { return a[0] + a[1]; });
  if (op == "Sub") return elementwise({&arg(0), &arg(1)}, [](const auto& a) { return a[0] - a[1]; });
  if (op == "Mul") return elementwise({&arg(0), &arg(1)}, [](const auto& a) { return a[0] * a[1]; });
  if (op == "Div") return elementwise({&arg(0), &arg(1)}, [](const auto& a) { return a[0] / a[1]; });
  if (op == "Max") return elementwise({&arg(0), &arg(1)}, [](const auto& a) { return std::max(a[0], a[1]); });
  if (op == "Or") return elementwise({&arg(0), &arg(1)}, [](const auto& a) { return double(a[0] != 0 || a[1] != 0); });
  if (op == "Where")
    return elementwise({&arg(0), &arg(1), &arg(2)}, [](const auto& a) { return a[0] != 0 ? a[1] : a[2]; });
  if (op == "Relu") return elementwise({&arg(0)}, [](const auto& a) { return std::max(a[0], 0.0); });
  if (op == "IsNaN") return elementwise({&arg(0)}, [](const auto& a) { return double(std::isnan(a[0])); });
  if (op == "IsInf") return elementwise({&arg(0)}, [](const auto& a) { return double(std::isinf(a[0])); });
  if (op == "Clip")
    return elementwise({&arg(0), &arg(1), &arg(2)}, [](const auto& a) { return std::min(std::max(a[0], a[1]), a[2]); });
  if (op == "Softmax") return softmax(arg(0), attr_i(node, "axis", -1));
  if (op == "ReduceMean") return reduce(arg(0), attr_ints(node, "axes"), attr_i(node, "keepdims", 1) != 0, true);
  if (op == "ReduceSum") {
    const Tensor& ax = arg(1);
    return reduce(arg(0), Dims(ax.v.begin(), ax.v.end()), attr_i(node, "keepdims", 1) != 0, false);
  }
  if (op == "MatMul") return matmul(arg(0), arg(1));
  if (op == "Gemm") return gemm(node, arg(0), arg(1), arg(2));
  if (op == "Conv") return conv(node, arg(0), arg(1), arg(2));
  if (op == "Pad") return pad_edge(node, arg(0), arg(1));
  if (op == "MaxPool") return maxpool(node, arg(0));
  if (op == "BatchNormalization") {
    const double eps = attr_f(node, "epsilon", 1e-5f);
    const Tensor &x = arg(0), &g = arg(1), &b = arg(2), &m = arg(3), &v = arg(4);
    Tensor r = x;
    const std::int64_t c = x.dims[1], hw = x.count() / (x.dims[0] * c);
    for (std::int64_t i = 0; i < x.count(); ++i) {
      const auto ch = static_cast<std::size_t>((i / hw) % c);
      r.v[static_cast<std::size_t>(i)] = (x.v[static_cast<std::size_t>(i)] - m.v[ch]) / std::sqrt(v.v[ch] + eps) * g.v[ch] + b.v[ch];
    }
    return r;
  }
  if (op == "LayerNormalization") {  // over the last axis only, as the exporter emits it
    if (attr_i(node, "axis", -1) != -1) fail("LayerNormalization: only axis -1 is interpreted");
    const double eps = attr_f(node, "epsilon", 1e-5f);
    const Tensor &x = arg(0), &g = arg(1), &b = arg(2);
    const auto d = static_cast<std::size_t>(x.dims.back());
    Tensor r = x;
    for (std::size_t row = 0; row < x.v.size() / d; ++row) {
      double mean = 0, var = 0;
      for (std::size_t i = 0; i < d; ++i) mean += x.v[row * d + i];
      mean /= static_cast<double>(d);
      for (std::size_t i = 0; i < d; ++i) var += (x.v[row * d + i] - mean) * (x.v[row * d + i] - mean);
      var /= static_cast<double>(d);
      for (std::size_t i = 0; i < d; ++i)
        r.v[row * d + i] = (x.v[row * d + i] - mean) / std::sqrt(var + eps) * g.v[i] + b.v[i];
    }
    return r;
  }
  if (op == "Transpose") return transpose(arg(0), attr_ints(node, "perm"));
  if (op == "Reshape") return reshape(arg(0), arg(1));
  if (op == "Concat") return concat(in, attr_i(node, "axis", 0));
  if (op == "Unsqueeze") {
    Tensor r = arg(0);
    Dims axes(arg(1).v.begin(), arg(1).v.end());
    const std::size_t rank = r.dims.size() + axes.size();
    for (auto& a : axes) a = norm_axis(a, rank);
    std::sort(axes.begin(), axes.end());
    for (auto a : axes) r.dims.insert(r.dims.begin() + a, 1);
    return r;
  }
  if (op == "Shape") {
    Tensor r;
    r.dims = {static_cast<std::int64_t>(arg(0).dims.size())};
    for (auto d : arg(0).dims) r.v.push_back(static_cast<double>(d));
    return r;
  }
  if (op == "Gather") {
    if (attr_i(node, "axis", 0) != 0 || arg(0).dims.size() != 1) fail("Gather beyond axis 0 of a vector");
    Tensor r;
    r.dims = arg(1).dims;
    for (double i : arg(1).v) r.v.push_back(arg(0).v.at(static_cast<std::size_t>(i)));
    return r;
  }
  if (op == "ConstantOfShape") {
    const auto* a = find_attr(node, "value");
    const double value = a ? from_proto(a->t()).v.at(0) : 0.0;
    Tensor r;
    r.dims.assign(arg(0).v.begin(), arg(0).v.end());
    r.v.assign(static_cast<std::size_t>(r.count()), value);
    return r;
  }
  fail("no op " + op + " (the exporter emits an op this interpreter does not know)");
}

std::map<std::string, Tensor> interpret(const onnx::ModelProto& model, std::map<std::string, Tensor> env) {
  for (const auto& init : model.graph().initializer()) env[init.name()] = from_proto(init);
  for (const auto& node : model.graph().node()) {
    std::vector<const Tensor*> in;
    for (const auto& name : node.input()) {
      if (name.empty()) { in.push_back(nullptr); continue; }
      auto it = env.find(name);
      if (it == env.end()) fail(node.op_type() + " reads '" + name + "' before it exists");
      in.push_back(&it->second);
    }
    if (node.output_size() != 1) fail(node.op_type() + " with several outputs");
    env[node.output(0)] = eval_node(node, in);
  }
  std::map<std::string, Tensor> out;
  for (const auto& o : model.graph().output()) out[o.name()] = env.at(o.name());
  return out;
}

// ================================ test models and data ==========================================

constexpr int kMels = 12, kFunctionals = 5, kClasses = 4;

RunConfig config_from(const std::string& model_toml) {
  return parse_run_config("[model]\nname = \"tiny\"\n" + model_toml, "test config");
}

// A checkpoint with random non-zero weights, running statistics and normaliser.
train::Checkpoint random_checkpoint(const RunConfig& rc, std::uint64_t seed) {
  train::Checkpoint ck = test::random_model_checkpoint(rc, kMels, kFunctionals, {"anger", "happiness", "neutral", "sadness"}, seed);
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
std::vector<double> engine_logits(const train::Checkpoint& ck, const FeatureCache& cache) {
  const RunConfig rc = parse_run_config(ck.run_config_toml, "checkpoint");
  nn::Model<double> m(rc.model, nn::ModelInputs{ck.n_mels, ck.n_prosody, kClasses});
  const train::BatchMaker maker(cache, ck.normalizer, m.min_frames());
  std::vector<int> all(cache.n_utterances());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  train::HostBatch b;
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
  const train::Checkpoint ck = random_checkpoint(rc, seed);
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
  train::write_checkpoint(dir.file("ck.h5"), random_checkpoint(rc, 3));
  const train::Checkpoint ck = train::read_checkpoint(dir.file("ck.h5"));
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
    const train::Checkpoint ck = random_checkpoint(config_from(toml), 5);
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
    train::Checkpoint ck = random_checkpoint(rc, 7);
    ck.param_entries[0].shape[0] += 1;  // blocks.0.conv.weight
    EXPECT_THROW(export_onnx(ck, path), Error);
  }
  {
    train::Checkpoint ck = random_checkpoint(rc, 7);
    ck.normalizer.logmel_mean.pop_back();
    EXPECT_THROW(export_onnx(ck, path), Error);
  }
  {
    train::Checkpoint ck = random_checkpoint(rc, 7);
    ck.class_names.pop_back();  // the classifier is 4 wide, the names say 3
    EXPECT_THROW(export_onnx(ck, path), Error);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  const train::Checkpoint ck = random_checkpoint(rc, 7);
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
