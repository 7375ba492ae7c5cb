// The process's fd ceiling, read at call time (a cheap syscall; setrlimit may change it).
#pragma once

#include <fcntl.h>
#include <sys/resource.h>

#include <climits>

namespace iomux {

// The soft RLIMIT_NOFILE, clamped to INT_MAX: the kernel hands out no new fd at or above it.
inline int FdLimit() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
      rl.rlim_cur > static_cast<rlim_t>(INT_MAX)) {
    return INT_MAX;
  }
  return static_cast<int>(rl.rlim_cur);
}

// Whether fd is at or past limit (FdLimit()) and not open: select(2) of it is EBADF before any
// bitmap is sized to it. An fd past the limit can still be open when the limit was lowered
// after it was opened (F_GETFD says so); its bitmap is then as real as the fd.
inline bool ClosedPastLimit(int fd, int limit) { return fd >= limit && fcntl(fd, F_GETFD) < 0; }

}  // namespace iomux
