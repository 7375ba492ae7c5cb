// Whether an fd past the process's fd ceiling is closed: checked before select(2) sizes a bitmap
// to it, so a huge fd number costs no allocation (setrlimit may change the ceiling: read it at
// call time, a cheap syscall).
#pragma once

#include <fcntl.h>
#include <sys/resource.h>

#include <climits>

namespace iomux {

// The soft RLIMIT_NOFILE, clamped to INT_MAX.
inline int FdLimit() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
      rl.rlim_cur > static_cast<rlim_t>(INT_MAX)) {
    return INT_MAX;
  }
  return static_cast<int>(rl.rlim_cur);
}

// True when fd is at or past the soft RLIMIT_NOFILE and not open. The kernel hands out no new fd
// there, but one opened before the limit was lowered stays open and select(2) takes it: only a
// closed one is EBADF here (an open fd is below the kernel's fd table size, which bounds any
// bitmap sized to it, and fd + 1 cannot overflow).
inline bool ClosedPastFdLimit(int fd) {
  return fd >= FdLimit() && fcntl(fd, F_GETFD) == -1;
}

}  // namespace iomux
