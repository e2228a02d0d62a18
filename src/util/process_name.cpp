// src/util/process_name.cpp — process_name() (process_name.hpp).
#include "util/process_name.hpp"

#include <unistd.h>

#include <cstring>

namespace ser::util {

std::string process_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "unknown-host");
  for (char* c = host; *c; ++c)
    if (*c == ' ' || *c == '/') *c = '_';
  return std::string(host) + "-" + std::to_string(::getpid());
}

}  // namespace ser::util
