// src/util/toml_parse.hpp — reading TOML files (run configs, experiment files): parsing with errors as
// ser::Error "FILE:LINE: TOML syntax error: ...", and typed reading of one table's keys with errors
// that name the file, the table and the key, and with unknown keys rejected.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <toml++/toml.h>

#include "ser/error.hpp"

namespace ser {

toml::table parse_toml(const std::string& text, const std::string& origin);

// The keys of one table. `where` names it in errors ("[model]", "[[model]] #2"):
//   "FILE: [model] lr: expected a number", "FILE: unknown key [model] colour".
class TomlSection {
 public:
  TomlSection(const toml::table& t, std::string origin, std::string where)
      : t_(t), origin_(std::move(origin)), where_(std::move(where)) {}

  // Reads `key` into `out` when present (bool, string, floating point, integers — unsigned ones
  // non-negative — and arrays of int or of non-negative std::uint64_t); absent keys keep `out`.
  template <typename V>
  void get(const char* key, V& out) {
    seen_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) return;
    if constexpr (std::is_same_v<V, bool>) {
      if (!n->is_boolean()) fail(key, "expected true or false");
      out = n->as_boolean()->get();
    } else if constexpr (std::is_same_v<V, std::string>) {
      if (!n->is_string()) fail(key, "expected a string");
      out = n->as_string()->get();
    } else if constexpr (std::is_floating_point_v<V>) {
      if (n->is_integer()) out = static_cast<V>(n->as_integer()->get());
      else if (n->is_floating_point()) out = static_cast<V>(n->as_floating_point()->get());
      else fail(key, "expected a number");
    } else if constexpr (std::is_same_v<V, std::vector<int>>) {
      if (!n->is_array()) fail(key, "expected an array of integers");
      out.clear();
      for (const auto& e : *n->as_array()) {
        if (!e.is_integer()) fail(key, "expected an array of integers");
        out.push_back(static_cast<int>(e.as_integer()->get()));
      }
    } else if constexpr (std::is_same_v<V, std::vector<std::uint64_t>>) {
      if (!n->is_array()) fail(key, "expected an array of non-negative integers");
      out.clear();
      for (const auto& e : *n->as_array()) {
        if (!e.is_integer() || e.as_integer()->get() < 0) fail(key, "expected an array of non-negative integers");
        out.push_back(static_cast<std::uint64_t>(e.as_integer()->get()));
      }
    } else {
      static_assert(std::is_integral_v<V>, "TomlSection::get: unsupported type");
      if (!n->is_integer()) fail(key, "expected an integer");
      if (std::is_unsigned_v<V> && n->as_integer()->get() < 0) fail(key, "expected a non-negative integer");
      out = static_cast<V>(n->as_integer()->get());
    }
  }
  void reject_unknown() const {
    for (const auto& [k, v] : t_)
      if (!seen_.count(std::string(k.str())))
        throw Error(origin_ + ": unknown key " + where_ + " " + std::string(k.str()));
  }
  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw Error(origin_ + ": " + where_ + " " + key + ": " + why);
  }

 private:
  const toml::table& t_;
  std::string origin_, where_;
  std::set<std::string> seen_;
};

}  // namespace ser
