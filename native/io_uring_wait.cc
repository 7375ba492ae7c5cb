// io_uring(7) poll: the synchronous waits of class IoUring (poll, pollInto) and the reaping of
// completions.
// A wait is one io_uring_enter that submits the queued changes and waits for a completion
// (IORING_ENTER_GETEVENTS), its timeout given with IORING_ENTER_EXT_ARG (Linux 5.11+) or, on
// older kernels, as an IORING_OP_TIMEOUT request. The env's interrupt fd (sync_interrupt.h)
// is watched by a multishot poll request of the ring itself, so no second syscall is needed.
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <new>

#include "args.h"
#include "errors.h"
#include "io_uring.h"

namespace iomux {

static bool HasMore(uint32_t flags) { return (flags & IORING_CQE_F_MORE) != 0; }

int IoUring::Reap(int32_t* out, int max, int stride, bool* interrupted) {
  uint32_t ready = ring_.Ready();
  uint32_t i = 0;
  int n = 0;
  for (; i < ready && n < max; i++) {
    const io_uring_cqe* cqe = ring_.Peek(i);
    uint64_t ud = cqe->user_data;
    int32_t res = cqe->res;
    uint32_t flags = cqe->flags;
    uint32_t gen = static_cast<uint32_t>(ud >> 32);
    if (gen == 0) {
      if (ud == kInterruptUserData) {
        *interrupted = true;
        if (!HasMore(flags)) interrupt_armed_ = false;
      } else if (ud == kTimeoutUserData) {
        timeout_armed_ = false;
      }
      continue;
    }
    int fd = static_cast<int>(static_cast<uint32_t>(ud));
    auto it = regs_.find(fd);
    // An older registration of this fd number (unregistered, modified, or closed and reused
    // since): its completion is stale, never reported.
    if (it == regs_.end() || it->second.gen != gen) continue;
    UringReg& reg = it->second;
    if (!HasMore(flags)) reg.armed = false;
    uint32_t revents = 0;
    if (res >= 0) {
      revents = static_cast<uint32_t>(res);
    } else if (res != -ECANCELED) {
      // The request failed (EBADF: the fd was closed before the request was submitted). It is
      // reported as poll(2) reports a bad fd, and stays registered, unarmed, until unregister.
      revents = res == -EBADF ? POLLNVAL : POLLERR;
      reg.failed = true;
    }
    // A request that ended (a one-shot that fired, a multishot the kernel stopped, e.g. on CQ
    // overflow, or one cancelled under us) is armed again; the new request polls at once, so
    // a file that is still ready completes again in the next wait (level-like).
    // It is armed after this wait's reaping, so that a file still ready is not reported twice.
    if (!reg.armed && !reg.failed) rearm_.push_back(fd);
    if (revents == 0) continue;
    int32_t* rec = out + static_cast<size_t>(n) * stride;
    rec[0] = fd;
    rec[1] = static_cast<int32_t>(revents);
    if (stride == 3) rec[2] = reg.tag;
    n++;
  }
  ring_.Advance(i);
  return n;
}

int IoUring::ArmEnded() {
  size_t done = 0;
  int err = 0;
  for (; done < rearm_.size(); done++) {
    int fd = rearm_[done];
    auto it = regs_.find(fd);
    if (it == regs_.end() || it->second.armed || it->second.failed) continue;
    if (!Arm(fd, &it->second)) {
      err = errno;  // The rest stay listed for the next wait.
      break;
    }
    rearms_++;
  }
  rearm_.erase(rearm_.begin(), rearm_.begin() + static_cast<ptrdiff_t>(done));
  return err;
}

int IoUring::ReapAll(int32_t* out, int max, int stride, bool* interrupted) {
  int n = 0;
  while (n < max) {
    if (ring_.Ready() == 0) {
      // The CQ is empty but the kernel kept completions it had no room for: an enter with
      // GETEVENTS moves them in (as many as fit), and reaping goes on.
      if (!ring_.Overflowed()) break;
      if (Enter(0, IORING_ENTER_GETEVENTS, nullptr, false) < 0 && errno != EINTR && errno != EBUSY) {
        return n > 0 ? n : -1;
      }
      if (ring_.Ready() == 0) break;
    }
    int more = Reap(out + static_cast<size_t>(n) * stride, max - n, stride, interrupted);
    if (more < 0) return n > 0 ? n : -1;
    n += more;
  }
  int err = ArmEnded();
  if (err != 0 && n == 0) {
    errno = err;
    return -1;
  }
  return n;
}

// Queues the multishot poll on the env's interrupt fd (kept across waits) when it is not in
// flight yet. Returns false when there is no room (the wait goes on without it).
static bool ArmInterrupt(UringRing* ring, int fd) {
  io_uring_sqe* sqe = ring->NextSqe();
  if (sqe == nullptr) return false;
  sqe->opcode = IORING_OP_POLL_ADD;
  sqe->fd = fd;
  sqe->poll32_events = POLLIN;
  sqe->len = IORING_POLL_ADD_MULTI;
  sqe->user_data = kInterruptUserData;
  return true;
}

int IoUring::Wait(int32_t* out, int max, int stride, double ms, const char** syscall,
                  SyncWake* wake) {
  *syscall = "io_uring_enter";
  const WaitExtra& extra = wake->extra();
  Deadline deadline = MakeDeadline(ms);
  bool first = true;
  bool checked_unhandled = false;
  for (;;) {
    bool interrupted = false;
    if (ms == 0 || ring_.Ready() != 0 || ring_.Overflowed()) {
      // Completions are there (or no wait is wanted): submit what is queued and move the
      // overflowed completions in, with one enter only when there is something to do. A zero
      // timeout enters once anyway, to run the task work that posts completions.
      bool empty = ring_.Ready() == 0;
      if (ring_.Pending() != 0 || ring_.Overflowed() || (empty && first)) {
        if (Enter(0, IORING_ENTER_GETEVENTS, nullptr) < 0 && errno != EINTR && errno != EBUSY) {
          return -1;
        }
      }
      first = false;
      int n = ReapAll(out, max, stride, &interrupted);
      if (n != 0 || ms == 0) return n;
      // Only stale completions: a wait goes on with the time left.
      if (interrupted && extra.should_stop != nullptr && extra.should_stop(extra.ctx, false)) {
        return 0;
      }
      continue;
    }
    first = false;
    if (!checked_unhandled) {
      checked_unhandled = true;
      if (wake->Unhandled() != 0) return 0;
    }
    struct timespec left_buf;
    const struct timespec* left = TimeLeft(deadline, &left_buf);
    if (left != nullptr && left->tv_sec == 0 && left->tv_nsec == 0) return 0;
    if (extra.fd >= 0 && (!interrupt_armed_ || interrupt_fd_ != extra.fd)) {
      interrupt_armed_ = ArmInterrupt(&ring_, extra.fd);
      interrupt_fd_ = extra.fd;
    }
    if (left != nullptr && !ring_.ExtArg() && !timeout_armed_) {
      io_uring_sqe* sqe = Sqe();
      if (sqe == nullptr) return -1;
      timeout_ts_.tv_sec = left->tv_sec;
      timeout_ts_.tv_nsec = left->tv_nsec;
      sqe->opcode = IORING_OP_TIMEOUT;
      sqe->fd = -1;
      sqe->addr = reinterpret_cast<uint64_t>(&timeout_ts_);
      sqe->len = 1;
      sqe->user_data = kTimeoutUserData;
      timeout_armed_ = true;
    }
    int rc = Enter(1, IORING_ENTER_GETEVENTS, ring_.ExtArg() ? left : nullptr);
    if (rc >= 0 || errno == ETIME || errno == EBUSY) continue;
    if (errno != EINTR) return -1;
    // PEP 475: a signal does not end the wait early unless JS listens for it (sync_interrupt.h).
    if (extra.should_stop != nullptr && extra.should_stop(extra.ctx, true)) return 0;
  }
}

int IoUring::CountedWait(Napi::Env env, int32_t* out, int max, int stride, double ms) {
  stats_.Add(kStatCalls, 1);
  const char* syscall;
  SyncWake wake(env, ms);
  int n = Wait(out, max, stride, ms, &syscall, &wake);
  int err = errno;
  if (timeout_armed_) {
    // The wait ended before its IORING_OP_TIMEOUT fired: remove it with the next submission.
    io_uring_sqe* sqe = ring_.NextSqe();
    if (sqe != nullptr) {
      sqe->opcode = IORING_OP_TIMEOUT_REMOVE;
      sqe->fd = -1;
      sqe->addr = kTimeoutUserData;
      sqe->user_data = kIgnoredUserData;
      if (ring_.CqeSkip()) sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
      timeout_armed_ = false;
    }
  }
  if (n < 0) {
    ThrowErrno(env, err, syscall);
    return -1;
  }
  if (wake.Ended("io_uring_enter")) return -1;
  stats_.Add(kStatEvents, n);
  return n;
}

bool IoUring::CheckCanWait(Napi::Env env) {
  if (!CheckOpen(env)) return false;
  if (WaitPending()) {
    ThrowBusy(env, kIoUringWhat);
    return false;
  }
  return true;
}

int32_t* IoUring::Scratch(int n) {
  if (static_cast<size_t>(n) > scratch_records_) {
    std::unique_ptr<int32_t[]> grown(new (std::nothrow) int32_t[static_cast<size_t>(n) * 3]);
    if (!grown) {
      errno = ENOMEM;
      return nullptr;
    }
    scratch_ = std::move(grown);
    scratch_records_ = static_cast<size_t>(n);
  }
  return scratch_.get();
}

Napi::Array IoUring::RecordsToArray(Napi::Env env, const int32_t* recs, int n) const {
  Napi::Array out = Napi::Array::New(env, static_cast<size_t>(n));
  for (int i = 0; i < n; i++) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::Number::New(env, recs[3 * i]));
    pair.Set(1u, Napi::Number::New(env, static_cast<uint32_t>(recs[3 * i + 1])));
    out.Set(static_cast<uint32_t>(i), pair);
  }
  return out;
}

bool IoUring::ReadWaitArgs(const Napi::CallbackInfo& info, double* ms, int* maxevents) {
  int64_t max = 1024;
  if (!CheckCanWait(info.Env()) || !ReadTimeout(info, 0, ms)) return false;
  if (!info[1].IsUndefined() && !ReadInt(info, 1, "maxevents", 1, 65536, &max)) return false;
  *maxevents = static_cast<int>(max);
  return true;
}

// poll(timeoutMs, maxevents): a new array of [fd, revents] pairs.
Napi::Value IoUring::Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double ms;
  int max;
  if (!ReadWaitArgs(info, &ms, &max)) return env.Undefined();
  int32_t* recs = Scratch(max);
  if (recs == nullptr) return ThrowErrno(env, ENOMEM, "io_uring_enter");
  long long t0 = stats_.Start();
  int n = CountedWait(env, recs, max, 3, ms);
  if (n < 0) return env.Undefined();
  Napi::Array out = RecordsToArray(env, recs, n);
  stats_.Stop(kStatCallNs, t0);
  return out;
}

// pollInto(out, timeoutMs, stride): records of stride int32s, (fd, revents) or (fd, revents,
// tag), straight into out.
Napi::Value IoUring::PollInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Int32Span out;
  double ms;
  int64_t stride = 2;
  if (!CheckCanWait(env) || !ReadInt32Span(info, 0, "out", &out) || !ReadTimeout(info, 1, &ms)) {
    return env.Undefined();
  }
  if (!info[2].IsUndefined() && !ReadInt(info, 2, "stride", 2, 3, &stride)) return env.Undefined();
  size_t records = out.length / static_cast<size_t>(stride);
  if (records == 0) return ThrowRangeError(env, "The value of \"out.length\" is out of range");
  int max = records > 65536 ? 65536 : static_cast<int>(records);
  long long t0 = stats_.Start();
  int n = CountedWait(env, out.data, max, static_cast<int>(stride), ms);
  if (n < 0) return env.Undefined();
  stats_.Stop(kStatCallNs, t0);
  return Napi::Number::New(env, n);
}

}  // namespace iomux
