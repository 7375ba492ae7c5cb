// Per-environment state and the Init entry points of each mechanism. There is no global
// mutable state: everything an Init needs later lives in AddonData (env.SetInstanceData),
// so the addon loads in several worker_threads at once.
#pragma once

#include <napi.h>

#include <vector>

#include "sync_interrupt.h"

namespace iomux {

struct AddonData {
  Napi::FunctionReference epoll_ctor;
  Napi::FunctionReference kqueue_ctor;
  // -1 = not probed yet, 0 = the kernel lacks epoll_pwait2 (ENOSYS), 1 = it has it.
  int epoll_pwait2 = -1;
  // select(2) with allowLargeFds: the three fd bitmaps for fds past FD_SETSIZE. It grows to the
  // largest size seen and is reused, so a wait allocates nothing once warm (native/select.cc).
  std::vector<unsigned char> select_scratch;
  // What ends a blocking sync wait early: a signal JS listens for, or the env being stopped.
  SyncInterrupt interrupt;
};

inline AddonData* GetAddonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

void InitConstants(Napi::Env env, Napi::Object exports);
void InitSelect(Napi::Env env, Napi::Object exports);
void InitPoll(Napi::Env env, Napi::Object exports);
void InitFd(Napi::Env env, Napi::Object exports);
void InitSocket(Napi::Env env, Napi::Object exports);
void InitSockopt(Napi::Env env, Napi::Object exports);
void InitUdp(Napi::Env env, Napi::Object exports);
void InitIovec(Napi::Env env, Napi::Object exports);
// Adds SOL_SOCKET, SO_*, TCP_*, IPV6_V6ONLY, IOV_MAX (where defined) to the constants object.
void AddSocketConstants(Napi::Env env, Napi::Object constants);
void InitWaiter(Napi::Env env, Napi::Object exports);
void InitEpoll(Napi::Env env, Napi::Object exports);
void InitKqueue(Napi::Env env, Napi::Object exports);
void InitIoUring(Napi::Env env, Napi::Object exports);

}  // namespace iomux
