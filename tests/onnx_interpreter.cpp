// tests/onnx_interpreter.cpp — the reference ONNX interpreter of the export tests (onnx_interpreter.hpp).
#include "onnx_interpreter.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace ser::onnx_reference {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("interpreter: " + what); }

}  // namespace

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

namespace {

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

}  // namespace

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


}  // namespace ser::onnx_reference
