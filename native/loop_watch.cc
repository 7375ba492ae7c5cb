// LoopWatch (see loop_watch.h): the uv_poll_t + uv_timer_t pair of the no-thread async waits.
#include "loop_watch.h"

#include "errors.h"

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
  int rc = uv_poll_init(loop, &poll_, fd);
  if (rc != 0) return rc;  // A handle whose init failed is not known to the loop.
  uv_timer_init(loop, &timer_);
  poll_.data = this;
  timer_.data = this;
  open_handles_ = 2;
  // Node runs the loop until this hook is removed (in OnClosed), so the handles are closed
  // properly even when the env goes away with a wait pending.
  napi_add_async_cleanup_hook(env_, OnEnvCleanup, this, &hook_);
  return 0;
}

int LoopWatch::Begin(Napi::Function cb, const char* resource, Napi::Int32Array out, double ms,
                     int maxevents) {
  // uv_poll_start() on an active handle would stop it first (an epoll_ctl DEL, then an ADD on
  // the next loop turn); a handle left running since the last wait only needs its ref back.
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&poll_))) {
    int rc = uv_poll_start(&poll_, UV_READABLE, OnReadable);
    if (rc != 0) return rc;
  }
  uv_ref(reinterpret_cast<uv_handle_t*>(&poll_));
  pending_.callback = Napi::Persistent(cb);
  pending_.context = std::make_unique<Napi::AsyncContext>(env_, resource);
  if (!out.IsEmpty()) pending_.out = Napi::Persistent(out);
  deadline_ = MakeDeadline(ms);
  maxevents_ = maxevents;
  if (ms >= 0) ArmTimer();
  return 0;
}

void LoopWatch::ArmTimer() {
  // The loop's clock was read when this iteration began; JS may have run for a while since,
  // and a timer counted from that stale time would fire early.
  uv_update_time(poll_.loop);
  // uv timers count whole ms: round up, and OnTimer checks the precise deadline.
  uv_timer_start(&timer_, OnTimer, static_cast<uint64_t>(TimeLeftMs(deadline_)), 0);
}

void LoopWatch::Stop(PendingWait* out) {
  // The poll handle stays running but unreferenced, so that a wait started right after this
  // one (the usual loop) costs no re-registration; it keeps nothing alive, and OnReadable
  // stops it for good if the fd turns readable with no wait pending.
  uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
  uv_timer_stop(&timer_);
  if (!pending_.Active()) return;
  WaitEnded();
  if (out != nullptr) {
    *out = std::move(pending_);
  } else {
    pending_ = PendingWait();
  }
}

void LoopWatch::Close() {
  if (closing_) return;
  closing_ = true;
  Detach();
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), OnClosed);
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
  Napi::Env env = env_;
  done.Settle(env, err, result);
  // Nothing here may touch `this` any more: the callback may have closed the owner. What the
  // callback threw goes to 'uncaughtException', unless the env is being torn down.
  if (env.IsExceptionPending()) {
    Napi::Error e = env.GetAndClearPendingException();
    if (CanRunJs(env)) napi_fatal_exception(env, e.Value());
  }
}

bool LoopWatch::Ready() {
  if (CanRunJs(env_)) return true;
  // The env is going away: stay quiet until the cleanup hook closes the handles.
  uv_poll_stop(&poll_);
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
  int n = w->Drain();
  // Zero: someone else (a fromFd twin, a thread) took the events first, or libkqueue woke for
  // its own bookkeeping; keep waiting.
  if (n != 0) w->Complete(n);
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

}  // namespace iomux
