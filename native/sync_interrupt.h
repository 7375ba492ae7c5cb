// What ends a blocking synchronous wait early, besides its fds and its timeout (issue 12):
//  - a signal JavaScript listens for (process.on('SIGINT', ...)): Node runs the handler only
//    from its event loop, so the wait throws EINTR (with `signal`) to let JS get back there;
//  - the env being stopped (worker.terminate(), process.exit() stopping workers): the wait
//    returns at once, and V8's pending termination unwinds the JS stack.
// Both are seen through the env's own libuv loop, without touching it: a signal that has a
// uv_signal_t on this loop makes libuv's signal handler write to the loop's signal pipe, and
// Node's Environment::ExitEnv wakes the loop through uv_async_send, a write to the loop's async
// eventfd (pipe on other systems). A private epoll set (kqueue elsewhere) watches both in
// edge-triggered mode, so every new write is one new event and nothing is ever read from
// libuv's fds. Every blocking wait puts that one fd in its set; when it turns readable, Check()
// says why. Signals nobody listens for write nothing there: their EINTR is retried as before.
#pragma once

#include <napi.h>
#include <uv.h>

#include "stats.h"
#include "wait_once.h"

namespace iomux {

enum class WakeReason { kNone, kSignal, kStopping };

class SyncInterrupt {
 public:
  SyncInterrupt() = default;
  SyncInterrupt(const SyncInterrupt&) = delete;
  SyncInterrupt& operator=(const SyncInterrupt&) = delete;
  ~SyncInterrupt();
  // The fd a blocking wait adds to its set, readable when Check() has something to look at;
  // -1 when this platform or this moment has none (the wait then blocks as before).
  int Fd(napi_env env);
  // After Fd() turned readable (or a syscall failed with EINTR): consumes the edges and says
  // whether the wait must end: kSignal (with *signum) or kStopping; kNone to go on waiting.
  // eintr: the wait's own syscall failed with EINTR (the signal handler ran on this thread).
  WakeReason Check(napi_env env, bool eintr, int* signum);
  // Before a blocking wait: the signal that ended an earlier wait when JS has not run its
  // handler yet (the wait must throw again at once), else 0. Free unless a signal ended one.
  int Unhandled() {
    if (unhandled_ && (unhandled_ = PendingSignal()) == 0) return 0;
    return unhandled_;
  }

 private:
  // The signal number of a uv_signal_t on loop_ that caught a signal not yet dispatched to JS.
  int PendingSignal() const;
  bool Stopping(napi_env env);

  uv_loop_t* loop_ = nullptr;
  int watch_fd_ = -1;   // the epoll/kqueue set
  int signal_fd_ = -1;  // libuv's signal pipe read end, once it exists and is watched
  napi_ref probe_ = nullptr;  // a JS function whose call fails once termination is requested
  int unhandled_ = 0;         // the signal Check() last reported, until JS has handled it
};

// The env's SyncInterrupt (in AddonData).
SyncInterrupt* GetSyncInterrupt(napi_env env);

// The interrupt side of one synchronous wait (Poll, select, Epoll): the WaitExtra that puts
// the env's interrupt fd in a wait that may block, and why it ended early.
class SyncWake {
 public:
  // A timeout of 0 never blocks: it watches nothing more.
  SyncWake(Napi::Env env, double timeout_ms);
  // Before the wait: the signal an earlier wait ended with that JS has not handled yet (the
  // wait must throw again at once), else 0.
  int Unhandled() {
    if (extra_.fd >= 0 && (signum_ = intr_->Unhandled()) != 0) why_ = WakeReason::kSignal;
    return signum_;
  }
  const WaitExtra& extra() const { return extra_; }
  // After the wait (or an Unhandled() signal): true when it ended early, having thrown EINTR
  // with the signal (kSignal) or, for a stopping env, nothing (V8 is unwinding this thread).
  bool Ended(const char* syscall);

 private:
  static bool ShouldStop(void* ctx, bool eintr);

  Napi::Env env_;
  SyncInterrupt* intr_ = nullptr;
  WaitExtra extra_;
  WakeReason why_ = WakeReason::kNone;
  int signum_ = 0;
};

// Returned by PollReadableOrWake when poll(2) refused the interrupt fd (EINVAL: RLIMIT_NOFILE
// lowered below two): the caller blocks in its own syscall without it, as before there was one.
constexpr int kInterruptUnwatched = -3;

// The blocking half of a wait on a kernel object's own fd (an epoll fd; a kqueue's watch fd):
// poll(2) on that fd and the wake's interrupt fd until the fd is readable (1: take its events
// with a zero-timeout call), the deadline passes or the wake ends the wait (0: SyncWake::Ended
// says which), poll fails (-1, errno set) or refuses the second fd (kInterruptUnwatched).
// Counted in stats as the wait's syscalls. Nothing is taken from the object before it returns 1.
int PollReadableOrWake(int fd, const Deadline& deadline, SyncWake* wake, Stats* stats);

}  // namespace iomux
