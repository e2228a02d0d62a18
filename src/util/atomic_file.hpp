// src/util/atomic_file.hpp — whole files written so that nothing good is lost: the content goes to
// a temporary name beside the target and is renamed over it (atomic on POSIX file systems, NFS
// included), so a reader sees the old file or the new one, never a part.
#pragma once
#include <functional>
#include <iosfwd>
#include <string>

namespace ser::util {

// Writes PATH.tmp-HOST-PID with `write`, then renames it to PATH (host and pid keep two writers on
// different nodes of a shared file system apart). On any failure the temporary is removed and a
// ser::Error names PATH; a previous file at PATH stays untouched until the rename.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);
void write_text_atomic(const std::string& path, const std::string& text);

}  // namespace ser::util
