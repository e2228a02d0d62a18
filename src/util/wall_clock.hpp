// src/util/wall_clock.hpp — wall-clock seconds for timings and progress lines, and "h:mm:ss" text.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>

namespace ser {

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// "1:02:03" (rounded to the second).
inline std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

}  // namespace ser
