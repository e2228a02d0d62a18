// The kernel-path names of ser/nn/exec.hpp ("handwritten" | "vendor"), as --kernels spells them.
#include "ser/nn/exec.hpp"

#include "ser/error.hpp"

namespace ser::nn {

KernelPath parse_kernel_path(const std::string& s) {
  if (s == "handwritten") return KernelPath::handwritten;
  if (s == "vendor") return KernelPath::vendor;
  throw Error("--kernels: expected handwritten or vendor, found '" + s + "'");
}

std::string to_string(KernelPath k) { return k == KernelPath::vendor ? "vendor" : "handwritten"; }

}  // namespace ser::nn
