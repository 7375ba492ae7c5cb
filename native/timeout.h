// Deadlines for waits that are retried after EINTR with the time that is left (PEP 475).
#pragma once

#include <time.h>

namespace iomux {

struct Deadline {
  bool infinite;
  struct timespec end;  // CLOCK_MONOTONIC
};

// ms < 0 means wait forever.
Deadline MakeDeadline(double ms);

// The time left, clamped at zero. Returns nullptr for an infinite deadline, else `buf`.
struct timespec* TimeLeft(const Deadline& d, struct timespec* buf);

// The time left in whole milliseconds for calls that only take ms (poll, epoll_wait):
// -1 for forever, and rounded up so that 0.3 ms never becomes a busy 0.
int TimeLeftMs(const Deadline& d);

// Monotonic clock in nanoseconds.
long long NowNs();

}  // namespace iomux
