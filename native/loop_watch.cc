// LoopWatch (see loop_watch.h): the uv_poll_t + uv_timer_t pair of the no-thread async waits.
#include "loop_watch.h"

#include "args.h"
#include "errors.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <poll.h>
#if defined(__linux__)
#include <sys/epoll.h>
#endif

namespace iomux {

// A terminating worker can no longer run JS, and node-addon-api turns any failed call that
// would throw there into a fatal error. This probe goes through a call that checks for that
// (NAPI_PREAMBLE) and fails quietly instead; it allocates nothing.
static bool CanRunJs(napi_env env) {
  napi_value global;
  bool has;
  return napi_get_global(env, &global) == napi_ok &&
         napi_has_element(env, global, 0, &has) == napi_ok;
}

int LoopWatch::Open(int fd) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env_, &loop) != napi_ok || loop == nullptr) return UV_EINVAL;
  fd_ = fd;
  // uv_poll_init itself tries the fd in libuv's epoll set; when the kernel refuses (the nested
  // epoll limit), every wait of this object is watched by the thread instead.
  poll_open_ = uv_poll_init(loop, &poll_, fd) == 0;
  uv_timer_init(loop, &timer_);
  poll_.data = this;
  timer_.data = this;
  open_handles_ = poll_open_ ? 2 : 1;
  // Node runs the loop until this hook is removed (in OnClosed), so the handles are closed
  // properly even when the env goes away with a wait pending.
  napi_add_async_cleanup_hook(env_, OnEnvCleanup, this, &hook_);
  return 0;
}

int LoopWatch::Begin(Napi::Function cb, const char* resource, Napi::Int32Array out, double ms,
                     int maxevents) {
  int rc = Watch();
  if (rc != 0) return rc;
  pending_.Begin(env_, cb, resource, out);
  deadline_ = MakeDeadline(ms);
  maxevents_ = maxevents;
  if (ms >= 0) ArmTimer();
  return 0;
}

int LoopWatch::Watch() {
  uv_handle_t* h = reinterpret_cast<uv_handle_t*>(&poll_);
  // Still in libuv's set since the last wait (see Stop()): only its ref comes back.
  if (poll_open_ && uv_is_active(h)) {
    uv_ref(h);
    return 0;
  }
  // In this order: uv_poll_start first takes the fd out of libuv's epoll set (an epoll_ctl DEL)
  // and queues the ADD for the next turn; the ADD made here right after makes that one EEXIST.
  if (poll_open_ && !FdWatchedByOther() && uv_poll_start(&poll_, UV_READABLE, OnReadable) == 0) {
    uv_ref(h);
    if (AddToBackend()) return 0;
    uv_poll_stop(&poll_);  // Unqueues libuv's ADD: the kernel would refuse it.
  }
  return WatchOnThread();
}

bool LoopWatch::FdWatchedByOther() const {
  // libuv dispatches an fd's events to one watcher: a second uv handle on the same fd number
  // (a fromFd twin of the same fd, waiting at the same time) would never hear of them. This is
  // the check uv_poll_init makes (uv__fd_exists), made again at each start since handles now
  // leave the loop between waits.
  const uv_loop_t* loop = poll_.loop;
  if (static_cast<unsigned>(fd_) >= loop->nwatchers) return false;
  const uv__io_t* w = loop->watchers[fd_];
  return w != nullptr && w != &poll_.io_watcher;
}

bool LoopWatch::AddToBackend() {
#if defined(__linux__)
  // What uv__io_poll would add: the fd, for reading, keyed by itself.
  struct epoll_event e{};
  e.events = EPOLLIN;
  e.data.fd = fd_;
  return epoll_ctl(uv_backend_fd(poll_.loop), EPOLL_CTL_ADD, fd_, &e) == 0 || errno == EEXIST;
#else
  return true;  // kqueue backends have no such limit, and report errors without aborting.
#endif
}

int LoopWatch::WatchOnThread() {
  const char* syscall = "";
  if (thread_ == nullptr) {
    int err = 0;
    thread_ = WaiterCore::Create(env_, OnThreadDone, this, &err, &syscall);
    if (thread_ == nullptr) return -err;
  }
  int32_t rec[2] = {fd_, POLLIN};
  int err = thread_->Start(WaitKind::kPoll, false, false, -1, rec, 1, &syscall);
  if (err != 0) return -err;
  thread_->SetActive(true);
  on_thread_ = true;
  return 0;
}

void LoopWatch::StopWatching() {
  if (poll_open_) uv_poll_stop(&poll_);  // Also takes fd_ out of libuv's epoll set at once.
  on_thread_ = false;
  if (thread_ != nullptr) {
    thread_->SetActive(false);
    thread_->StopThread();  // Wakes and joins it: an idle object holds no thread and no fd.
  }
}

void LoopWatch::OnThreadDone(void* self) {
  LoopWatch* w = static_cast<LoopWatch*>(self);
  int n, err;
  WaitCounts counts;
  if (!w->thread_->TakeResult(&n, &err, &counts)) return;
  // A result that arrives after the wait ended (the thread was stopped) is stale.
  if (n == kWaitCancelled || !w->on_thread_ || !w->Pending()) return;
  w->on_thread_ = false;
  w->thread_->SetActive(false);
  Napi::HandleScope scope(w->env_);
  if (!w->Ready()) return;
  if (n == kWaitFailed) {
    w->Finish(ErrnoError(w->env_, err, "poll").Value(), w->env_.Undefined());
    return;
  }
  w->OnFdReady();
}

void LoopWatch::OnFdReady() {
  int n = Drain();
  // Zero: someone else (a fromFd twin, a thread) took the events first, or libkqueue woke for
  // its own bookkeeping; keep waiting.
  if (n != 0) {
    Complete(n);
  } else if (on_thread_ == false && !(poll_open_ && uv_is_active(reinterpret_cast<uv_handle_t*>(&poll_)))) {
    int rc = WatchOnThread();
    if (rc != 0) Finish(ErrnoError(env_, -rc, "poll").Value(), env_.Undefined());
  }
}

void LoopWatch::ArmTimer() {
  // The loop's clock was read when this iteration began; JS may have run for a while since,
  // and a timer counted from that stale time would fire early.
  uv_update_time(timer_.loop);
  // uv timers count whole ms: round up, and OnTimer checks the precise deadline.
  uv_timer_start(&timer_, OnTimer, static_cast<uint64_t>(TimeLeftMs(deadline_)), 0);
}

void LoopWatch::Stop(PendingWait* out) {
  uv_timer_stop(&timer_);
  if (poll_open_ && uv_is_active(reinterpret_cast<uv_handle_t*>(&poll_))) {
    // The fd leaves libuv's epoll set at the start of the next loop turn unless a new wait
    // starts first, as the usual loop does from the callback: that one then costs no
    // epoll_ctl at all, and an idle object holds no wakeup path for more than one turn.
    uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
    uv_timer_start(&timer_, OnIdle, 0, 0);
  }
  if (on_thread_ || thread_ != nullptr) {
    on_thread_ = false;
    if (thread_ != nullptr) {
      thread_->SetActive(false);
      thread_->StopThread();  // Wakes and joins it: an idle object holds no thread and no fd.
    }
  }
  if (!pending_.Active()) return;
  WaitEnded();
  if (out != nullptr) {
    *out = std::move(pending_);
  } else {
    pending_ = PendingWait();
  }
}

void LoopWatch::OnIdle(uv_timer_t* handle) {
  LoopWatch* w = static_cast<LoopWatch*>(handle->data);
  if (!w->Pending() && w->poll_open_) uv_poll_stop(&w->poll_);
}

void LoopWatch::Close() {
  if (closing_) return;
  closing_ = true;
  Detach();
  if (thread_ != nullptr) {
    thread_->Shutdown();  // Joins the thread; no JS call.
    thread_->Release();
    thread_ = nullptr;
    on_thread_ = false;
  }
  if (poll_open_) uv_close(reinterpret_cast<uv_handle_t*>(&poll_), OnClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), OnClosed);
}

void LoopWatch::OnClosed(uv_handle_t* handle) {
  LoopWatch* w = static_cast<LoopWatch*>(handle->data);
  if (--w->open_handles_ > 0) return;
  if (w->hook_ != nullptr) napi_remove_async_cleanup_hook(w->hook_);
  delete w;
}

void LoopWatch::OnEnvCleanup(napi_async_cleanup_hook_handle, void* arg) {
  // JS can no longer run: a pending wait is dropped unsettled, then the handles are closed.
  // OnClosed removes the hook, which tells Node that this cleanup is complete.
  LoopWatch* w = static_cast<LoopWatch*>(arg);
  if (w->closing_) return;
  w->Stop(nullptr);
  w->Close();
}

void LoopWatch::Finish(Napi::Value err, Napi::Value result) {
  PendingWait done;
  Stop(&done);
  // Nothing after this may touch `this` any more: the callback may have closed the owner.
  done.SettleFromLoop(env_, err, result);
}

bool LoopWatch::Ready() {
  if (CanRunJs(env_)) return true;
  // The env is going away: stay quiet until the cleanup hook closes the handles.
  StopWatching();
  uv_timer_stop(&timer_);
  return false;
}

void LoopWatch::OnReadable(uv_poll_t* handle, int status, int) {
  LoopWatch* w = static_cast<LoopWatch*>(handle->data);
  if (!w->Pending()) {
    uv_poll_stop(handle);  // Nobody waits: do not spin on a readable fd.
    return;
  }
  Napi::HandleScope scope(w->env_);
  if (!w->Ready()) return;
  if (status < 0) {
    w->Finish(ErrnoError(w->env_, -status, "uv_poll").Value(), w->env_.Undefined());
    return;
  }
  w->OnFdReady();
}

void LoopWatch::OnTimer(uv_timer_t* handle) {
  LoopWatch* w = static_cast<LoopWatch*>(handle->data);
  Napi::HandleScope scope(w->env_);
  if (!w->Ready()) return;
  int n = w->Drain();
  struct timespec left;
  TimeLeft(w->deadline_, &left);
  // libuv's clock has ms granularity and may fire a little before the precise deadline.
  if (n == 0 && (left.tv_sec > 0 || left.tv_nsec > 0)) {
    w->ArmTimer();
    return;
  }
  w->Complete(n);
}

void PendingWait::Begin(Napi::Env env, Napi::Function cb, const char* resource,
                        Napi::Int32Array out_array) {
  callback = Napi::Persistent(cb);
  context = std::make_unique<Napi::AsyncContext>(env, resource);
  if (!out_array.IsEmpty()) out = Napi::Persistent(out_array);
}

void PendingWait::SettleFromLoop(Napi::Env env, Napi::Value err, Napi::Value result) {
  Settle(env, err, result);
  if (env.IsExceptionPending()) {
    Napi::Error e = env.GetAndClearPendingException();
    if (CanRunJs(env)) napi_fatal_exception(env, e.Value());
  }
}

void PendingWait::Settle(Napi::Env env, Napi::Value err, Napi::Value result) {
  Napi::FunctionReference cb = std::move(callback);
  std::unique_ptr<Napi::AsyncContext> ctx = std::move(context);
  out.Reset();
  napi_value argv[2] = {err, result};
  napi_value ignored;
  // The raw call: the env may start terminating while the callback runs, and the wrapper would
  // then make a fatal error of the failed status. MakeCallback wants an object as `this`.
  napi_make_callback(env, *ctx, env.Global(), cb.Value(), 2, argv, &ignored);
}

bool LoopWatchOwner::CheckOpen(Napi::Env env) {
  if (fd_ >= 0) return true;
  ThrowClosed(env, what_);
  return false;
}

Napi::Value LoopWatchOwner::Fileno(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  return Napi::Number::New(env, fd_);
}

int LoopWatchOwner::CloseOwnedFd(Napi::Env env) {
  if (fd_ < 0) return 0;
  PendingWait pending;
  ReleaseWatch(&pending);
  int rc = close(fd_);
  int err = rc != 0 && errno != EINTR ? errno : 0;
  fd_ = -1;
  if (pending.Active()) pending.Settle(env, ClosedError(env, what_).Value(), env.Undefined());
  return err;
}

Napi::Value LoopWatchOwner::AdoptFd(const Napi::CallbackInfo& info,
                                    const Napi::FunctionReference& ctor) {
  Napi::Env env = info.Env();
  int fd;
  if (!ReadFd(info, 0, &fd)) return env.Undefined();
  if (fcntl(fd, F_GETFD) < 0) {
    int err = errno;
    return ThrowErrno(env, err, "fcntl");
  }
  Napi::Object obj = ctor.New({Napi::External<int>::New(env, &fd)});
  return env.IsExceptionPending() ? env.Undefined() : obj;
}

}  // namespace iomux
