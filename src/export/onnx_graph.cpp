// src/export/onnx_graph.cpp — the GraphProto builder used by the ONNX export.
#include "export/onnx_graph.hpp"

#include <bit>
#include <cstring>

#include "ser/error.hpp"

namespace ser::onnx_export {

static_assert(std::endian::native == std::endian::little,
              "raw_data is little-endian; a big-endian host would need a byte swap here");

Attr attr_int(const std::string& name, std::int64_t v) {
  Attr a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(v);
  return a;
}

Attr attr_ints(const std::string& name, const std::vector<std::int64_t>& v) {
  Attr a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (std::int64_t x : v) a.add_ints(x);
  return a;
}

Attr attr_float(const std::string& name, float v) {
  Attr a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(v);
  return a;
}

Attr attr_string(const std::string& name, const std::string& v) {
  Attr a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRING);
  a.set_s(v);
  return a;
}

Attr attr_tensor(const std::string& name, const onnx::TensorProto& t) {
  Attr a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::TENSOR);
  *a.mutable_t() = t;
  return a;
}

namespace {

std::int64_t element_count(const std::vector<std::int64_t>& dims) {
  std::int64_t n = 1;
  for (std::int64_t d : dims) n *= d;
  return n;
}

template <typename V>
onnx::TensorProto raw_tensor(const std::string& name, const std::vector<std::int64_t>& dims, const V* data,
                             onnx::TensorProto::DataType type) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(type);
  for (std::int64_t d : dims) t.add_dims(d);
  const auto bytes = static_cast<std::size_t>(element_count(dims)) * sizeof(V);
  std::string raw(bytes, '\0');
  if (bytes) std::memcpy(raw.data(), data, bytes);
  t.set_raw_data(std::move(raw));
  return t;
}

}  // namespace

onnx::TensorProto float_tensor(const std::string& name, const std::vector<std::int64_t>& dims, const float* data) {
  return raw_tensor(name, dims, data, onnx::TensorProto::FLOAT);
}

onnx::TensorProto int64_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                               const std::int64_t* data) {
  return raw_tensor(name, dims, data, onnx::TensorProto::INT64);
}

std::string GraphBuilder::fresh(const std::string& stem) {
  if (names_.insert(stem).second) return stem;
  for (int& k = next_[stem];;) {
    std::string name(stem);
    name.append("_").append(std::to_string(++k));
    if (names_.insert(name).second) return name;
  }
}

std::string GraphBuilder::weight(const std::string& name, const std::vector<std::int64_t>& dims, const float* data) {
  if (!names_.insert(name).second) throw Error("onnx export: the tensor name '" + name + "' is used twice");
  *g_->add_initializer() = float_tensor(name, dims, data);
  return name;
}

std::string GraphBuilder::float_const(const std::vector<std::int64_t>& dims, const std::vector<float>& values) {
  const onnx::TensorProto probe = float_tensor("", dims, values.data());
  const std::string key = std::string("f").append(probe.SerializeAsString());
  if (auto it = consts_.find(key); it != consts_.end()) return it->second;
  const std::string name = fresh("const.f");
  *g_->add_initializer() = float_tensor(name, dims, values.data());
  return consts_[key] = name;
}

std::string GraphBuilder::int64_const(const std::vector<std::int64_t>& dims, const std::vector<std::int64_t>& values) {
  const onnx::TensorProto probe = int64_tensor("", dims, values.data());
  const std::string key = std::string("i").append(probe.SerializeAsString());
  if (auto it = consts_.find(key); it != consts_.end()) return it->second;
  const std::string name = fresh("const.i");
  *g_->add_initializer() = int64_tensor(name, dims, values.data());
  return consts_[key] = name;
}

std::string GraphBuilder::node(const std::string& op, const std::vector<std::string>& inputs,
                               const std::vector<Attr>& attrs, const std::string& out) {
  onnx::NodeProto* n = g_->add_node();
  n->set_op_type(op);
  std::string node_name(op);
  n->set_name(node_name.append("_").append(std::to_string(nodes_++)));
  for (const auto& in : inputs) n->add_input(in);
  for (const auto& a : attrs) *n->add_attribute() = a;
  const std::string y = out.empty() ? fresh(op) : out;
  if (!out.empty() && !names_.insert(out).second)
    throw Error("onnx export: the value name '" + out + "' is used twice");
  n->add_output(y);
  return y;
}

namespace {

void set_type(onnx::ValueInfoProto* v, const std::string& name, const std::vector<Dim>& dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = t->mutable_shape();
  for (const Dim& d : dims) {
    auto* sd = shape->add_dim();
    if (d.value >= 0) sd->set_dim_value(d.value);
    else sd->set_dim_param(d.param);
  }
}

}  // namespace

void GraphBuilder::input(const std::string& name, const std::vector<Dim>& dims) {
  if (!names_.insert(name).second) throw Error("onnx export: the input name '" + name + "' is used twice");
  set_type(g_->add_input(), name, dims);
}

void GraphBuilder::output(const std::string& name, const std::vector<Dim>& dims) {
  set_type(g_->add_output(), name, dims);
}

}  // namespace ser::onnx_export
