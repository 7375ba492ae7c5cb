// LoopWatch: the machinery of an asynchronous wait with no thread, shared by Epoll#waitAsync
// (epoll_async.cc) and Kqueue#waitAsync (kqueue_async.cc). A kernel fd that turns readable
// while events are pending is watched by a uv_poll_t in Node's own loop, and a uv_timer_t ends
// the wait at its deadline. This class owns the two handles and their lifetime (ref/unref
// between waits, the async cleanup hook for env teardown, the memory freed only from libuv's
// close callbacks) and the JS side of the pending wait; a subclass says how to drain the
// kernel's events and how to turn them into the callback's result.
#pragma once

#include <napi.h>
#include <uv.h>

#include <memory>

#include "timeout.h"
#include "waiter_core.h"

namespace iomux {

// The JS side of an asynchronous wait: the callback that settles it, the async context it runs
// in (so async_hooks and promise microtasks behave as for Node's own I/O), and the caller's
// output buffer when there is one, kept alive until the wait ends.
struct PendingWait {
  Napi::FunctionReference callback;
  std::unique_ptr<Napi::AsyncContext> context;
  Napi::Reference<Napi::Int32Array> out;
  bool Active() const { return !callback.IsEmpty(); }
  // Starts a wait: holds cb, out (may be empty) and a new async context named `resource`.
  void Begin(Napi::Env env, Napi::Function cb, const char* resource, Napi::Int32Array out);
  // Calls callback(err, result) through MakeCallback and empties this record. An exception the
  // callback throws goes to process 'uncaughtException', as for Node's own callbacks.
  void Settle(Napi::Env env, Napi::Value err, Napi::Value result);
  // Settle() from a libuv callback (LoopWatch, the Waiter's thread), where no JS caller can
  // catch what the callback throws: it goes to 'uncaughtException', as for Node's own
  // callbacks, unless the env is being torn down.
  void SettleFromLoop(Napi::Env env, Napi::Value err, Napi::Value result);
};

// One pair of uv handles watching one fd for a series of waits, one at a time. The handles are
// made by Open() and kept between waits: the fd is in libuv's epoll set while a wait is pending
// and until the next loop turn (so a wait started from the last one's callback costs nothing),
// so idle objects cost the kernel no wakeup path. They are closed by Close()
// or by the async cleanup hook when the env is torn down (a worker terminated mid-wait); `this`
// is deleted once libuv is done with both.
//
// Linux limits the wakeup paths through nested epolls (a file in more than 500 epoll sets that
// are themselves in epoll sets, fs/eventpoll.c path_limits), and libuv only adds a started fd to
// its epoll set on the next loop turn, where a failure is fatal (abort() in uv__io_poll). So
// each wait first adds the fd to libuv's epoll set itself, synchronously (libuv's later ADD then
// finds it there and turns into a MOD, which cannot fail that way). When the kernel refuses, or
// uv_poll_init did, this wait is watched by a thread of its own instead (a WaiterCore polling
// the fd: poll(2) has no such limit), and it settles exactly as it would have.
class LoopWatch {
 public:
  // Only Create() (when Open() fails) and the close callbacks delete a LoopWatch.
  virtual ~LoopWatch() = default;
  bool Pending() const { return pending_.Active(); }
  // Stops watching. A pending wait moves to *out, or is dropped when out is null.
  void Stop(PendingWait* out);
  // Detaches from the owner and closes the handles; `this` is deleted once libuv is done.
  void Close();

 protected:
  explicit LoopWatch(Napi::Env env) : env_(env) {}
  // Opens w's handles on fd: returns w, or nullptr (w deleted) with *uverr set when libuv
  // refuses.
  template <class W>
  static W* Opened(W* w, int fd, int* uverr) {
    *uverr = w->Open(fd);
    if (*uverr == 0) return w;
    delete w;
    return nullptr;
  }
  // Makes the handles watching fd and registers the cleanup hook. Returns 0 or a libuv error;
  // on error nothing is known to the loop and the caller deletes `this`.
  int Open(int fd);
  // Starts a wait that will call cb(err, result) when the fd turns readable and Drain() finds
  // events, or when ms (negative: never) have passed. out (may be empty) is held until the
  // wait ends. Returns 0 or a libuv error.
  int Begin(Napi::Function cb, const char* resource, Napi::Int32Array out, double ms,
            int maxevents);
  // Ends the wait and calls its callback; nothing may touch `this` after it.
  void Finish(Napi::Value err, Napi::Value result);

  // One zero-timeout wait for at most maxevents_ events into the owner's buffer: the count, or
  // -1 with errno set. Called when the fd turns readable and when the deadline passes.
  virtual int Drain() = 0;
  // Settles the wait (through Finish) with n drained events, or with errno's error when n < 0.
  virtual void Complete(int n) = 0;
  // The pending wait ended (settled, cancelled or dropped): the owner may be collected again.
  virtual void WaitEnded() = 0;
  // The handles are closing: the owner must forget this watch, and this watch its owner.
  virtual void Detach() = 0;

  Napi::Env env_;
  PendingWait pending_;
  int maxevents_ = 1;

 private:
  static void OnReadable(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);
  // One loop turn after a wait ended with none started since: the fd leaves libuv's set.
  static void OnIdle(uv_timer_t* handle);
  static void OnClosed(uv_handle_t* handle);
  static void OnEnvCleanup(napi_async_cleanup_hook_handle hook, void* arg);
  static void OnThreadDone(void* self);
  void ArmTimer();
  // Starts watching fd_ for the pending wait: libuv's poll handle when the kernel lets the fd
  // into libuv's epoll set, else the thread. Returns 0 or a libuv error.
  int Watch();
  // Adds fd_ to libuv's epoll set now, so that uv_poll_start cannot fail later (see above).
  bool AddToBackend();
  // True when another uv handle of this loop watches the same fd number.
  bool FdWatchedByOther() const;
  int WatchOnThread();
  void StopWatching();
  // False (with the handles stopped) once the env can no longer run JS.
  bool Ready();
  // Drains and completes, or goes on waiting when nothing was there.
  void OnFdReady();

  int fd_ = -1;
  uv_poll_t poll_;
  uv_timer_t timer_;
  bool poll_open_ = false;  // uv_poll_init succeeded
  WaiterCore* thread_ = nullptr;  // the fallback watcher, made on first need
  bool on_thread_ = false;        // the pending wait is watched by thread_
  int open_handles_ = 0;
  bool closing_ = false;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  Deadline deadline_{};
};

// The owner's side of a LoopWatch (Epoll, Kqueue): the watch it made on its first async wait,
// until the watch closes. Inherited next to Napi::ObjectWrap.
class LoopWatchOwner {
 public:
  // Called by the watch when its uv handles go away (closed, or the env is torn down).
  void ForgetWatch() { watch_ = nullptr; }
  // fileno() (ERR_CLOSED after close()) and the `closed` accessor.
  Napi::Value Fileno(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), fd_ < 0); }

 protected:
  // what: how ERR_CLOSED names the object ("epoll object", "Kqueue").
  explicit LoopWatchOwner(const char* what) : what_(what) {}
  // False, with ERR_CLOSED thrown, once the object is closed.
  bool CheckOpen(Napi::Env env);
  // True while an asynchronous wait is in progress.
  bool WaitPending() const { return watch_ != nullptr && watch_->Pending(); }
  // Stops and closes the watch before the fd goes away. A pending wait moves to `pending`
  // (close() fails it with ERR_CLOSED), or is dropped silently when it is null (destructor).
  void ReleaseWatch(PendingWait* pending) {
    if (watch_ == nullptr) return;
    LoopWatch* w = watch_;
    w->Stop(pending);
    w->Close();  // Clears watch_.
  }
  // fromFd(fd): refuses a number that is no open fd now (F_GETFD), rather than own it and close
  // a stranger later, then calls ctor with the fd in an External, which JS code cannot make:
  // adopting an fd is fromFd's alone.
  static Napi::Value AdoptFd(const Napi::CallbackInfo& info, const Napi::FunctionReference& ctor);
  // In the constructor: true, with *fd, when AdoptFd is the caller.
  static bool AdoptedFd(const Napi::CallbackInfo& info, int* fd) {
    if (!info[0].IsExternal()) return false;
    *fd = *info[0].As<Napi::External<int>>().Data();
    return true;
  }
  // close(): stops the watch (a uv poll handle must stop before its fd closes: uv_poll_t docs),
  // closes fd_ and sets it to -1 even when close(2) fails (the fd is gone either way: POSIX
  // leaves it unspecified after EINTR, Linux and the BSDs release it), then settles a pending
  // wait with ERR_CLOSED. Returns close(2)'s errno, 0 for success or EINTR, and 0 when fd_ was
  // closed already (close() is idempotent).
  int CloseOwnedFd(Napi::Env env);
  // Drops a pending wait unsettled (cancelWait); returns whether there was one.
  bool CancelPendingWait() {
    bool was = WaitPending();
    if (was) watch_->Stop(nullptr);
    return was;
  }

  LoopWatch* watch_ = nullptr;
  // The kernel object's fd (-1 once closed: the old number is never used again, since the
  // kernel may have given it to another file).
  int fd_ = -1;
  const char* what_;
};

// The owner-typed part of a watch: a pending wait holds the owner (a Napi::ObjectWrap, kept
// alive even when unreachable from JS), and closing the handles detaches the two both ways.
template <class Owner>
class OwnedWatch : public LoopWatch {
 protected:
  OwnedWatch(Napi::Env env, Owner* owner) : LoopWatch(env), owner_(owner) {}
  // Begin(), then holds the owner until the wait ends.
  int BeginFor(Napi::Function cb, const char* resource, Napi::Int32Array out, double ms,
               int maxevents) {
    int rc = Begin(cb, resource, out, ms, maxevents);
    if (rc == 0) owner_->Ref();
    return rc;
  }
  void WaitEnded() override {
    if (owner_ != nullptr) owner_->Unref();
  }
  void Detach() override {
    if (owner_ != nullptr) owner_->ForgetWatch();
    owner_ = nullptr;
  }

  Owner* owner_;
};

}  // namespace iomux
