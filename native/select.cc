// select(2), through pselect(2) so that a timeout is exact to the nanosecond.
//
// JS passes one Int32Array holding the read fds, then the write fds, then the except fds.
// Entries that are not ready are overwritten with -1, so lib/select.ts can map the survivors
// back to the objects it was given without any other allocation.
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
#include "wait_once.h"

namespace iomux {

namespace {

// The most bitmap memory select() keeps per env between calls (fds up to about 87,000 on
// 64-bit Linux); a wait with higher fds allocates its bitmaps for the call and frees them.
constexpr size_t kKeptScratchBytes = 32 * 1024;

// The fd list and its three counts, which Fill() turns into sets before every try.
struct Request {
  const int32_t* fds;
  const uint32_t* counts;
};

// Rebuilds the three sets from the fd list (SelectOnce calls it before every try).
void Fill(const FdSets& s, void* ctx) {
  const Request* req = static_cast<const Request*>(ctx);
  std::memset(s.base, 0, 3 * s.words * sizeof(FdWord));
  size_t k = 0;
  for (int i = 0; i < 3; i++) {
    FdWord* set = s.Get(i);
    for (uint32_t j = 0; j < req->counts[i]; j++) SetFdBit(set, req->fds[k++]);
  }
}

// Overwrites the entries that are not ready with -1 and returns how many are left.
uint32_t Harvest(const FdSets& s, int32_t* fds, const uint32_t counts[3]) {
  uint32_t ready = 0;
  size_t k = 0;
  for (int i = 0; i < 3; i++) {
    const FdWord* set = s.Get(i);
    for (uint32_t j = 0; j < counts[i]; j++, k++) {
      if (HasFdBit(set, fds[k])) {
        ready++;
      } else {
        fds[k] = -1;
      }
    }
  }
  return ready;
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
  // The highest is checked against RLIMIT_NOFILE first: past it, an fd that is not open is
  // EBADF (as the kernel says for a closed fd) before anything is sized to it; one that is open
  // (the limit was lowered since) is a real fd, so maxfd + 1 below cannot overflow.
  if (maxfd >= FD_SETSIZE && ClosedPastLimit(maxfd, FdLimit())) return ThrowErrno(env, EBADF, "select");
  // A wait that may block also watches the env's interrupt fd (sync_interrupt.h).
  SyncWake wake(env, timeout_ms);
  if (wake.Unhandled() != 0 && wake.Ended("select")) return env.Undefined();
  int intfd = wake.extra().fd;
  int top = maxfd > intfd ? maxfd : intfd;
  FdWord stack[3 * kFdSetWords];
  FdSets sets{stack, kFdSetWords};
  std::unique_ptr<FdWord[]> big;
  if (top >= FD_SETSIZE) {
    size_t words = FdWordsFor(top);
    std::vector<unsigned char>& scratch = GetAddonData(env)->select_scratch;
    if (3 * words * sizeof(FdWord) <= kKeptScratchBytes) {
      // Up to kKeptScratchBytes the per-env scratch is kept and reused: a warm wait allocates
      // nothing.
      if (scratch.size() < 3 * words * sizeof(FdWord)) scratch.resize(3 * words * sizeof(FdWord));
      sets = FdSets{reinterpret_cast<FdWord*>(scratch.data()), words};
    } else {
      // Bigger bitmaps (a raised RLIMIT_NOFILE) live for this call only.
      big.reset(new (std::nothrow) FdWord[3 * words]);
      if (!big) return ThrowErrno(env, ENOMEM, "select");
      sets = FdSets{big.get(), words};
    }
  } else if (top >= 0) {
    // Only the words that hold fds up to top need clearing and copying by the kernel.
    sets.words = FdWordsFor(top);
  }
  Request req{fds, counts};
  WaitCounts tally;
  WaitCounting counting{static_cast<double>(n), static_cast<double>(3 * sets.words * sizeof(FdWord)),
                        stats.timing(), &tally};
  int err = 0;
  int rc = SelectOnce(sets, top + 1, Fill, &req, MakeDeadline(timeout_ms), wake.extra(), counting, &err);
  stats.AddCounts(tally);
  if (rc == -1) return ThrowErrno(env, err, "select");
  if (wake.Ended("select")) return env.Undefined();
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
