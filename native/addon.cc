// Module init only. The one place that knows which mechanisms this build has.
#include "addon.h"

namespace iomux {

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());  // deleted by node-addon-api when the env goes away
  // The env's interrupt fd (one epoll/kqueue set) is taken now, at load, not at the first
  // blocking wait: a server that has used up its fds must not see a later wait take the first
  // one it frees, nor wait without it (terminate() and JS signal handlers need it). At EMFILE
  // now, the first blocking wait tries again.
  GetSyncInterrupt(env)->Fd(env);
  InitConstants(env, exports);
  InitSelect(env, exports);
  InitPoll(env, exports);
  InitFd(env, exports);
  InitSocket(env, exports);
  InitSockopt(env, exports);
  InitUdp(env, exports);
  InitIovec(env, exports);
  InitWaiter(env, exports);
  Napi::Object has = Napi::Object::New(env);
#if HAVE_EPOLL
  InitEpoll(env, exports);
  has.Set("epoll", true);
#else
  has.Set("epoll", false);
#endif
#if HAVE_IO_URING
  InitIoUring(env, exports);
  has.Set("ioUring", true);
#else
  has.Set("ioUring", false);
#endif
#if HAVE_KQUEUE
  InitKqueue(env, exports);
  has.Set("kqueue", true);
#else
  has.Set("kqueue", false);
#endif
#if HAVE_LIBKQUEUE
  has.Set("libkqueue", true);
#else
  has.Set("libkqueue", false);
#endif
  exports.Set("has", has);
  return exports;
}

}  // namespace iomux

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  return iomux::Init(env, exports);
}

NODE_API_MODULE(addon, InitAddon)
