// Per-object wait statistics for people who study syscall behaviour. Counting is a few adds per
// call and always on; timing (clock reads around each syscall and each call) is off unless asked
// for, because it is the only part that would show on the epoll hot path.
//
// The slots live in native memory for the kernel objects (Poll, Epoll, Kqueue, Waiter) and are
// copied into a new object only when stats() is called. The select() function has no object, so
// its caller passes a Float64Array of kStatSlots doubles that is updated in place (Bind).
#pragma once

#include <napi.h>

#include "timeout.h"
#include "wait_once.h"

namespace iomux {

enum StatSlot {
  kStatCalls = 0,  // JS-visible wait calls
  kStatSyscalls,   // kernel waits made, EINTR retries included
  kStatFds,        // fds passed to the kernel, summed over syscalls
  kStatEvents,     // events (ready fds) returned to the caller
  kStatBytesIn,    // bytes copied into the kernel (fd_set bitmaps, pollfd arrays, changelists)
  kStatSyscallNs,  // ns inside the wait syscalls (timing only)
  kStatCallNs,     // ns in the whole native call, conversions included (timing only)
  kStatTiming,     // not a counter: non-zero when timing is on
  kStatSlots
};

class Stats {
 public:
  Stats() : slots_(own_) {}
  Stats(const Stats&) = delete;
  Stats& operator=(const Stats&) = delete;

  // Points at a caller's Float64Array (argument i) for one call; false when the argument is
  // absent or not a Float64Array of kStatSlots, in which case nothing is counted.
  bool Bind(const Napi::CallbackInfo& info, size_t i) {
    Napi::Value v = info[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      return false;
    }
    Napi::Float64Array a = v.As<Napi::Float64Array>();
    if (a.ElementLength() < kStatSlots) return false;
    slots_ = a.Data();
    return true;
  }

  // Counts nothing from now on (a select() call without a counters array).
  void Detach() { slots_ = nullptr; }

  bool timing() const { return slots_ != nullptr && slots_[kStatTiming] != 0; }
  void SetTiming(bool on) {
    if (slots_ != nullptr) slots_[kStatTiming] = on ? 1 : 0;
  }
  void Add(StatSlot slot, double v) {
    if (slots_ != nullptr) slots_[slot] += v;
  }
  // Starts a timed section: 0 when timing is off, which makes Stop a no-op.
  long long Start() const { return timing() ? NowNs() : 0; }
  void Stop(StatSlot slot, long long start) {
    if (start != 0) slots_[slot] += static_cast<double>(NowNs() - start);
  }
  // Adds what one wait counted (wait_once.h).
  void AddCounts(const WaitCounts& c) {
    Add(kStatSyscalls, c.syscalls);
    Add(kStatFds, c.fds);
    Add(kStatBytesIn, c.bytes_in);
    Add(kStatSyscallNs, c.syscall_ns);
  }
  void Reset() {
    if (slots_ == nullptr) return;
    for (int i = 0; i < kStatTiming; i++) slots_[i] = 0;
  }
  Napi::Object ToObject(Napi::Env env) const {
    static const char* const kNames[kStatTiming] = {"calls",   "syscalls",  "fds",   "events",
                                                    "bytesIn", "syscallNs", "callNs"};
    Napi::Object o = Napi::Object::New(env);
    for (int i = 0; i < kStatTiming; i++) o.Set(kNames[i], Napi::Number::New(env, slots_[i]));
    o.Set("timing", Napi::Boolean::New(env, timing()));
    return o;
  }

 private:
  double own_[kStatSlots] = {};
  double* slots_;
};

// The stats(), resetStats() and setStatsTiming() methods of the kernel objects (Poll, Epoll,
// Kqueue, Waiter), written once: a class inherits this next to Napi::ObjectWrap and lists
// `InstanceMethod("stats", &T::GetStats)` and the others in its Define().
class CountsWaits {
 public:
  Napi::Value GetStats(const Napi::CallbackInfo& info) { return stats_.ToObject(info.Env()); }
  Napi::Value ResetStats(const Napi::CallbackInfo& info) {
    stats_.Reset();
    return info.Env().Undefined();
  }
  Napi::Value SetStatsTiming(const Napi::CallbackInfo& info) {
    stats_.SetTiming(info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }

 protected:
  Stats stats_;
};

}  // namespace iomux
