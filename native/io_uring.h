// The IoUring class: io_uring's poll (IORING_OP_POLL_ADD) as a readiness mechanism, one ring
// per object. io_uring.cc holds the registrations, io_uring_wait.cc the waits and the reaping
// of completions, io_uring_async.cc the wait on Node's own loop. Built on Linux only
// (HAVE_IO_URING).
#pragma once

#include <linux/time_types.h>
#include <napi.h>

#include <memory>
#include <unordered_map>
#include <vector>

#include "io_uring_ring.h"
#include "loop_watch.h"
#include "stats.h"
#include "sync_interrupt.h"

namespace iomux {

class IoUringWatch;

// One registration: the poll request in flight for an fd. Its user_data is gen << 32 | fd, so a
// completion of an older registration of the same fd number (closed, reused, registered again,
// or modified since) is known stale and dropped, never reported.
struct UringReg {
  uint32_t gen;
  uint32_t events;
  int32_t tag;    // the caller's (a selector's generation tag), handed back in stride-3 records
  bool armed;     // a poll request is queued or in flight for it
  bool failed;    // its poll request failed (EBADF: closed before it was submitted): not re-armed
};

// How ERR_CLOSED and ERR_BUSY name the object.
constexpr char kIoUringWhat[] = "io_uring object";

// user_data of the ring's own requests; registrations never use generation 0.
constexpr uint64_t kIgnoredUserData = 0;    // POLL_REMOVE, TIMEOUT_REMOVE: results unused
constexpr uint64_t kInterruptUserData = 1;  // the multishot poll on the env's interrupt fd
constexpr uint64_t kTimeoutUserData = 2;    // the IORING_OP_TIMEOUT of a wait (no EXT_ARG)

// An io_uring instance that owns its fd (close-on-exec), closed by close() or, when collected
// unclosed, by the destructor. Registrations are queued as SQEs and submitted together by the
// next wait (or submit()): one io_uring_enter for any number of changes.
class IoUring : public Napi::ObjectWrap<IoUring>, public LoopWatchOwner, public CountsWaits {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit IoUring(const Napi::CallbackInfo& info);
  ~IoUring() override;

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Register(const Napi::CallbackInfo& info);
  Napi::Value Modify(const Napi::CallbackInfo& info);
  Napi::Value Unregister(const Napi::CallbackInfo& info);
  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Poll(const Napi::CallbackInfo& info);
  Napi::Value PollInto(const Napi::CallbackInfo& info);
  Napi::Value WaitAsync(const Napi::CallbackInfo& info);
  Napi::Value WaitIntoAsync(const Napi::CallbackInfo& info);
  Napi::Value StartAsync(Napi::Env env, Napi::Value cb, double ms, int maxevents,
                         Napi::Int32Array out, int stride);
  Napi::Value CancelWait(const Napi::CallbackInfo& info);

  bool CheckCanWait(Napi::Env env);
  // Reads (timeoutMs, maxevents = 1024, 1..65536) of poll() and waitAsync(), after CheckCanWait.
  bool ReadWaitArgs(const Napi::CallbackInfo& info, double* ms, int* maxevents);
  // Reads (fd, events, tag) and checks that fd is open now (fcntl F_GETFD), so that a closed
  // fd fails with EBADF at once rather than in a completion after the next wait.
  bool ReadChange(const Napi::CallbackInfo& info, int* fd, uint32_t* events, int32_t* tag);

  // Room for one SQE: the next free one, after submitting what is queued when the SQ is full.
  // nullptr with errno set when even that fails.
  io_uring_sqe* Sqe();
  // Queues the poll request of reg (fd's current registration).
  bool Arm(int fd, UringReg* reg);
  // Queues the removal of the request whose user_data is ud.
  bool Cancel(uint64_t ud);
  // One io_uring_enter, counted in the stats; EINTR is the caller's to handle. submit: hand
  // the queued SQEs over too (false: only move overflowed completions in).
  int Enter(uint32_t min_complete, uint32_t flags, const struct timespec* left, bool submit = true);
  // Submits what is queued (no wait), EINTR retried. Returns 0 or an errno.
  int Flush();
  // After a change: submits it at once when an asynchronous wait is pending.
  Napi::Value Submitted(Napi::Env env);

  // io_uring_wait.cc: one wait for at most max records of `stride` int32s into out, EINTR
  // retried with the time left. Returns the count, or -1 with errno set and *syscall named;
  // 0 with the wake's reason set when an interrupt (sync_interrupt.h) ended it.
  int Wait(int32_t* out, int max, int stride, double ms, const char** syscall, SyncWake* wake);
  // Moves up to max completions from the CQ into records (stale ones dropped, multishot
  // requests that ended re-armed). Sets *interrupted when the interrupt fd's poll fired.
  // Returns the record count, or -1 with errno set.
  int Reap(int32_t* out, int max, int stride, bool* interrupted);
  // Arms the requests that ended during the last reaping (rearm_). Returns 0 or an errno.
  int ArmEnded();
  // Reap() until max records, the CQ and the kernel's overflow list are empty.
  int ReapAll(int32_t* out, int max, int stride, bool* interrupted);
  // One counted JS-visible wait; throws and returns -1 on failure.
  int CountedWait(Napi::Env env, int32_t* out, int max, int stride, double ms);
  // Room for n stride-3 records in scratch_ (poll() and waitAsync() arrays, async drains).
  int32_t* Scratch(int n);
  Napi::Array RecordsToArray(Napi::Env env, const int32_t* recs, int n) const;

  UringRing ring_;
  std::unordered_map<int, UringReg> regs_;
  std::vector<int> rearm_;  // fds whose request ended in this reaping, armed again after it
  uint32_t next_gen_ = 1;
  double rearms_ = 0;  // requests armed again after they ended (info().rearms)
  bool level_ = false;            // one-shot polls re-armed after each completion (selector)
  bool interrupt_armed_ = false;  // the multishot poll on the env's interrupt fd is in flight
  int interrupt_fd_ = -1;
  bool timeout_armed_ = false;     // an IORING_OP_TIMEOUT is in flight (kernels without EXT_ARG)
  struct __kernel_timespec timeout_ts_ = {};  // what that SQE points at while it is queued
  std::unique_ptr<int32_t[]> scratch_;
  size_t scratch_records_ = 0;

  friend class IoUringWatch;
};

}  // namespace iomux
