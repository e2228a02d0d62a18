// ser/build_info.hpp — what this binary was built from.
#pragma once

namespace ser {

// The commit of the source tree the binary was built from: a short hash, "+dirty" when tracked
// files had uncommitted changes, "unknown" when the tree was not a git checkout. Every result file
// (results.json/md, report.html, fold.json, caches, model files) names it.
const char* build_commit();

}  // namespace ser
