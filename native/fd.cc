// Placeholder so the skeleton links; replaced by the real fd binding.
#include "addon.h"

namespace iomux {

void InitFd(Napi::Env, Napi::Object) {}

}  // namespace iomux
