// Built only without CUDA: the GPU front-end paths report that they are unavailable.
#include "ser/error.hpp"
#include "ser/frontend.hpp"

namespace ser {

std::unique_ptr<FrontEnd> make_cuda_frontend(FrontEndPath path, const FeatureConfig&) {
  throw Error("front-end path '" + to_string(path) + "' needs CUDA, but ser was built without it");
}

}  // namespace ser
