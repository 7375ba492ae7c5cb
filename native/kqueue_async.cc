// Kqueue#waitAsync: an asynchronous wait with no thread. A kernel kqueue fd is itself pollable
// (it turns readable while events are pending), so a uv_poll_t watches it in Node's own loop;
// when it fires, one zero-timeout kevent() drains as many events as were asked for. libkqueue's
// fd is not pollable (it is one end of a close-detection pipe): there the epoll fd libkqueue
// waits on internally is watched instead (FindLibkqueueEpoll), which turns readable in the same
// cases. A uv_timer_t ends the wait at its deadline. The handles are made on the first wait and
// kept (the timer stopped, the poll handle unreferenced) between waits; they are closed by
// close(), the destructor, or an async cleanup hook when the env is torn down, and the memory is
// freed only from libuv's close callbacks. Same model as epoll_async.cc.
#include <errno.h>
#include <uv.h>
#if defined(HAVE_LIBKQUEUE)
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>
#endif

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "kqueue.h"
#include "kqueue_record.h"
#include "timeout.h"

namespace iomux {

// A terminating worker can no longer run JS; this probe fails quietly then (NAPI_PREAMBLE).
static bool CanRunJs(napi_env env) {
  napi_value global;
  bool has;
  return napi_get_global(env, &global) == napi_ok &&
         napi_has_element(env, global, 0, &has) == napi_ok;
}

#if defined(HAVE_LIBKQUEUE)
// The target of /proc/self/fd/<fd> ("pipe:[123]", "anon_inode:[eventpoll]"), or "".
static std::string FdLink(const char* fd) {
  std::string path = std::string("/proc/self/fd/") + fd;
  char buf[128];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Whether the epoll fd `fd` watches one of `fds` without EPOLLONESHOT (/proc/self/fdinfo).
static bool WatchesPlainly(const char* fd, const std::set<int>& fds) {
  std::string path = std::string("/proc/self/fdinfo/") + fd;
  char line[256];
  FILE* f = fopen(path.c_str(), "re");
  if (f == nullptr) return false;
  bool found = false;
  while (!found && fgets(line, sizeof line, f) != nullptr) {
    int tfd;
    unsigned events;
    if (sscanf(line, "tfd: %d events: %x", &tfd, &events) == 2) {
      found = fds.count(tfd) > 0 && (events & 0x40000000u) == 0;  // EPOLLONESHOT
    }
  }
  fclose(f);
  return found;
}

// libkqueue's kqueue fd is not pollable: it is the write end of a pipe whose read end libkqueue
// adds to the kqueue's own epoll set (to notice the close), and with EPOLLONESHOT to one
// process-wide monitoring epoll. The kqueue's own epoll set holds every fd the emulated filters
// wait on, so it turns readable exactly when kevent() has something to return: that is the fd
// to watch. It is found through /proc and depends on libkqueue's layout (src/linux/platform.c,
// linux_kqueue_init); -1 when it is not as expected.
static int FindLibkqueueEpoll(int kq) {
  char self[16];
  snprintf(self, sizeof self, "%d", kq);
  std::string pipe = FdLink(self);
  if (pipe.compare(0, 5, "pipe:") != 0) return -1;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  std::set<int> read_ends;
  std::set<std::string> epolls;
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.' || strcmp(e->d_name, self) == 0) continue;
    std::string link = FdLink(e->d_name);
    if (link == pipe) read_ends.insert(atoi(e->d_name));
    if (link == "anon_inode:[eventpoll]") epolls.insert(e->d_name);
  }
  closedir(dir);
  for (const std::string& fd : epolls) {
    if (WatchesPlainly(fd.c_str(), read_ends)) return atoi(fd.c_str());
  }
  return -1;
}
#endif

// The fd that turns readable while kevent() has events to return.
static int WatchFdOf(int kq) {
#if defined(HAVE_LIBKQUEUE)
  return FindLibkqueueEpoll(kq);
#else
  return kq;
#endif
}

class KqueueWaiter {
 public:
  // Makes the handles watching watch_fd. Returns nullptr with *uverr set when libuv refuses.
  static KqueueWaiter* Create(Napi::Env env, Kqueue* owner, int watch_fd, int* uverr);
  // Starts a wait that will call cb(err, count) after writing count records into out.
  int Start(Napi::Function cb, Napi::Int32Array out, double ms, int maxevents);
  bool Pending() const { return pending_.Active(); }
  // Stops watching. A pending wait moves to *out, or is dropped when out is null.
  void Stop(KqueuePendingWait* out);
  // Detaches from the owner and closes the handles; `this` is deleted once libuv is done.
  void Close();

 private:
  KqueueWaiter(Napi::Env env, Kqueue* owner, int watch_fd)
      : env_(env), owner_(owner), watch_fd_(watch_fd) {}
  static void OnReadable(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);
  static void OnClosed(uv_handle_t* handle);
  static void OnEnvCleanup(napi_async_cleanup_hook_handle hook, void* arg);
  void ArmTimer();
  // One zero-timeout kevent() into the owner's buffer: the count, or -1 with errno set.
  int Drain();
  // Settles the wait with n drained events, or with errno's error when n < 0.
  void Complete(int n);
  void Finish(Napi::Value err, Napi::Value result);
  bool Ready();

  Napi::Env env_;
  Kqueue* owner_;
  int watch_fd_;
  uv_poll_t poll_;
  uv_timer_t timer_;
  int open_handles_ = 0;
  bool closing_ = false;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  KqueuePendingWait pending_;
  Deadline deadline_{};
  int maxevents_ = 1;
};

KqueueWaiter* KqueueWaiter::Create(Napi::Env env, Kqueue* owner, int watch_fd, int* uverr) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    *uverr = UV_EINVAL;
    return nullptr;
  }
  KqueueWaiter* w = new KqueueWaiter(env, owner, watch_fd);
  int rc = uv_poll_init(loop, &w->poll_, watch_fd);
  if (rc != 0) {
    delete w;  // A handle whose init failed is not known to the loop.
    *uverr = rc;
    return nullptr;
  }
  uv_timer_init(loop, &w->timer_);
  w->poll_.data = w;
  w->timer_.data = w;
  w->open_handles_ = 2;
  napi_add_async_cleanup_hook(env, OnEnvCleanup, w, &w->hook_);
  return w;
}

int KqueueWaiter::Start(Napi::Function cb, Napi::Int32Array out, double ms, int maxevents) {
  // A handle left running since the last wait only needs its ref back (no re-registration).
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&poll_))) {
    int rc = uv_poll_start(&poll_, UV_READABLE, OnReadable);
    if (rc != 0) return rc;
  }
  uv_ref(reinterpret_cast<uv_handle_t*>(&poll_));
  pending_.callback = Napi::Persistent(cb);
  pending_.context = std::make_unique<Napi::AsyncContext>(env_, "iomux:Kqueue.controlAsync");
  pending_.out = Napi::Persistent(out);
  deadline_ = MakeDeadline(ms);
  maxevents_ = maxevents;
  owner_->Ref();  // The object must outlive its pending wait, even unreachable from JS.
  owner_->stats_.Add(kStatCalls, 1);
  if (ms >= 0) ArmTimer();
  return 0;
}

void KqueueWaiter::ArmTimer() {
  // The loop's clock was read when this iteration began; JS may have run since.
  uv_update_time(poll_.loop);
  // uv timers count whole ms: round up, and OnTimer checks the precise deadline.
  uv_timer_start(&timer_, OnTimer, static_cast<uint64_t>(TimeLeftMs(deadline_)), 0);
}

void KqueueWaiter::Stop(KqueuePendingWait* out) {
  uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
  uv_timer_stop(&timer_);
  if (!pending_.Active()) return;
  if (owner_ != nullptr) owner_->Unref();
  if (out != nullptr) {
    *out = std::move(pending_);
  } else {
    pending_ = KqueuePendingWait();
  }
}

void KqueueWaiter::Close() {
  if (closing_) return;
  closing_ = true;
  if (owner_ != nullptr) owner_->ForgetWaiter();
  owner_ = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), OnClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), OnClosed);
}

void KqueueWaiter::OnClosed(uv_handle_t* handle) {
  KqueueWaiter* w = static_cast<KqueueWaiter*>(handle->data);
  if (--w->open_handles_ > 0) return;
  if (w->hook_ != nullptr) napi_remove_async_cleanup_hook(w->hook_);
  delete w;
}

void KqueueWaiter::OnEnvCleanup(napi_async_cleanup_hook_handle, void* arg) {
  KqueueWaiter* w = static_cast<KqueueWaiter*>(arg);
  if (w->closing_) return;
  w->Stop(nullptr);
  w->Close();
}

int KqueueWaiter::Drain() {
  Kqueue* k = owner_;
  if (k->events_.size() < static_cast<size_t>(maxevents_)) k->events_.resize(maxevents_);
  struct timespec zero = {0, 0};
  int n;
  do {
    long long t0 = k->stats_.Start();
    errno = 0;
    n = kevent(k->fd_, nullptr, 0, k->events_.data(), maxevents_, &zero);
    int err = errno;
    k->stats_.Stop(kStatSyscallNs, t0);
    k->stats_.Add(kStatSyscalls, 1);
    errno = (n < 0 && err == 0) ? EINVAL : err;  // libkqueue may fail without an errno.
  } while (n < 0 && errno == EINTR);
  return n;
}

void KqueueWaiter::Complete(int n) {
  if (n < 0) {
    int err = errno;
    Finish(ErrnoError(env_, err, "kevent").Value(), env_.Undefined());
    return;
  }
  Napi::Int32Array out = pending_.out.Value();
  for (int i = 0; i < n; i++) PackKevent(owner_->events_[i], out.Data() + i * kKevWords);
  owner_->stats_.Add(kStatEvents, n);
  Finish(env_.Null(), Napi::Number::New(env_, n));
}

void KqueueWaiter::Finish(Napi::Value err, Napi::Value result) {
  KqueuePendingWait done;
  Stop(&done);
  Napi::Env env = env_;
  done.Settle(env, err, result);
  // Nothing here may touch `this` any more: the callback may have closed the owner.
  if (env.IsExceptionPending()) {
    Napi::Error e = env.GetAndClearPendingException();
    if (CanRunJs(env)) napi_fatal_exception(env, e.Value());
  }
}

bool KqueueWaiter::Ready() {
  if (CanRunJs(env_)) return true;
  uv_poll_stop(&poll_);
  uv_timer_stop(&timer_);
  return false;
}

void KqueueWaiter::OnReadable(uv_poll_t* handle, int status, int) {
  KqueueWaiter* w = static_cast<KqueueWaiter*>(handle->data);
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
  // Zero: someone else (a fromFd twin) took the events, or libkqueue woke for its own
  // bookkeeping; keep waiting.
  if (n != 0) w->Complete(n);
}

void KqueueWaiter::OnTimer(uv_timer_t* handle) {
  KqueueWaiter* w = static_cast<KqueueWaiter*>(handle->data);
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

void KqueuePendingWait::Settle(Napi::Env env, Napi::Value err, Napi::Value result) {
  Napi::FunctionReference cb = std::move(callback);
  std::unique_ptr<Napi::AsyncContext> ctx = std::move(context);
  out.Reset();
  napi_value argv[2] = {err, result};
  napi_value ignored;
  napi_make_callback(env, *ctx, env.Global(), cb.Value(), 2, argv, &ignored);
}

bool Kqueue::WaitPending() const { return waiter_ != nullptr && waiter_->Pending(); }

void Kqueue::ReleaseWaiter(KqueuePendingWait* pending) {
  if (waiter_ == nullptr) return;
  KqueueWaiter* w = waiter_;
  w->Stop(pending);
  w->Close();  // Clears waiter_.
}

// waitAsync(out: Int32Array, maxevents, timeoutMs, callback(err, count)).
Napi::Value Kqueue::WaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  if (WaitPending()) {
    return ThrowCodeError(env, "ERR_BUSY",
                          "kqueue fd " + std::to_string(fd_) + " already has a wait in progress");
  }
  Napi::Int32Array out;
  uint32_t maxevents;
  double ms;
  if (!ReadInt32Array(info, 0, "out", &out) || !ReadUint32(info, 1, "maxevents", &maxevents) ||
      !ReadTimeout(info, 2, &ms)) {
    return env.Undefined();
  }
  if (maxevents == 0 || maxevents > kMaxEvents || out.ElementLength() / kKevWords < maxevents) {
    return ThrowRangeError(env, "The value of \"maxevents\" is out of range");
  }
  if (!info[3].IsFunction()) {
    return ThrowTypeError(env, "The \"callback\" argument must be of type function");
  }
  if (waiter_ == nullptr) {
    int watch_fd = WatchFdOf(fd_);
    if (watch_fd < 0) {
      return ThrowCodeError(env, "ERR_NOT_SUPPORTED",
                            "libkqueue's internal epoll fd was not found: no async waits");
    }
    int uverr;
    waiter_ = KqueueWaiter::Create(env, this, watch_fd, &uverr);
    if (waiter_ == nullptr) return ThrowErrno(env, -uverr, "uv_poll_init");
  }
  int rc = waiter_->Start(info[3].As<Napi::Function>(), out, ms, static_cast<int>(maxevents));
  if (rc != 0) return ThrowErrno(env, -rc, "uv_poll_start");
  return env.Undefined();
}

Napi::Value Kqueue::CancelWait(const Napi::CallbackInfo& info) {
  bool was = WaitPending();
  if (was) waiter_->Stop(nullptr);
  return Napi::Boolean::New(info.Env(), was);
}

}  // namespace iomux
