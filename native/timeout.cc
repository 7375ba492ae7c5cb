#include "timeout.h"

#include <cmath>

namespace iomux {

static constexpr long long kNsPerSec = 1000000000LL;

long long NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
}

Deadline MakeDeadline(double ms) {
  Deadline d{};
  if (ms < 0) {
    d.infinite = true;
    return d;
  }
  long long end = NowNs() + static_cast<long long>(std::ceil(ms * 1e6));
  d.infinite = false;
  d.end.tv_sec = static_cast<time_t>(end / kNsPerSec);
  d.end.tv_nsec = static_cast<long>(end % kNsPerSec);
  return d;
}

static long long LeftNs(const Deadline& d) {
  long long left = static_cast<long long>(d.end.tv_sec) * kNsPerSec + d.end.tv_nsec - NowNs();
  return left > 0 ? left : 0;
}

struct timespec* TimeLeft(const Deadline& d, struct timespec* buf) {
  if (d.infinite) return nullptr;
  long long left = LeftNs(d);
  buf->tv_sec = static_cast<time_t>(left / kNsPerSec);
  buf->tv_nsec = static_cast<long>(left % kNsPerSec);
  return buf;
}

int TimeLeftMs(const Deadline& d) {
  if (d.infinite) return -1;
  long long left = LeftNs(d);
  return static_cast<int>((left + 999999) / 1000000);
}

}  // namespace iomux
