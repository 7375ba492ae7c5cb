// epoll(7): the synchronous wait of class Epoll (epoll_wait, epoll_pwait2, and ppoll with the
// env's interrupt fd when the wait may block) and its event buffer.
#include <errno.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "addon.h"
#include "epoll.h"
#include "errors.h"
#include "sync_interrupt.h"
#include "wait_once.h"

#ifdef SYS_epoll_pwait2
#include <linux/time_types.h>  // struct __kernel_timespec: what the syscall takes on every ABI
#endif

namespace iomux {

// epoll_pwait2 through syscall(2): glibc only wraps it from 2.35 and musl not at all, and the
// kernel wants a 64-bit timespec even where the C library's is 32-bit.
static int Pwait2(int epfd, epoll_event* events, int maxevents, const struct timespec* ts) {
#ifdef SYS_epoll_pwait2
  struct __kernel_timespec kts;
  struct __kernel_timespec* arg = nullptr;
  if (ts != nullptr) {
    kts.tv_sec = ts->tv_sec;
    kts.tv_nsec = ts->tv_nsec;
    arg = &kts;
  }
  return static_cast<int>(syscall(SYS_epoll_pwait2, epfd, events, maxevents, arg, nullptr, 0));
#else
  (void)epfd, (void)events, (void)maxevents, (void)ts;
  errno = ENOSYS;
  return -1;
#endif
}

bool EpollPwait2Supported(Napi::Env env) {
  AddonData* data = GetAddonData(env);
  if (data->epoll_pwait2 >= 0) return data->epoll_pwait2 == 1;
  // IOMUX_EPOLL_PWAIT2=0 forces the whole-ms epoll_wait path (to test it on new kernels).
  const char* force = getenv("IOMUX_EPOLL_PWAIT2");
  if (force != nullptr && strcmp(force, "0") == 0) {
    data->epoll_pwait2 = 0;
    return false;
  }
  // Probe on a private, empty epoll fd with a zero timeout. Kernels before 5.11 say ENOSYS;
  // some seccomp sandboxes say EPERM, which this call cannot otherwise return.
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return false;  // Out of fds: try again next time rather than cache a guess.
  struct timespec zero = {0, 0};
  epoll_event ev;
  int rc;
  do {
    rc = Pwait2(fd, &ev, 1, &zero);
  } while (rc < 0 && errno == EINTR);
  close(fd);
  data->epoll_pwait2 = rc >= 0 ? 1 : 0;
  return rc >= 0;
}

epoll_event* Epoll::Buffer(int n) {
  if (static_cast<size_t>(n) > capacity_) {
    std::unique_ptr<epoll_event[]> grown(new (std::nothrow) epoll_event[static_cast<size_t>(n)]);
    if (!grown) {
      errno = ENOMEM;
      return nullptr;
    }
    events_ = std::move(grown);
    capacity_ = static_cast<size_t>(n);
  }
  cur_ = events_.get();
  return cur_;
}

int Epoll::Wait(Napi::Env env, int maxevents, double ms, const char** syscall, SyncWake* wake) {
  *syscall = "epoll_wait";
  if (maxevents > kMaxEventsPerWait) maxevents = kMaxEventsPerWait;
  epoll_event* buf = Buffer(maxevents);
  if (buf == nullptr) return -1;
  // epoll_wait() is enough for 0, forever and whole milliseconds, and it is the cheaper call
  // (no timespec, no clock read); epoll_pwait2() only for fractions, where the kernel has it.
  bool whole = ms < 0 || ms == static_cast<double>(static_cast<long long>(ms));
  bool precise = !whole && EpollPwait2Supported(env);
  *syscall = precise ? "epoll_pwait2" : "epoll_wait";
  long long t0 = stats_.Start();
  int ready = epoll_wait(fd_, buf, maxevents, 0);
  stats_.Stop(kStatSyscallNs, t0);
  stats_.Add(kStatSyscalls, 1);
  // A zero timeout cannot be interrupted by a signal (epoll_wait(2)), and a wait that finds
  // events at once costs one syscall.
  if (ms == 0 || ready != 0) return ready;
  Deadline deadline = MakeDeadline(ms);
  // A wait that blocks also watches the env's interrupt fd (sync_interrupt.h): a poll on both
  // fds (PollOnce), then a zero-timeout epoll_wait once the epoll fd is readable. No event is
  // taken from the set before the wait is known to go on, so a signal that ends it loses none.
  if (wake->Unhandled() != 0) return 0;
  // poll(2) refuses more fds than RLIMIT_NOFILE (EINVAL): with the limit lowered below two,
  // the wait goes on without the interrupt fd, as it did before there was one.
  bool watch_interrupt = wake->extra().fd >= 0;
  while (watch_interrupt) {
    *syscall = "ppoll";
    int rc = PollReadableOrWake(fd_, deadline, wake, &stats_);
    if (rc == kInterruptUnwatched) {
      watch_interrupt = false;
    } else if (rc <= 0) {
      return rc;  // -1: poll failed (errno); 0: the deadline passed, or an interrupt.
    } else {
      *syscall = "epoll_wait";
      t0 = stats_.Start();
      int n = epoll_wait(fd_, buf, maxevents, 0);
      stats_.Stop(kStatSyscallNs, t0);
      stats_.Add(kStatSyscalls, 1);
      // Zero: a fromFd twin took the events first; wait on with the time left.
      if (n != 0) return n;
    }
  }
  for (;;) {
    int n;
    long long t0 = stats_.Start();
    if (precise) {
      struct timespec ts;
      n = Pwait2(fd_, buf, maxevents, TimeLeft(deadline, &ts));
    } else {
      // epoll_wait() takes whole ms; TimeLeftMs rounds up so that 0.3 ms does not become 0
      // and spin (tokio-rs/mio#1614).
      n = epoll_wait(fd_, buf, maxevents, TimeLeftMs(deadline));
    }
    stats_.Stop(kStatSyscallNs, t0);
    stats_.Add(kStatSyscalls, 1);
    // PEP 475: a signal does not end the wait early; go on with the time that is left.
    if (n >= 0 || errno != EINTR) return n;
  }
}

int Epoll::CountedWait(Napi::Env env, int maxevents, double ms) {
  stats_.Add(kStatCalls, 1);
  const char* syscall;
  SyncWake wake(env, ms);
  int n = Wait(env, maxevents, ms, &syscall, &wake);
  if (n < 0) {
    int err = errno;
    ThrowErrno(env, err, syscall);
    return -1;
  }
  if (wake.Ended("epoll_wait")) {
    return -1;
  }
  return n;
}

}  // namespace iomux
