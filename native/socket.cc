// Placeholder so the skeleton links; replaced by the real socket binding.
#include "addon.h"

namespace iomux {

void InitSocket(Napi::Env, Napi::Object) {}

}  // namespace iomux
