// Placeholder so the skeleton links; replaced by the real poll binding.
#include "addon.h"

namespace iomux {

void InitPoll(Napi::Env, Napi::Object) {}

}  // namespace iomux
