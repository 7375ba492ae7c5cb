// The Epoll class shared by epoll.cc (the synchronous calls) and epoll_async.cc (waits on
// Node's own event loop). Built on Linux only (HAVE_EPOLL).
#pragma once

#include <napi.h>
#include <sys/epoll.h>

#include <memory>
#include <string>
#include <vector>

#include "loop_watch.h"
#include "stats.h"
#include "sync_interrupt.h"
#include "timeout.h"

namespace iomux {

class EpollWatch;
class Epoll;

// A wait asks the kernel for at most this many events, whatever maxevents says: epoll_wait
// may return fewer than maxevents, and the rest stay ready for the next call, so nothing is
// lost. It bounds the per-wait buffer (12 bytes an event) at 768 KiB; the kernel's own limit,
// INT_MAX / 12, would be 2 GiB.
constexpr int kMaxEventsPerWait = 65536;

// What the fast bound functions (boundPollInto) carry as their data instead of unwrapping
// `this` on every call, which costs more than the epoll_wait itself. `self` is cleared when the
// Epoll is collected; the record is freed when neither the Epoll nor a function needs it.
struct EpollRef {
  Epoll* self;
  int owners;
};

// A bound function's output buffer (boundPollInto(stride, out)): its elements, found once, and
// a strong reference to its ArrayBuffer, which each call asks whether it was detached since
// (transferred to a worker, structuredClone): far cheaper than looking the array up again.
// A resizable buffer, whose length may shrink, is never bound.
struct BoundOut {
  EpollRef* ref;
  napi_ref buffer;
  int32_t* data;
  size_t length;
};

// An epoll instance that owns its fd. The fd is created CLOEXEC unless asked otherwise, closed
// by close() or, when the object is collected unclosed, by the destructor. After close() every
// method refuses with ERR_CLOSED and the old fd number is never used again: the kernel may have
// handed it to someone else.
// The watch of its async waits (epoll_async.cc) hangs off LoopWatchOwner.
class Epoll : public Napi::ObjectWrap<Epoll>, public LoopWatchOwner, public CountsWaits {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Epoll(const Napi::CallbackInfo& info);
  ~Epoll() override;

 private:
  static Napi::Value FromFd(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Register(const Napi::CallbackInfo& info);
  Napi::Value Modify(const Napi::CallbackInfo& info);
  Napi::Value Unregister(const Napi::CallbackInfo& info);
  Napi::Value Poll(const Napi::CallbackInfo& info);
  Napi::Value PollInto(const Napi::CallbackInfo& info);
  Napi::Value BoundPollInto(const Napi::CallbackInfo& info);
  Napi::Value PollIntoWith(const Napi::CallbackInfo& info, int32_t stride);
  // The wait of pollInto once out is known: records of stride int32s into out.
  Napi::Value PollIntoSpan(Napi::Env env, int32_t* out, size_t length, double ms, int32_t stride);
  template <int kStride>
  static Napi::Value CallPollInto(const Napi::CallbackInfo& info);
  template <int kStride>
  static Napi::Value CallPollIntoBound(const Napi::CallbackInfo& info);
  // boundPollInto(stride, out): the BoundOut function, or undefined when out cannot be bound.
  Napi::Value BindOut(const Napi::CallbackInfo& info, int32_t stride);
  static void ReleaseRef(EpollRef* ref);
  // Hands out fn, whose data is ref_: fn owns ref_ too until it is collected.
  Napi::Value ShareRef(Napi::Env env, Napi::Function fn);
  // boundCtl(name): register, modify or unregister as a function bound to this object.
  Napi::Value BoundCtl(const Napi::CallbackInfo& info);
  template <int kOp>
  static Napi::Value CallCtl(const Napi::CallbackInfo& info);
  Napi::Value WaitAsync(const Napi::CallbackInfo& info);
  Napi::Value WaitIntoAsync(const Napi::CallbackInfo& info);
  // Starts an async wait (epoll_async.cc); out is empty for waitAsync's arrays of pairs.
  Napi::Value StartAsync(Napi::Env env, Napi::Value cb, double ms, int maxevents,
                         Napi::Int32Array out, int stride);
  Napi::Value CancelWait(const Napi::CallbackInfo& info);

  // Throws ERR_CLOSED (and returns false) once the object is closed.
  // Throws ERR_CLOSED or ERR_BUSY (and returns false) unless a synchronous wait may start.
  bool CheckCanWait(Napi::Env env);
  // poll(timeoutMs, maxevents) and waitAsync(timeoutMs, maxevents, cb): CheckCanWait, then the
  // two arguments (maxevents defaults to 1024).
  bool ReadWaitArgs(const Napi::CallbackInfo& info, double* ms, int32_t* maxevents);
  Napi::Value Ctl(const Napi::CallbackInfo& info, int op);
  // Room for n events (n <= kMaxEventsPerWait): the kept buffer, grown when a wait asks for
  // more, so a warm wait allocates nothing and the buffer stays within kMaxEventsPerWait
  // (768 KiB). nullptr (errno ENOMEM) when growing fails. EventsToArray/EventsToRecords read it.
  epoll_event* Buffer(int n);
  // One wait for at most maxevents events, EINTR retried with the time left. Returns the
  // count, or -1 with errno set; 0 with *why set when an interrupt (sync_interrupt.h) ended it.
  int Wait(Napi::Env env, int maxevents, double ms, const char** syscall, SyncWake* wake);
  // One JS-visible wait: counts the call, waits, and on failure throws the errno error and
  // returns -1.
  int CountedWait(Napi::Env env, int maxevents, double ms);
  // A new JS array of [fd, events] pairs from the first n entries of the buffer.
  Napi::Array EventsToArray(Napi::Env env, int n);
  // Writes the first n entries of the buffer into out as records of stride int32s: (fd, events)
  // or (fd, events, tag). The caller made sure that out holds n records.
  void EventsToRecords(int32_t* out, int n, int stride) const;

  std::unique_ptr<epoll_event[]> events_;  // kept between waits, at most kMaxEventsPerWait
  size_t capacity_ = 0;                     // events events_ holds
  epoll_event* cur_ = nullptr;              // the buffer of the current wait (events_)
  // Its stats_ (CountsWaits): epoll hands the kernel no fds and no bytes per wait (the interest
  // list lives in the kernel), so `fds` and `bytesIn` stay 0: that is the point of epoll.
  // Shared with the bound functions handed out by boundPollInto(); made on first request.
  EpollRef* ref_ = nullptr;

  friend class EpollWatch;
};

// Reads a count >= 1 (maxevents, stride); undefined gives dflt. Throws and returns false else.
bool ReadCount(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t dflt,
               int32_t* out);

// Reports whether this kernel has epoll_pwait2 (Linux 5.11+); probed once per env.
bool EpollPwait2Supported(Napi::Env env);

}  // namespace iomux
