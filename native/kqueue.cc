// kqueue(2)/kevent(2): class Kqueue, an ObjectWrap that owns its kqueue fd. Built on macOS and
// the BSDs, and on Linux when linked against libkqueue (HAVE_LIBKQUEUE), which emulates kqueue
// on top of epoll, signalfd, timerfd, inotify and pidfd.
//
// Changes and results cross the JS boundary as flat Int32Array records of kKevWords words (see
// kqueue_record.h), packed and unpacked by lib/kqueue.ts, so a control() call makes no JS
// objects natively. struct kevent differs between platforms (FreeBSD 12+ adds ext[4]), so the
// records are copied into a per-object struct kevent vector that grows and is reused.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#if defined(__FreeBSD__)
#include <sys/param.h>  // __FreeBSD_version, for kqueue1()
#endif

#include <string>
#include <vector>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "kqueue.h"
#include "kqueue_constants.h"
#include "kqueue_record.h"
#include "stats.h"
#include "sync_interrupt.h"
#include "timeout.h"
#include "wait_once.h"

#if defined(HAVE_LIBKQUEUE)
// libkqueue frees a closed kqueue (its epoll fd, the pipe's other end, an eventfd) later, from
// its monitoring thread. Until then a fork() runs libkqueue's atfork handler in the child, which
// closes the closed kqueue's fd number again, even if it now belongs to someone else: a
// spawn()'s pipe then fails with EBADF. This call (exported by recent libkqueue for deterministic
// teardown) waits for the monitoring thread to free it; weak, so an older libkqueue still loads.
extern "C" void libkqueue_drain_pending_close(void) __attribute__((weak));
#endif

namespace iomux {

// Waits until libkqueue has freed every kqueue closed so far (a no-op on kernel kqueues).
static void DrainClosedKqueues() {
#if defined(HAVE_LIBKQUEUE)
  if (libkqueue_drain_pending_close != nullptr) libkqueue_drain_pending_close();
#endif
}


// A new kqueue fd with close-on-exec set. kqueue1(O_CLOEXEC) sets it atomically where it exists
// (NetBSD, FreeBSD 14+); elsewhere fcntl() follows at once. macOS and the BSDs never pass a
// kqueue to a forked child anyway; libkqueue's fd is already O_CLOEXEC (a pipe2 end).
static int NewKqueueFd() {
#if defined(__NetBSD__) || (defined(__FreeBSD_version) && __FreeBSD_version >= 1400000)
  return kqueue1(O_CLOEXEC);
#else
  int fd = kqueue();
  if (fd < 0) return -1;
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
#endif
}

Napi::Function Kqueue::Define(Napi::Env env) {
  return ObjectWrap<Kqueue>::DefineClass(
      env, "Kqueue",
      {
          StaticMethod<&Kqueue::FromFd>("fromFd"),
          InstanceMethod("fileno", &Kqueue::Fileno),
          InstanceAccessor("closed", &Kqueue::Closed, nullptr),
          InstanceMethod<&Kqueue::Close>("close"),
          InstanceMethod<&Kqueue::Control>("control"),
          InstanceMethod<&Kqueue::WaitAsync>("waitAsync"),
          InstanceMethod<&Kqueue::CancelWait>("cancelWait"),
          InstanceMethod("stats", &Kqueue::GetStats),
          InstanceMethod("resetStats", &Kqueue::ResetStats),
          InstanceMethod("setStatsTiming", &Kqueue::SetStatsTiming),
      });
}

// new Kqueue() makes a kqueue; fromFd() adopts one (LoopWatchOwner::AdoptFd).
Kqueue::Kqueue(const Napi::CallbackInfo& info)
    : ObjectWrap<Kqueue>(info), LoopWatchOwner("Kqueue") {
  Napi::Env env = info.Env();
  if (AdoptedFd(info, &fd_)) return;
  int fd = NewKqueueFd();
  if (fd < 0) {
    int err = errno;
    ThrowErrno(env, err, "kqueue");
    return;
  }
  fd_ = fd;
}

// A Kqueue that was never closed leaks no fd: the finalizer closes it. close() sets fd_ to -1,
// so an fd it already closed (and the kernel may have handed out again) is never touched.
Kqueue::~Kqueue() {
  ReleaseWatch(nullptr);
  if (fd_ >= 0) {
    close(fd_);
    DrainClosedKqueues();
  }
}

Napi::Value Kqueue::FromFd(const Napi::CallbackInfo& info) {
  return AdoptFd(info, GetAddonData(info.Env())->kqueue_ctor);
}

// Idempotent (LoopWatchOwner::CloseOwnedFd); the buffers go with the fd.
Napi::Value Kqueue::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) return env.Undefined();
  std::vector<struct kevent>().swap(changes_);
  std::vector<struct kevent>().swap(events_);
  int err = CloseOwnedFd(env);
  DrainClosedKqueues();
  return err != 0 ? ThrowErrno(env, err, "close") : env.Undefined();
}

// One kevent() call, retried after EINTR with the time that is left (PEP 475). The kernel
// applies the change list before it sleeps, so a retry passes no changes: an EV_DELETE sent
// twice would otherwise come back as ENOENT. Returns kevent()'s result; errno is kept.
int Kqueue::Kevent(int nchanges, int maxevents, const Deadline& deadline) {
  for (;;) {
    struct timespec ts;
    struct timespec* left = TimeLeft(deadline, &ts);
    long long t0 = stats_.Start();
    errno = 0;
    int n = kevent(fd_, changes_.data(), nchanges, events_.data(), maxevents, left);
    int err = errno;
    stats_.Stop(kStatSyscallNs, t0);
    stats_.Add(kStatSyscalls, 1);
    stats_.Add(kStatFds, nchanges);
    stats_.Add(kStatBytesIn, static_cast<double>(nchanges) * sizeof(struct kevent));
    errno = err;
    if (n >= 0) return n;
    // libkqueue refuses some changes without setting errno (EV_ADD again on a socket's read
    // filter without EV_CLEAR: src/linux/read.c evfilt_read_knote_modify). Report EINVAL
    // rather than a stale errno or "Unknown system error 0".
    if (errno == 0) errno = EINVAL;
    if (errno != EINTR) return n;
    nchanges = 0;
  }
}

// control()'s wait. One that may block also watches the env's interrupt fd (sync_interrupt.h),
// as Epoll::Wait does: the changes are applied and the ready events taken by a kevent() with a
// zero timeout; if none, a poll on WatchFd() (the kqueue fd, readable when an event is pending;
// libkqueue's inner epoll fd) and the interrupt fd, then a zero-timeout kevent() once the
// former is readable. No event is taken before the wait is known to go on.
int Kqueue::Wait(int nchanges, int maxevents, double timeout_ms, SyncWake* wake) {
  if (timeout_ms == 0 || maxevents == 0) return Kevent(nchanges, maxevents, MakeDeadline(0));
  if (wake->Unhandled() != 0) return 0;
  int n = Kevent(nchanges, maxevents, MakeDeadline(0));
  if (n != 0) return n;
  Deadline deadline = MakeDeadline(timeout_ms);
  // poll(2) refuses more fds than RLIMIT_NOFILE (EINVAL): with the limit lowered below two,
  // the wait goes on without the interrupt fd, as it did before there was one.
  int watch_fd = WatchFd();
  bool watch_interrupt = wake->extra().fd >= 0 && watch_fd >= 0;
  while (watch_interrupt) {
    int rc = PollReadableOrWake(watch_fd, deadline, wake, &stats_);
    if (rc == kInterruptUnwatched) {
      watch_interrupt = false;
    } else if (rc <= 0) {
      return rc;  // -1: poll failed (errno); 0: the deadline passed, or an interrupt.
    } else {
      n = Kevent(0, maxevents, MakeDeadline(0));
      // Zero: a fromFd twin took the events first; wait on with the time left.
      if (n != 0) return n;
    }
  }
  return Kevent(0, maxevents, deadline);
}

// control(changes: Int32Array | null, nchanges, out: Int32Array | null, maxevents, timeoutMs)
// -> the number of event records written into out.
Napi::Value Kqueue::Control(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  uint32_t nchanges, maxevents;
  double timeout_ms;
  if (!ReadUint32(info, 1, "nchanges", &nchanges) ||
      !ReadUint32(info, 3, "maxevents", &maxevents) || !ReadTimeout(info, 4, &timeout_ms)) {
    return env.Undefined();
  }
  // Applying changes alone is fine during an async wait; a second wait is not.
  if (maxevents > 0 && WaitPending()) {
    return ThrowBusy(env, "Kqueue");
  }
  if (nchanges > kMaxEvents || maxevents > kMaxEvents) {
    return ThrowRangeError(env, "The value of \"nchanges\" or \"maxevents\" is out of range");
  }
  Napi::Int32Array in, out;
  if ((nchanges > 0 && !ReadInt32Array(info, 0, "changes", &in)) ||
      (maxevents > 0 && !ReadInt32Array(info, 2, "out", &out))) {
    return env.Undefined();
  }
  if ((nchanges > 0 && in.ElementLength() / kKevWords < nchanges) ||
      (maxevents > 0 && out.ElementLength() / kKevWords < maxevents)) {
    return ThrowRangeError(env, "The \"changes\" or \"out\" array is too short");
  }
  long long t0 = stats_.Start();
  stats_.Add(kStatCalls, 1);
  if (changes_.size() < nchanges) changes_.resize(nchanges);
  if (events_.size() < maxevents) events_.resize(maxevents);
  for (uint32_t i = 0; i < nchanges; i++) {
    if (!UnpackKevent(in.Data() + i * kKevWords, &changes_[i])) {
      return ThrowRangeError(env, "A kevent field does not fit this platform's struct kevent");
    }
  }
  SyncWake wake(env, maxevents > 0 ? timeout_ms : 0);
  int n = Wait(static_cast<int>(nchanges), static_cast<int>(maxevents), timeout_ms, &wake);
  if (n < 0) {
    int err = errno;
    return ThrowErrno(env, err, "kevent");
  }
  if (wake.Ended("kevent")) return env.Undefined();
  for (int i = 0; i < n; i++) PackKevent(events_[i], out.Data() + i * kKevWords);
  stats_.Add(kStatEvents, n);
  stats_.Stop(kStatCallNs, t0);
  return Napi::Number::New(env, n);
}

// Filters and EV_* flags under CPython's names (KQ_FILTER_READ, KQ_EV_ADD), each only where
// this platform's <sys/event.h> defines it (libkqueue defines only the filters it implements).
static void InitFilterAndFlagConstants(Napi::Env env, Napi::Object c) {
  IOMUX_KQ(c, "KQ_FILTER_READ", EVFILT_READ);
  IOMUX_KQ(c, "KQ_FILTER_WRITE", EVFILT_WRITE);
#ifdef EVFILT_AIO
  IOMUX_KQ(c, "KQ_FILTER_AIO", EVFILT_AIO);
#endif
#ifdef EVFILT_VNODE
  IOMUX_KQ(c, "KQ_FILTER_VNODE", EVFILT_VNODE);
#endif
#ifdef EVFILT_PROC
  IOMUX_KQ(c, "KQ_FILTER_PROC", EVFILT_PROC);
#endif
#ifdef EVFILT_NETDEV
  IOMUX_KQ(c, "KQ_FILTER_NETDEV", EVFILT_NETDEV);
#endif
#ifdef EVFILT_SIGNAL
  IOMUX_KQ(c, "KQ_FILTER_SIGNAL", EVFILT_SIGNAL);
#endif
#ifdef EVFILT_TIMER
  IOMUX_KQ(c, "KQ_FILTER_TIMER", EVFILT_TIMER);
#endif
#ifdef EVFILT_USER
  IOMUX_KQ(c, "KQ_FILTER_USER", EVFILT_USER);
#endif
  IOMUX_KQ(c, "KQ_EV_ADD", EV_ADD);
  IOMUX_KQ(c, "KQ_EV_DELETE", EV_DELETE);
  IOMUX_KQ(c, "KQ_EV_ENABLE", EV_ENABLE);
  IOMUX_KQ(c, "KQ_EV_DISABLE", EV_DISABLE);
  IOMUX_KQ(c, "KQ_EV_ONESHOT", EV_ONESHOT);
  IOMUX_KQ(c, "KQ_EV_CLEAR", EV_CLEAR);
  IOMUX_KQ(c, "KQ_EV_EOF", EV_EOF);
  IOMUX_KQ(c, "KQ_EV_ERROR", EV_ERROR);
#ifdef EV_SYSFLAGS
  IOMUX_KQ(c, "KQ_EV_SYSFLAGS", EV_SYSFLAGS);
#endif
#ifdef EV_FLAG1
  IOMUX_KQ(c, "KQ_EV_FLAG1", EV_FLAG1);
#endif
#ifdef EV_RECEIPT
  IOMUX_KQ(c, "KQ_EV_RECEIPT", EV_RECEIPT);
#endif
#ifdef EV_DISPATCH
  IOMUX_KQ(c, "KQ_EV_DISPATCH", EV_DISPATCH);
#endif
}

void InitKqueue(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Kqueue::Define(env);
  GetAddonData(env)->kqueue_ctor = Napi::Persistent(ctor);
  exports.Set("Kqueue", ctor);
  Napi::Value existing = exports.Get("constants");
  Napi::Object c = existing.IsObject() ? existing.As<Napi::Object>() : Napi::Object::New(env);
  InitFilterAndFlagConstants(env, c);
  InitNoteConstants(env, c);
  exports.Set("constants", c);
}

}  // namespace iomux
