// The Kqueue class shared by kqueue.cc (the synchronous calls) and kqueue_async.cc (waits on
// Node's own event loop). Built where kqueue exists (HAVE_KQUEUE): macOS, the BSDs, and Linux
// linked against libkqueue (HAVE_LIBKQUEUE).
#pragma once

#include <napi.h>
#include <sys/types.h>
#include <sys/event.h>

#include <vector>

#include "loop_watch.h"
#include "stats.h"
#include "timeout.h"

namespace iomux {

class KqueueWatch;
class SyncWake;

// The largest maxevents accepted; lib/kqueue.ts enforces the same bound with Node's wording.
constexpr uint32_t kMaxEvents = 1u << 20;

// A kqueue that owns its fd (CLOEXEC). After close() every method refuses with ERR_CLOSED and
// the old fd number is never used again.
// The watch of its async waits (kqueue_async.cc) hangs off LoopWatchOwner.
class Kqueue : public Napi::ObjectWrap<Kqueue>, public LoopWatchOwner, public CountsWaits {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Kqueue(const Napi::CallbackInfo& info);
  ~Kqueue() override;

 private:
  static Napi::Value FromFd(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Control(const Napi::CallbackInfo& info);
  Napi::Value WaitAsync(const Napi::CallbackInfo& info);
  Napi::Value CancelWait(const Napi::CallbackInfo& info);
  // One kevent() call with changes_[0..nchanges) and room for maxevents in events_, EINTR
  // retried with the time left. Returns kevent()'s result; errno is kept.
  int Kevent(int nchanges, int maxevents, const Deadline& deadline);
  // control()'s wait: Kevent(), or for one that may block, a poll on WatchFd() and the env's
  // interrupt fd first (sync_interrupt.h).
  int Wait(int nchanges, int maxevents, double timeout_ms, SyncWake* wake);
  // The fd that turns readable while kevent() has events to return (kqueue_async.cc): the
  // kqueue fd itself, or libkqueue's inner epoll fd; found once, -1 when there is none.
  int WatchFd();

  int watch_fd_ = -2;  // WatchFd()'s answer once asked (-2: not yet)

  std::vector<struct kevent> changes_;
  std::vector<struct kevent> events_;
  // Its stats_ (CountsWaits) count control() calls. For kqueue the interest set lives in the
  // kernel, so "fds" is the number of changes handed over per syscall and "bytesIn" their size.

  friend class KqueueWatch;
};

}  // namespace iomux
