// src/nn/toml_parse.hpp — parsing a TOML text with errors as ser::Error "FILE:LINE: TOML syntax
// error: ..." (run configs and experiment files).
#pragma once
#include <string>

#include <toml++/toml.h>

namespace ser {

toml::table parse_toml(const std::string& text, const std::string& origin);

}  // namespace ser
