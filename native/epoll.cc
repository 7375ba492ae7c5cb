// Placeholder so the skeleton links; replaced by the real epoll binding.
#include "addon.h"

namespace iomux {

void InitEpoll(Napi::Env, Napi::Object) {}

}  // namespace iomux
