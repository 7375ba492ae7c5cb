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

#include <node_api.h>
#include <uv.h>

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

}  // namespace iomux
