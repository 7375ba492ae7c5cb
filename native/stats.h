// Per-object wait statistics for people who study syscall behaviour. Counting is a few adds per
// call and always on; timing (clock reads around each syscall and each call) is off unless asked
// for, because it is the only part that would show on the epoll hot path. The counters live in
// native memory and are copied into a new object only when stats() is called.
#pragma once

#include <napi.h>

#include "timeout.h"

namespace iomux {

enum StatSlot {
  kStatCalls = 0,  // JS-visible wait calls
  kStatSyscalls,   // kernel waits made, EINTR retries included
  kStatFds,        // fds passed to the kernel, summed over syscalls
  kStatEvents,     // events (ready fds) returned to the caller
  kStatBytesIn,    // bytes copied into the kernel (fd_set bitmaps, pollfd arrays, changelists)
  kStatSyscallNs,  // ns inside the wait syscalls (timing only)
  kStatCallNs,     // ns in the whole native call, conversions included (timing only)
  kStatCount
};

struct Stats {
  double slots[kStatCount] = {};
  bool timing = false;

  void Add(StatSlot slot, double v) { slots[slot] += v; }
  // Starts a timed section: 0 when timing is off, which makes Stop a no-op.
  long long Start() const { return timing ? NowNs() : 0; }
  void Stop(StatSlot slot, long long start) {
    if (start != 0) slots[slot] += static_cast<double>(NowNs() - start);
  }
  void Reset() {
    for (double& s : slots) s = 0;
  }
  Napi::Object ToObject(Napi::Env env) const {
    static const char* const kNames[kStatCount] = {"calls",   "syscalls",  "fds",   "events",
                                                   "bytesIn", "syscallNs", "callNs"};
    Napi::Object o = Napi::Object::New(env);
    for (int i = 0; i < kStatCount; i++) o.Set(kNames[i], Napi::Number::New(env, slots[i]));
    o.Set("timing", Napi::Boolean::New(env, timing));
    return o;
  }
};

}  // namespace iomux
