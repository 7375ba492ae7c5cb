// SyncInterrupt (see sync_interrupt.h).
#include "sync_interrupt.h"

#include <errno.h>
#include <sched.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/epoll.h>
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#include <sys/event.h>
#define IOMUX_INTERRUPT_KQUEUE 1
#endif

#include "addon.h"
#include "errors.h"

namespace iomux {

SyncInterrupt* GetSyncInterrupt(napi_env env) { return &GetAddonData(env)->interrupt; }

SyncInterrupt::~SyncInterrupt() {
  // The env is gone by now (instance data is freed last): only the fd is left to release.
  if (watch_fd_ >= 0) close(watch_fd_);
}

// Adds fd to the set, edge-triggered: each write to it is one event, and the set stays
// readable until Check() takes them.
static bool Watch(int set, int fd) {
#if defined(__linux__)
  struct epoll_event e{};
  e.events = EPOLLIN | EPOLLET;
  e.data.fd = fd;
  return epoll_ctl(set, EPOLL_CTL_ADD, fd, &e) == 0 || errno == EEXIST;
#elif defined(IOMUX_INTERRUPT_KQUEUE)
  struct kevent kev;
  EV_SET(&kev, fd, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, 0);
  return kevent(set, &kev, 1, nullptr, 0, nullptr) == 0;
#else
  (void)set, (void)fd;
  return false;
#endif
}

int SyncInterrupt::Fd(napi_env env) {
  if (watch_fd_ < 0) {
#if defined(__linux__)
    int set = epoll_create1(EPOLL_CLOEXEC);
#elif defined(IOMUX_INTERRUPT_KQUEUE)
    int set = kqueue();
#else
    int set = -1;
#endif
    if (set < 0) return -1;  // Out of fds: this wait blocks as before; the next one tries again.
    uv_loop_t* loop = nullptr;
    napi_value fn;
    static const char kProbe[] = "(function iomuxTerminationProbe() {})";
    napi_value src;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr ||
        !Watch(set, loop->async_io_watcher.fd) ||
        napi_create_string_utf8(env, kProbe, sizeof kProbe - 1, &src) != napi_ok ||
        napi_run_script(env, src, &fn) != napi_ok ||
        napi_create_reference(env, fn, 1, &probe_) != napi_ok) {
      close(set);
      return -1;
    }
    loop_ = loop;
    watch_fd_ = set;
  }
  // libuv makes the signal pipe with the loop's first uv_signal_t (process.on('SIGINT')).
  if (signal_fd_ < 0 && loop_->signal_pipefd[0] >= 0 && Watch(watch_fd_, loop_->signal_pipefd[0])) {
    signal_fd_ = loop_->signal_pipefd[0];
  }
  return watch_fd_;
}

// uv_walk skips libuv's internal handles, so the loop's SIGCHLD watcher (child processes)
// never counts: only handles that Node made for JS listeners do.
int SyncInterrupt::PendingSignal() const {
  int signum = 0;
  uv_walk(
      loop_,
      [](uv_handle_t* h, void* arg) {
        if (h->type != UV_SIGNAL || !uv_is_active(h)) return;
        uv_signal_t* s = reinterpret_cast<uv_signal_t*>(h);
        // libuv's handler (on whichever thread got the signal) counts caught_signals after
        // writing to the pipe; the loop counts dispatched_signals when it calls back.
        unsigned caught = __atomic_load_n(&s->caught_signals, __ATOMIC_ACQUIRE);
        if (caught != s->dispatched_signals) *static_cast<int*>(arg) = s->signum;
      },
      &signum);
  return signum;
}

bool SyncInterrupt::Stopping(napi_env env) {
  // Worker::Exit (terminate(), or process.exit() stopping workers) marks the env stopping and
  // calls TerminateExecution from another thread. From then on N-API refuses to call into JS
  // (napi_pending_exception), and V8 unwinds the JS stack at its next interrupt check (a JS
  // function entry or loop), soon after the wait returns.
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, probe_, &fn) != napi_ok || napi_get_undefined(env, &recv) != napi_ok) {
    return true;
  }
  napi_status st = napi_call_function(env, recv, fn, 0, nullptr, &result);
  return st != napi_ok;
}

WakeReason SyncInterrupt::Check(napi_env env, bool eintr, int* signum) {
  if (watch_fd_ < 0) return WakeReason::kNone;
  bool signal_edge = false;
#if defined(__linux__)
  struct epoll_event evs[2];
  int n = epoll_wait(watch_fd_, evs, 2, 0);
  for (int i = 0; i < n; i++) signal_edge |= evs[i].data.fd == signal_fd_;
#elif defined(IOMUX_INTERRUPT_KQUEUE)
  struct kevent evs[2];
  struct timespec zero = {0, 0};
  int n = kevent(watch_fd_, nullptr, 0, evs, 2, &zero);
  for (int i = 0; i < n; i++) signal_edge |= static_cast<int>(evs[i].ident) == signal_fd_;
#endif
  *signum = PendingSignal();
  // A handler running on another thread writes to the pipe before it counts the signal: give
  // it a moment before deciding that the edge was the loop's own SIGCHLD watcher. (After EINTR
  // the handler ran on this thread and has finished.)
  for (int i = 0; *signum == 0 && signal_edge && !eintr && i < 3; i++) {
    sched_yield();
    *signum = PendingSignal();
  }
  if (*signum != 0) {
    unhandled_ = *signum;
    return WakeReason::kSignal;
  }
  return Stopping(env) ? WakeReason::kStopping : WakeReason::kNone;
}

SyncWake::SyncWake(Napi::Env env, double timeout_ms) : env_(env) {
  if (timeout_ms == 0) return;
  intr_ = GetSyncInterrupt(env);
  extra_.fd = intr_->Fd(env);
  extra_.should_stop = ShouldStop;
  extra_.ctx = this;
  extra_.optional = true;
}

bool SyncWake::ShouldStop(void* ctx, bool eintr) {
  SyncWake* self = static_cast<SyncWake*>(ctx);
  self->why_ = self->intr_->Check(self->env_, eintr, &self->signum_);
  return self->why_ != WakeReason::kNone;
}

bool SyncWake::Ended(const char* syscall) {
  if (why_ == WakeReason::kSignal) ThrowInterrupted(env_, syscall, signum_);
  return why_ != WakeReason::kNone;
}

int PollReadableOrWake(int fd, const Deadline& deadline, SyncWake* wake, Stats* stats) {
  for (;;) {
    struct pollfd p[2] = {{fd, POLLIN, 0}, {}};
    WaitCounts counts;
    int err = 0;
    int rc = PollOnce(p, 1, deadline, wake->extra(), WaitCounting{0, 0, stats->timing(), &counts}, &err);
    stats->AddCounts(counts);
    if (rc == -1 && err == EINVAL) return kInterruptUnwatched;
    if (rc == -1) {
      errno = err;
      return -1;
    }
    if (rc == 0 || rc == kWaitStopped) return 0;
    if (p[0].revents != 0) return 1;
    // Only the interrupt fd, and the wait goes on: poll again with the time left.
  }
}

}  // namespace iomux
