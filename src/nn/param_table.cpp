// src/nn/param_table.cpp — parameter table, initial values, decay mask.
#include "nn/param_table.hpp"

#include <cmath>
#include <stdexcept>

#include "ser/error.hpp"
#include "ser/nn/counter_rng.hpp"

namespace ser::nn {

std::int64_t ParamEntry::count() const {
  std::int64_t c = 1;
  for (int d : shape) c *= d;
  return c;
}

int ParamTable::add(std::string name, std::vector<int> shape, Init init, int fan_in, bool decay) {
  if (find(name) >= 0) throw Error("parameter '" + name + "' declared twice");
  ParamEntry e;
  e.name = std::move(name);
  e.shape = std::move(shape);
  e.offset = total_;
  e.init = init;
  e.fan_in = fan_in;
  e.decay = decay;
  total_ += (e.count() + 63) / 64 * 64;
  entries_.push_back(std::move(e));
  return static_cast<int>(entries_.size()) - 1;
}

std::int64_t ParamTable::payload() const {
  std::int64_t c = 0;
  for (const auto& e : entries_) c += e.count();
  return c;
}

int ParamTable::find(const std::string& name) const {
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].name == name) return static_cast<int>(i);
  return -1;
}

template <typename T>
std::vector<T> ParamTable::initial_values(std::uint64_t seed) const {
  std::vector<T> v(static_cast<std::size_t>(total_), T(0));
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const auto& e = entries_[i];
    const double bound = 1.0 / std::sqrt(static_cast<double>(std::max(e.fan_in, 1)));
    const std::uint64_t tensor_seed = mix64(seed ^ mix64(0x5eed0000ULL + i));
    for (std::int64_t j = 0; j < e.count(); ++j) {
      T& x = v[static_cast<std::size_t>(e.offset + j)];
      switch (e.init) {
        case Init::zeros: x = T(0); break;
        case Init::ones: x = T(1); break;
        case Init::kaiming_uniform:
        case Init::bias_uniform:
          x = static_cast<T>((2.0 * uniform01(tensor_seed, static_cast<std::uint64_t>(j)) - 1.0) * bound);
          break;
      }
    }
  }
  return v;
}
template std::vector<float> ParamTable::initial_values<float>(std::uint64_t) const;
template std::vector<double> ParamTable::initial_values<double>(std::uint64_t) const;

std::vector<std::uint8_t> ParamTable::decay_mask() const {
  std::vector<std::uint8_t> m(static_cast<std::size_t>(total_), 0);
  for (const auto& e : entries_)
    if (e.decay)
      for (std::int64_t j = 0; j < e.count(); ++j) m[static_cast<std::size_t>(e.offset + j)] = 1;
  return m;
}

std::string shape_string(const std::vector<int>& shape) {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s.push_back('x');
    s.append(std::to_string(shape[i]));
  }
  return s.empty() ? "scalar" : s;
}

}  // namespace ser::nn
