// select(2), through pselect(2) so that a timeout is exact to the nanosecond.
//
// JS passes one Int32Array holding the read fds, then the write fds, then the except fds.
// Entries that are not ready are overwritten with -1, so lib/select.ts can map the survivors
// back to the objects it was given without any other allocation.
#if defined(__APPLE__)
// Lets select() take nfds > FD_SETSIZE with caller-sized sets (select(2) on macOS, "BUGS").
#define _DARWIN_UNLIMITED_SELECT 1
#endif

#include <errno.h>
#include <sys/select.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "addon.h"
#include "args.h"
#include "fd_limit.h"
#include "errors.h"
#include "stats.h"
#include "sync_interrupt.h"
#include "timeout.h"

namespace iomux {

namespace {

// One word of an fd_set as the kernel reads it: an array of longs on Linux and the BSDs,
// of 32-bit ints on macOS. Both lay out bit (fd % bits) of word (fd / bits).
#if defined(__APPLE__)
using Word = uint32_t;
#else
using Word = unsigned long;
#endif
constexpr int kWordBits = static_cast<int>(sizeof(Word) * CHAR_BIT);
static_assert(sizeof(fd_set) % sizeof(Word) == 0, "fd_set is a whole number of words");
constexpr size_t kSetWords = sizeof(fd_set) / sizeof(Word);

// The most bitmap memory select() keeps per env between calls (fds up to about 87,000 on
// 64-bit Linux); a wait with higher fds allocates its bitmaps for the call and frees them.
constexpr size_t kKeptScratchBytes = 32 * 1024;

inline size_t WordsFor(int maxfd) { return static_cast<size_t>(maxfd / kWordBits) + 1; }

// Sets bits by hand rather than with FD_SET: with _FORTIFY_SOURCE, glibc's FD_SET aborts the
// process for fd >= FD_SETSIZE even when the set really is larger.
inline void SetBit(Word* set, int fd) {
  set[fd / kWordBits] |= Word{1} << (fd % kWordBits);
}
inline bool HasBit(const Word* set, int fd) {
  return (set[fd / kWordBits] >> (fd % kWordBits)) & 1;
}

// The three sets, `words` words each, back to back in `sets`.
struct Sets {
  Word* base;
  size_t words;
  Word* Get(int i) const { return base + i * words; }
};

// Rebuilds the three sets from the fd list. Called before every pselect(): after EINTR the
// sets' contents are unspecified (POSIX select(2), "ERRORS").
void Fill(const Sets& s, const int32_t* fds, const uint32_t counts[3]) {
  std::memset(s.base, 0, 3 * s.words * sizeof(Word));
  size_t k = 0;
  for (int i = 0; i < 3; i++) {
    Word* set = s.Get(i);
    for (uint32_t j = 0; j < counts[i]; j++) SetBit(set, fds[k++]);
  }
}

// Overwrites the entries that are not ready with -1 and returns how many are left.
uint32_t Harvest(const Sets& s, int32_t* fds, const uint32_t counts[3]) {
  uint32_t ready = 0;
  size_t k = 0;
  for (int i = 0; i < 3; i++) {
    const Word* set = s.Get(i);
    for (uint32_t j = 0; j < counts[i]; j++, k++) {
      if (HasBit(set, fds[k])) {
        ready++;
      } else {
        fds[k] = -1;
      }
    }
  }
  return ready;
}

// pselect() with EINTR retried for the time that is left (PEP 475). Returns 0 or an errno.
// intr (may be null) is the env's SyncInterrupt and intfd its fd, put in the read set: when it
// wakes the wait, *why says whether the wait must end (a JS-handled signal, the env stopping).
int Wait(Napi::Env env, const Sets& s, int nfds, double timeout_ms, const int32_t* fds,
         const uint32_t counts[3], Stats& stats, SyncInterrupt* intr, int intfd, WakeReason* why,
         int* signum) {
  Deadline deadline = MakeDeadline(timeout_ms);
  for (;;) {
    Fill(s, fds, counts);
    if (intfd >= 0) SetBit(s.Get(0), intfd);
    struct timespec buf;
    const struct timespec* left = TimeLeft(deadline, &buf);
    long long t0 = stats.Start();
    int rc = pselect(nfds, reinterpret_cast<fd_set*>(s.Get(0)), reinterpret_cast<fd_set*>(s.Get(1)),
                     reinterpret_cast<fd_set*>(s.Get(2)), left, nullptr);
    int err = errno;
    stats.Stop(kStatSyscallNs, t0);
    stats.Add(kStatSyscalls, 1);
    stats.Add(kStatFds, counts[0] + counts[1] + counts[2]);
    stats.Add(kStatBytesIn, static_cast<double>(3 * s.words * sizeof(Word)));
    if (rc < 0 && err != EINTR) return err;
    bool woken = intfd >= 0 && rc > 0 && HasBit(s.Get(0), intfd);
    if (intr != nullptr && (rc < 0 || woken)) {
      *why = intr->Check(env, rc < 0, signum);
      if (*why != WakeReason::kNone) return 0;
    }
    // Done unless only the interrupt fd (or a signal) woke the wait.
    if (rc > (woken ? 1 : 0) || (rc == 0 && !woken)) return 0;
  }
}

// Reads and checks the arguments; on failure a JS exception is pending and false returned.
bool ReadArgs(const Napi::CallbackInfo& info, Napi::Int32Array* arr, uint32_t counts[3],
              double* timeout_ms, bool* large) {
  if (!ReadInt32Array(info, 0, "fds", arr)) return false;
  if (!ReadUint32(info, 1, "nr", &counts[0]) || !ReadUint32(info, 2, "nw", &counts[1]) ||
      !ReadUint32(info, 3, "nx", &counts[2])) {
    return false;
  }
  uint64_t total = uint64_t{counts[0]} + counts[1] + counts[2];
  if (total > arr->ElementLength()) {
    ThrowRangeError(info.Env(), "The value of \"nr + nw + nx\" is out of range");
    return false;
  }
  if (!ReadTimeout(info, 4, timeout_ms)) return false;
  return ReadBool(info, 5, false, large);
}

// The highest fd, or -1 after throwing for a negative fd or (without `large`) one that does
// not fit an fd_set. TS checks both first; this keeps a direct call from writing out of bounds.
int MaxFd(Napi::Env env, const int32_t* fds, size_t n, bool large) {
  int maxfd = -1;
  for (size_t k = 0; k < n; k++) {
    int fd = fds[k];
    if (fd < 0 || (!large && fd >= FD_SETSIZE)) {
      ThrowRangeError(env, "The value of \"fd\" is out of range. It must be >= 0" +
                               std::string(large ? "" : " and < FD_SETSIZE") + ". Received " +
                               std::to_string(fd));
      return -1;
    }
    if (fd > maxfd) maxfd = fd;
  }
  return maxfd;
}

Napi::Value Select(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Int32Array arr;
  uint32_t counts[3];
  double timeout_ms;
  bool large;
  if (!ReadArgs(info, &arr, counts, &timeout_ms, &large)) return env.Undefined();
  // Optional 7th argument: a Float64Array of kStatSlots counters updated in place.
  Stats stats;
  if (!stats.Bind(info, 6)) stats.Detach();
  long long t0 = stats.Start();
  stats.Add(kStatCalls, 1);
  int32_t* fds = arr.Data();
  size_t n = size_t{counts[0]} + counts[1] + counts[2];
  int maxfd = MaxFd(env, fds, n, large);
  if (env.IsExceptionPending()) return env.Undefined();

  // Small fds use three fd_sets on the stack; only fds past FD_SETSIZE need heap bitmaps.
  // Those are checked against RLIMIT_NOFILE first: no fd at or past it can be open, so it is
  // EBADF (as the kernel says for a closed fd) before anything is sized to it, and maxfd + 1
  // below cannot overflow (the limit is at most INT_MAX).
  if (maxfd >= FD_SETSIZE && maxfd >= FdLimit()) return ThrowErrno(env, EBADF, "select");
  // A wait that may block also watches the env's interrupt fd (sync_interrupt.h).
  SyncInterrupt* intr = timeout_ms != 0 ? GetSyncInterrupt(env) : nullptr;
  int intfd = intr != nullptr ? intr->Fd(env) : -1;
  if (intfd >= 0 && intr->Unhandled() != 0) return ThrowInterrupted(env, "select", intr->Unhandled());
  int top = maxfd > intfd ? maxfd : intfd;
  Word stack[3 * kSetWords];
  Sets sets{stack, kSetWords};
  std::unique_ptr<Word[]> big;
  if (top >= FD_SETSIZE) {
    size_t words = WordsFor(top);
    std::vector<unsigned char>& scratch = GetAddonData(env)->select_scratch;
    if (3 * words * sizeof(Word) <= kKeptScratchBytes) {
      // Up to kKeptScratchBytes the per-env scratch is kept and reused: a warm wait allocates
      // nothing.
      if (scratch.size() < 3 * words * sizeof(Word)) scratch.resize(3 * words * sizeof(Word));
      sets = Sets{reinterpret_cast<Word*>(scratch.data()), words};
    } else {
      // Bigger bitmaps (a raised RLIMIT_NOFILE) live for this call only.
      big.reset(new (std::nothrow) Word[3 * words]);
      if (!big) return ThrowErrno(env, ENOMEM, "select");
      sets = Sets{big.get(), words};
    }
  } else if (top >= 0) {
    // Only the words that hold fds up to top need clearing and copying by the kernel.
    sets.words = WordsFor(top);
  }
  WakeReason why = WakeReason::kNone;
  int signum = 0;
  int err = Wait(env, sets, top + 1, timeout_ms, fds, counts, stats, intr, intfd, &why, &signum);
  if (err != 0) return ThrowErrno(env, err, "select");
  if (why == WakeReason::kSignal) return ThrowInterrupted(env, "select", signum);
  if (why == WakeReason::kStopping) return env.Undefined();  // V8 is unwinding this thread.
  uint32_t ready = Harvest(sets, fds, counts);
  stats.Add(kStatEvents, ready);
  stats.Stop(kStatCallNs, t0);
  return Napi::Number::New(env, ready);
}

}  // namespace

void InitSelect(Napi::Env env, Napi::Object exports) {
  exports.Set("select", Napi::Function::New(env, Select, "select"));
}

}  // namespace iomux
