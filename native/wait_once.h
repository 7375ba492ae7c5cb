// The one poll(2) and the one select(2) of the addon, used by the synchronous calls (Poll,
// select) and by the Waiter's thread alike, and the one fd_set bit helper.
#pragma once

#include <poll.h>
#include <sys/select.h>

#include <climits>
#include <cstddef>
#include <cstdint>

#include "timeout.h"

namespace iomux {

// One word of an fd_set as the kernel reads it: an array of longs on Linux and the BSDs, of
// 32-bit ints on macOS. Both lay out bit (fd % bits) of word (fd / bits), so bitmaps of any
// size are built here instead of with FD_SET, which aborts past FD_SETSIZE under
// _FORTIFY_SOURCE even when the set really is larger.
#if defined(__APPLE__)
using FdWord = uint32_t;
#else
using FdWord = unsigned long;
#endif
constexpr int kFdWordBits = static_cast<int>(sizeof(FdWord) * CHAR_BIT);
static_assert(sizeof(fd_set) % sizeof(FdWord) == 0, "fd_set is a whole number of words");
constexpr size_t kFdSetWords = sizeof(fd_set) / sizeof(FdWord);

inline size_t FdWordsFor(int maxfd) { return static_cast<size_t>(maxfd / kFdWordBits) + 1; }
inline void SetFdBit(FdWord* set, int fd) { set[fd / kFdWordBits] |= FdWord{1} << (fd % kFdWordBits); }
inline bool HasFdBit(const FdWord* set, int fd) { return (set[fd / kFdWordBits] >> (fd % kFdWordBits)) & 1; }

// The three sets of a select (read, write, except), `words` words each, back to back.
struct FdSets {
  FdWord* base;
  size_t words;
  FdWord* Get(int i) const { return base + i * words; }
};

// What one wait counted, EINTR retries included; the caller adds it to its stats.
struct WaitCounts {
  double syscalls = 0;
  double fds = 0;         // fds passed to the kernel, summed over syscalls
  double bytes_in = 0;    // pollfd arrays or fd_set bitmaps copied in, summed over syscalls
  double syscall_ns = 0;  // only when timing
};

// How a wait counts each try, and whether to read the clock around it.
struct WaitCounting {
  double fds;
  double bytes_in;
  bool timing;
  WaitCounts* counts;
};

// What ends a wait besides readiness and the deadline: an extra fd in the set (a synchronous
// wait's interrupt fd, the Waiter thread's wake-up fd). After EINTR, or when the extra fd turned
// readable, should_stop(ctx, eintr) says whether the wait ends (true) or goes on with the time
// left (false). Without should_stop, EINTR is simply retried (PEP 475).
struct WaitExtra {
  int fd = -1;
  bool (*should_stop)(void* ctx, bool eintr) = nullptr;
  void* ctx = nullptr;
  // The wait may go on without fd when poll(2) refuses one pollfd more than RLIMIT_NOFILE
  // (EINVAL): true for the sync interrupt fd, false for a waiter thread's wake-up fd.
  bool optional = false;
};

// Returned when should_stop ended the wait.
constexpr int kWaitStopped = -2;

// poll(2) on fds[0..n) (ppoll on Linux, so a fractional timeout is exact); with extra.fd >= 0
// it is put in fds[n], which the caller leaves room for. Returns the ready count (the extra fd
// included), kWaitStopped, or -1 with *err set.
int PollOnce(struct pollfd* fds, size_t n, const Deadline& deadline, const WaitExtra& extra,
             const WaitCounting& counting, int* err);

// select(2) through pselect, so a timeout is exact to the ns. fill(sets, ctx) writes the request
// before each try (after EINTR the sets are unspecified: POSIX select(2), "ERRORS"); extra.fd
// goes in the read set. Returns as PollOnce; on success sets holds the ready fds.
int SelectOnce(const FdSets& sets, int nfds, void (*fill)(const FdSets& sets, void* ctx),
               void* fill_ctx, const Deadline& deadline, const WaitExtra& extra,
               const WaitCounting& counting, int* err);

}  // namespace iomux
