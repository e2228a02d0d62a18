// src/report/png_image.hpp — a minimal PNG writer (8-bit RGB, zlib-compressed) and base64, so
// the report can carry a spectrogram as an inline data: image instead of thousands of SVG rectangles.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ser::report {

// rgb: (height, width, 3) bytes, rows top to bottom. Returns the PNG file's bytes.
std::string encode_png_rgb(int width, int height, const std::vector<std::uint8_t>& rgb);
std::string base64_encode(const std::string& bytes);
// The CRC-32 of PNG chunks (zlib's; exposed for the tests).
std::uint32_t crc32(const std::string& bytes);

}  // namespace ser::report
