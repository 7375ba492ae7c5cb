// Epoll#waitAsync: an asynchronous wait with no thread. The epoll fd is itself pollable (it
// turns readable when its ready list is not empty), so a uv_poll_t watches it in Node's own
// loop; when it fires, one zero-timeout epoll_wait drains as many events as were asked for.
// A uv_timer_t ends the wait at its deadline. The handles are made on the first wait; between
// waits the timer is stopped and the poll handle unreferenced (so neither keeps the loop
// alive; the poll handle is stopped the first time it fires with no wait pending). They are
// closed by close(), by the destructor, or by an async cleanup hook when the env is torn down
// (a worker terminated mid-wait): the memory is freed only from libuv's close callbacks.
#include <errno.h>
#include <limits.h>
#include <uv.h>

#include "addon.h"
#include "args.h"
#include "epoll.h"
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

class EpollWaiter {
 public:
  // Makes the handles for owner's fd. Returns nullptr with *uverr set when libuv refuses.
  static EpollWaiter* Create(Napi::Env env, Epoll* owner, int* uverr);
  // Starts a wait that will call cb(err, events), or cb(err, count) after writing records of
  // stride int32s into out when stride is not 0. Returns 0 or a libuv error.
  int Start(Napi::Function cb, double ms, int maxevents, Napi::Int32Array out, int stride);
  bool Pending() const { return pending_.Active(); }
  // Stops watching. A pending wait moves to *out, or is dropped when out is null.
  void Stop(PendingWait* out);
  // Detaches from the owner and closes the handles; `this` is deleted once libuv is done.
  void Close();

 private:
  EpollWaiter(Napi::Env env, Epoll* owner) : env_(env), owner_(owner) {}
  static void OnReadable(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);
  static void OnClosed(uv_handle_t* handle);
  static void OnEnvCleanup(napi_async_cleanup_hook_handle hook, void* arg);
  void ArmTimer();
  // One zero-timeout epoll_wait into the owner's buffer: the count, or -1 with errno set.
  int Drain();
  // Settles the wait with n drained events, or with errno's error when n < 0.
  void Complete(int n);
  void Finish(Napi::Value err, Napi::Value result);
  // False (with the handles stopped) once the env can no longer run JS.
  bool Ready();

  Napi::Env env_;
  Epoll* owner_;
  uv_poll_t poll_;
  uv_timer_t timer_;
  int open_handles_ = 0;
  bool closing_ = false;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  PendingWait pending_;
  Deadline deadline_{};
  int maxevents_ = 1;
  // waitIntoAsync: the caller's buffer (held until the wait ends) and its record size; 0 for
  // waitAsync, which answers with a new array of pairs.
  Napi::Reference<Napi::Int32Array> out_;
  int stride_ = 0;
};

EpollWaiter* EpollWaiter::Create(Napi::Env env, Epoll* owner, int* uverr) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    *uverr = UV_EINVAL;
    return nullptr;
  }
  EpollWaiter* w = new EpollWaiter(env, owner);
  int rc = uv_poll_init(loop, &w->poll_, owner->epfd_);
  if (rc != 0) {
    delete w;  // A handle whose init failed is not known to the loop.
    *uverr = rc;
    return nullptr;
  }
  uv_timer_init(loop, &w->timer_);
  w->poll_.data = w;
  w->timer_.data = w;
  w->open_handles_ = 2;
  // Node runs the loop until this hook is removed (in OnClosed), so the handles are closed
  // properly even when the env goes away with a wait pending.
  napi_add_async_cleanup_hook(env, OnEnvCleanup, w, &w->hook_);
  return w;
}

int EpollWaiter::Start(Napi::Function cb, double ms, int maxevents, Napi::Int32Array out,
                       int stride) {
  // uv_poll_start() on an active handle would stop it first (an epoll_ctl DEL, then an ADD on
  // the next loop turn); a handle left running since the last wait only needs its ref back.
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&poll_))) {
    int rc = uv_poll_start(&poll_, UV_READABLE, OnReadable);
    if (rc != 0) return rc;
  }
  uv_ref(reinterpret_cast<uv_handle_t*>(&poll_));
  pending_.callback = Napi::Persistent(cb);
  pending_.context = std::make_unique<Napi::AsyncContext>(env_, "iomux:Epoll.pollAsync");
  deadline_ = MakeDeadline(ms);
  maxevents_ = maxevents;
  stride_ = stride;
  if (stride != 0) out_ = Napi::Persistent(out);
  owner_->Ref();  // The object must outlive its pending wait, even unreachable from JS.
  owner_->stats_.Add(kStatCalls, 1);
  if (ms >= 0) ArmTimer();
  return 0;
}

void EpollWaiter::ArmTimer() {
  // The loop's clock was read when this iteration began; JS may have run for a while since,
  // and a timer counted from that stale time would fire early.
  uv_update_time(poll_.loop);
  // uv timers count whole ms: round up, and OnTimer checks the precise deadline.
  uv_timer_start(&timer_, OnTimer, static_cast<uint64_t>(TimeLeftMs(deadline_)), 0);
}

void EpollWaiter::Stop(PendingWait* out) {
  // The poll handle stays running but unreferenced, so that a wait started right after this
  // one (the usual loop) costs no epoll_ctl; it keeps nothing alive, and OnReadable stops it
  // for good if the fd turns readable with no wait pending.
  uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
  uv_timer_stop(&timer_);
  out_.Reset();
  if (!pending_.Active()) return;
  if (owner_ != nullptr) owner_->Unref();
  if (out != nullptr) {
    *out = std::move(pending_);
  } else {
    pending_ = PendingWait();
  }
}

void EpollWaiter::Close() {
  if (closing_) return;
  closing_ = true;
  if (owner_ != nullptr) owner_->ForgetWaiter();
  owner_ = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), OnClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), OnClosed);
}

void EpollWaiter::OnClosed(uv_handle_t* handle) {
  EpollWaiter* w = static_cast<EpollWaiter*>(handle->data);
  if (--w->open_handles_ > 0) return;
  if (w->hook_ != nullptr) napi_remove_async_cleanup_hook(w->hook_);
  delete w;
}

void EpollWaiter::OnEnvCleanup(napi_async_cleanup_hook_handle, void* arg) {
  // JS can no longer run: a pending wait is dropped unsettled, then the handles are closed.
  // OnClosed removes the hook, which tells Node that this cleanup is complete.
  EpollWaiter* w = static_cast<EpollWaiter*>(arg);
  if (w->closing_) return;
  w->Stop(nullptr);
  w->Close();
}

int EpollWaiter::Drain() {
  epoll_event* buf = owner_->Buffer(maxevents_);
  Stats& stats = owner_->stats_;
  int n;
  do {
    long long t0 = stats.Start();
    n = epoll_wait(owner_->epfd_, buf, maxevents_, 0);
    stats.Stop(kStatSyscallNs, t0);
    stats.Add(kStatSyscalls, 1);
  } while (n < 0 && errno == EINTR);
  return n;
}

void EpollWaiter::Complete(int n) {
  if (n < 0) {
    int err = errno;
    Finish(ErrnoError(env_, err, "epoll_wait").Value(), env_.Undefined());
  } else if (stride_ != 0) {
    // The buffer held maxevents_ records when the wait started; a buffer detached since (its
    // ArrayBuffer transferred) holds none, and the events are then reported as 0.
    Napi::Int32Array out = out_.Value();
    size_t room = out.ElementLength() / static_cast<size_t>(stride_);
    if (static_cast<size_t>(n) > room) n = static_cast<int>(room);
    owner_->EventsToRecords(out.Data(), n, stride_);
    owner_->stats_.Add(kStatEvents, n);
    Finish(env_.Null(), Napi::Number::New(env_, n));
  } else {
    owner_->stats_.Add(kStatEvents, n);
    Finish(env_.Null(), owner_->EventsToArray(env_, n));
  }
}

void EpollWaiter::Finish(Napi::Value err, Napi::Value result) {
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

bool EpollWaiter::Ready() {
  if (CanRunJs(env_)) return true;
  // The env is going away: stay quiet until the cleanup hook closes the handles.
  uv_poll_stop(&poll_);
  uv_timer_stop(&timer_);
  return false;
}

void EpollWaiter::OnReadable(uv_poll_t* handle, int status, int) {
  EpollWaiter* w = static_cast<EpollWaiter*>(handle->data);
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
  // Zero: someone else (a fromFd twin, a thread) took the events first; keep waiting.
  if (n != 0) w->Complete(n);
}

void EpollWaiter::OnTimer(uv_timer_t* handle) {
  EpollWaiter* w = static_cast<EpollWaiter*>(handle->data);
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
  napi_value argv[2] = {err, result};
  napi_value ignored;
  // The raw call: the env may start terminating while the callback runs, and the wrapper would
  // then make a fatal error of the failed status. MakeCallback wants an object as `this`.
  napi_make_callback(env, *ctx, env.Global(), cb.Value(), 2, argv, &ignored);
}

bool Epoll::WaitPending() const { return waiter_ != nullptr && waiter_->Pending(); }

void Epoll::ReleaseWaiter(PendingWait* pending) {
  if (waiter_ == nullptr) return;
  EpollWaiter* w = waiter_;
  w->Stop(pending);
  w->Close();  // Clears waiter_.
}

Napi::Value Epoll::WaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckCanWait(env)) return env.Undefined();
  double ms;
  int32_t maxevents;
  if (!ReadTimeout(info, 0, &ms) || !ReadCount(info, 1, "maxevents", 1024, &maxevents)) {
    return env.Undefined();
  }
  return StartAsync(env, info[2], ms, maxevents, Napi::Int32Array(), 0);
}

// waitIntoAsync(out, timeoutMs, stride, callback): as pollInto, but asynchronous. The records
// are written into out just before callback(null, count) runs.
Napi::Value Epoll::WaitIntoAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckCanWait(env)) return env.Undefined();
  Napi::Int32Array out;
  double ms;
  int32_t stride;
  if (!ReadInt32Array(info, 0, "out", &out) || !ReadTimeout(info, 1, &ms) ||
      !ReadCount(info, 2, "stride", 2, &stride)) {
    return env.Undefined();
  }
  size_t records = out.ElementLength() / (stride == 2 || stride == 3 ? stride : 1);
  if ((stride != 2 && stride != 3) || records == 0) {
    return ThrowRangeError(env, "The value of \"out.length\" is out of range");
  }
  int maxevents = records > INT_MAX ? INT_MAX : static_cast<int>(records);
  return StartAsync(env, info[3], ms, maxevents, out, stride);
}

Napi::Value Epoll::StartAsync(Napi::Env env, Napi::Value cb, double ms, int maxevents,
                              Napi::Int32Array out, int stride) {
  if (!cb.IsFunction()) {
    return ThrowTypeError(env, "The \"callback\" argument must be of type function");
  }
  if (waiter_ == nullptr) {
    int uverr;
    waiter_ = EpollWaiter::Create(env, this, &uverr);
    if (waiter_ == nullptr) return ThrowErrno(env, -uverr, "uv_poll_init");
  }
  int rc = waiter_->Start(cb.As<Napi::Function>(), ms, maxevents, out, stride);
  if (rc != 0) return ThrowErrno(env, -rc, "uv_poll_start");
  return env.Undefined();
}

Napi::Value Epoll::CancelWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool was = WaitPending();
  if (was) waiter_->Stop(nullptr);
  return Napi::Boolean::New(env, was);
}

}  // namespace iomux
