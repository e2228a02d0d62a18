// src/util/process_name.hpp — "HOST-PID", the name of this process among those that share a folder
// (temporary files, experiment workers' claims): unique across the nodes of a shared file system.
#pragma once
#include <string>

namespace ser::util {

// The host name with ' ' and '/' made '_' ("unknown-host" where it cannot be read), '-', the pid.
std::string process_name();

}  // namespace ser::util
