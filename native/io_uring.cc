// io_uring(7) poll: class IoUring, its registrations and its synchronous calls. The waits live
// in io_uring_wait.cc, the asynchronous one in io_uring_async.cc.
#include "io_uring.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>

#include "addon.h"
#include "args.h"
#include "errors.h"

namespace iomux {

Napi::Function IoUring::Define(Napi::Env env) {
  return DefineClass(env, "IoUring",
                     {
                         InstanceMethod("fileno", &IoUring::Fileno),
                         InstanceAccessor("closed", &IoUring::Closed, nullptr),
                         InstanceMethod<&IoUring::Close>("close"),
                         InstanceMethod<&IoUring::Register>("register"),
                         InstanceMethod<&IoUring::Modify>("modify"),
                         InstanceMethod<&IoUring::Unregister>("unregister"),
                         InstanceMethod<&IoUring::Submit>("submit"),
                         InstanceMethod<&IoUring::Info>("info"),
                         InstanceMethod<&IoUring::Poll>("poll"),
                         InstanceMethod<&IoUring::PollInto>("pollInto"),
                         InstanceMethod<&IoUring::WaitAsync>("waitAsync"),
                         InstanceMethod<&IoUring::WaitIntoAsync>("waitIntoAsync"),
                         InstanceMethod<&IoUring::CancelWait>("cancelWait"),
                         InstanceMethod("stats", &IoUring::GetStats),
                         InstanceMethod("resetStats", &IoUring::ResetStats),
                         InstanceMethod("setStatsTiming", &IoUring::SetStatsTiming),
                     });
}

// new IoUring(entries, level): entries SQ entries (1..32768; the kernel rounds up to a power
// of two), level: one-shot polls re-armed after each completion instead of multishot ones.
IoUring::IoUring(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<IoUring>(info), LoopWatchOwner(kIoUringWhat) {
  Napi::Env env = info.Env();
  int64_t entries = 256;
  if (!info[0].IsUndefined() && !ReadInt(info, 0, "entries", 1, kMaxRingEntries, &entries)) return;
  ReadBool(info, 1, false, &level_);
  int fd = ring_.Setup(static_cast<uint32_t>(entries));
  if (fd < 0) {
    int err = errno;
    ThrowErrno(env, err, "io_uring_setup");
    return;
  }
  fd_ = fd;
  // IOMUX_IO_URING_EXT_ARG=0 forces the timeout request of kernels without EXT_ARG, as
  // IOMUX_EPOLL_PWAIT2=0 forces epoll_wait, so that path is tested on new kernels too.
  const char* ext = getenv("IOMUX_IO_URING_EXT_ARG");
  if (ext != nullptr && strcmp(ext, "0") == 0) ring_.DisableExtArg();
}

IoUring::~IoUring() {
  // A collected object that was never closed: release the uv handles, then the ring. An fd
  // that close() already closed is -1 here and is never touched again.
  ReleaseWatch(nullptr);
  ring_.Unmap();
  if (fd_ >= 0) close(fd_);
}

Napi::Value IoUring::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) return env.Undefined();
  // Closing the ring fd cancels every poll request and drops the ring's file references.
  ring_.Unmap();
  regs_.clear();
  int err = CloseOwnedFd(env);
  return err != 0 ? ThrowErrno(env, err, "close") : env.Undefined();
}

int IoUring::Enter(uint32_t min_complete, uint32_t flags, const struct timespec* left,
                   bool submit) {
  uint32_t sent = ring_.Pending();
  long long t0 = stats_.Start();
  int rc = ring_.Enter(fd_, submit ? sent : 0, min_complete, flags, left);
  int err = errno;
  stats_.Stop(kStatSyscallNs, t0);
  stats_.Add(kStatSyscalls, 1);
  // `fds` and `bytesIn` count the SQEs handed to the kernel (64 bytes each).
  uint32_t taken = sent - ring_.Pending();
  stats_.Add(kStatFds, taken);
  stats_.Add(kStatBytesIn, taken * sizeof(io_uring_sqe));
  errno = err;
  return rc;
}

int IoUring::Flush() {
  while (ring_.Pending() != 0) {
    uint32_t before = ring_.Pending();
    int rc = Enter(0, 0, nullptr);
    if (rc < 0 && errno != EINTR) return errno;
    if (rc >= 0 && ring_.Pending() == before) return EBUSY;  // The kernel took none.
  }
  return 0;
}

io_uring_sqe* IoUring::Sqe() {
  io_uring_sqe* sqe = ring_.NextSqe();
  if (sqe != nullptr) return sqe;
  int err = Flush();
  if (err != 0) {
    errno = err;
    return nullptr;
  }
  sqe = ring_.NextSqe();
  if (sqe == nullptr) errno = EBUSY;
  return sqe;
}

bool IoUring::Arm(int fd, UringReg* reg) {
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return false;
  sqe->opcode = IORING_OP_POLL_ADD;
  sqe->fd = fd;
  // The poll mask is a 32-bit field read as is on little-endian machines (the kernel swaps the
  // halves back on big-endian ones, where this field needs swahw32 first).
  sqe->poll32_events = reg->events;
  sqe->len = level_ ? 0 : IORING_POLL_ADD_MULTI;
  sqe->user_data = static_cast<uint64_t>(reg->gen) << 32 | static_cast<uint32_t>(fd);
  reg->armed = true;
  return true;
}

bool IoUring::Cancel(uint64_t ud) {
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return false;
  sqe->opcode = IORING_OP_POLL_REMOVE;
  sqe->fd = -1;
  sqe->addr = ud;
  sqe->user_data = kIgnoredUserData;
  // Its own result is not needed (the removed request still completes, with -ECANCELED): one
  // CQE per removal instead of two, so a burst of removals overflows the CQ half as soon.
  if (ring_.CqeSkip()) sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  return true;
}

bool IoUring::ReadChange(const Napi::CallbackInfo& info, int* fd, uint32_t* events,
                         int32_t* tag) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env) || !ReadFd(info, 0, fd) || !ReadUint32(info, 1, "events", events)) {
    return false;
  }
  *tag = 0;
  if (!info[2].IsUndefined() && !ReadInt32(info, 2, "tag", tag)) return false;
  if (fcntl(*fd, F_GETFD) < 0) {
    int err = errno;
    ThrowErrno(env, err, "fcntl");
    return false;
  }
  return true;
}

// A change made while an asynchronous wait is pending goes to the kernel at once: that wait
// makes no io_uring_enter that would carry it. Otherwise it waits for the next wait.
Napi::Value IoUring::Submitted(Napi::Env env) {
  if (WaitPending()) {
    int err = Flush();
    if (err != 0) return ThrowErrno(env, err, "io_uring_enter");
  }
  return env.Undefined();
}

static uint32_t NextGen(uint32_t* next) {
  uint32_t gen = (*next)++;
  if (*next == 0) *next = 1;  // 0 is the ring's own user_data space
  return gen;
}

Napi::Value IoUring::Register(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t events;
  int32_t tag;
  if (!ReadChange(info, &fd, &events, &tag)) return env.Undefined();
  if (regs_.count(fd) != 0) return ThrowErrno(env, EEXIST, "io_uring_register_poll");
  UringReg reg{NextGen(&next_gen_), events, tag, false, false};
  if (!Arm(fd, &reg)) {
    int err = errno;
    return ThrowErrno(env, err, "io_uring_enter");
  }
  regs_.emplace(fd, reg);
  return Submitted(env);
}

// A new generation rather than IORING_POLL_UPDATE_EVENTS: an update fails with ENOENT when a
// one-shot poll has just completed, and the old request's completions already in the CQ must
// not be reported with the new mask.
Napi::Value IoUring::Modify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t events;
  int32_t tag;
  if (!ReadChange(info, &fd, &events, &tag)) return env.Undefined();
  auto it = regs_.find(fd);
  if (it == regs_.end()) return ThrowErrno(env, ENOENT, "io_uring_register_poll");
  UringReg& reg = it->second;
  uint64_t old = static_cast<uint64_t>(reg.gen) << 32 | static_cast<uint32_t>(fd);
  if (reg.armed && !Cancel(old)) {
    int err = errno;
    return ThrowErrno(env, err, "io_uring_enter");
  }
  reg = UringReg{NextGen(&next_gen_), events, tag, false, false};
  if (!Arm(fd, &reg)) {
    int err = errno;
    regs_.erase(it);  // No request is left in flight for it: it is not registered any more.
    return ThrowErrno(env, err, "io_uring_enter");
  }
  return Submitted(env);
}

// Works after fd was closed (the removal names the request, not the fd): the ring holds a
// reference to the file until the removal is submitted, with the next wait or submit().
Napi::Value IoUring::Unregister(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!CheckOpen(env) || !ReadFd(info, 0, &fd)) return env.Undefined();
  auto it = regs_.find(fd);
  if (it == regs_.end()) return ThrowErrno(env, ENOENT, "io_uring_register_poll");
  UringReg reg = it->second;
  regs_.erase(it);
  if (reg.armed &&
      !Cancel(static_cast<uint64_t>(reg.gen) << 32 | static_cast<uint32_t>(fd))) {
    int err = errno;
    return ThrowErrno(env, err, "io_uring_enter");
  }
  return Submitted(env);
}

// submit(): hands the queued changes to the kernel now; returns how many SQEs went.
Napi::Value IoUring::Submit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  uint32_t before = ring_.Pending();
  int err = Flush();
  if (err != 0) return ThrowErrno(env, err, "io_uring_enter");
  return Napi::Number::New(env, before);
}

// info(): the ring's sizes, whether the kernel takes a timeout with the wait (EXT_ARG), and
// the registrations and queued SQEs.
Napi::Value IoUring::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("sqEntries", ring_.sq_entries());
  o.Set("cqEntries", ring_.cq_entries());
  o.Set("extArg", ring_.ExtArg());
  o.Set("level", level_);
  o.Set("registered", static_cast<double>(regs_.size()));
  o.Set("queued", ring_.Pending());
  o.Set("rearms", rearms_);
  return o;
}

Napi::Value IoUring::CancelWait(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), CancelPendingWait());
}

// ioUringProbe(): null when io_uring_setup works here, else its errno error (ENOSYS, EPERM).
static Napi::Value Probe(const Napi::CallbackInfo& info) {
  int err = ProbeIoUring();
  if (err == 0) return info.Env().Null();
  return ErrnoError(info.Env(), err, "io_uring_setup").Value();
}

void InitIoUring(Napi::Env env, Napi::Object exports) {
  exports.Set("IoUring", IoUring::Define(env));
  exports.Set("ioUringProbe", Napi::Function::New<Probe>(env, "ioUringProbe"));
}

}  // namespace iomux
