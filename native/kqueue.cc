// Placeholder so the skeleton links; replaced by the real kqueue binding.
#include "addon.h"

namespace iomux {

void InitKqueue(Napi::Env, Napi::Object) {}

}  // namespace iomux
