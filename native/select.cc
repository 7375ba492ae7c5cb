// Placeholder so the skeleton links; replaced by the real select binding.
#include "addon.h"

namespace iomux {

void InitSelect(Napi::Env, Napi::Object) {}

}  // namespace iomux
