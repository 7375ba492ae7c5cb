#if defined(__APPLE__)
// Lets pselect() take nfds > FD_SETSIZE with caller-sized sets (select(2) on macOS, "BUGS").
#define _DARWIN_UNLIMITED_SELECT 1
#endif

#include "wait_once.h"

#include <errno.h>

namespace iomux {

namespace {

void Count(const WaitCounting& c, long long t0) {
  if (t0 != 0) c.counts->syscall_ns += static_cast<double>(NowNs() - t0);
  c.counts->syscalls += 1;
  c.counts->fds += c.fds;
  c.counts->bytes_in += c.bytes_in;
}

// After one try that returned rc (errno in err): 1 to return rc, 0 to try again, or
// kWaitStopped. woken: the extra fd is readable.
int Settle(int rc, int err, bool woken, const WaitExtra& extra) {
  if (rc < 0 && err != EINTR) return 1;
  if (extra.should_stop != nullptr && (rc < 0 || woken) && extra.should_stop(extra.ctx, rc < 0)) {
    return kWaitStopped;
  }
  // Done unless only the extra fd (or a signal) woke the wait.
  return rc > (woken ? 1 : 0) || (rc == 0 && !woken) ? 1 : 0;
}

}  // namespace

int PollOnce(struct pollfd* fds, size_t n, const Deadline& deadline, const WaitExtra& extra,
             const WaitCounting& counting, int* err) {
  size_t total = n;
  bool has_extra = extra.fd >= 0;
  if (has_extra) fds[total++] = pollfd{extra.fd, POLLIN, 0};
  for (;;) {
    long long t0 = counting.timing ? NowNs() : 0;
#if defined(__linux__)
    struct timespec buf;
    int rc = ppoll(fds, total, TimeLeft(deadline, &buf), nullptr);
#else
    // poll() takes whole ms: TimeLeftMs rounds up so that 0.3 ms never becomes a busy 0.
    int rc = poll(fds, static_cast<nfds_t>(total), TimeLeftMs(deadline));
#endif
    *err = errno;
    Count(counting, t0);
    if (rc == -1 && *err == EINVAL && has_extra && extra.optional) {
      // One pollfd past RLIMIT_NOFILE (a lowered limit): wait on the caller's fds alone, as
      // before there was an interrupt fd.
      has_extra = false;
      total = n;
      continue;
    }
    int verdict = Settle(rc, *err, has_extra && rc > 0 && fds[n].revents != 0, extra);
    if (verdict == kWaitStopped) return kWaitStopped;
    if (verdict == 1) return rc;
  }
}

int SelectOnce(const FdSets& sets, int nfds, void (*fill)(const FdSets& sets, void* ctx),
               void* fill_ctx, const Deadline& deadline, const WaitExtra& extra,
               const WaitCounting& counting, int* err) {
  for (;;) {
    fill(sets, fill_ctx);
    if (extra.fd >= 0) SetFdBit(sets.Get(0), extra.fd);
    struct timespec buf;
    long long t0 = counting.timing ? NowNs() : 0;
    int rc = pselect(nfds, reinterpret_cast<fd_set*>(sets.Get(0)),
                     reinterpret_cast<fd_set*>(sets.Get(1)), reinterpret_cast<fd_set*>(sets.Get(2)),
                     TimeLeft(deadline, &buf), nullptr);
    *err = errno;
    Count(counting, t0);
    bool woken = extra.fd >= 0 && rc > 0 && HasFdBit(sets.Get(0), extra.fd);
    int verdict = Settle(rc, *err, woken, extra);
    if (verdict == kWaitStopped) return kWaitStopped;
    if (verdict == 1) return rc;
  }
}

}  // namespace iomux
