// poll(2): class Poll keeps its own pollfd array plus an fd -> index map, so register,
// modify and unregister are O(1) and a wait hands the array to the kernel as it is.
#include <errno.h>
#include <poll.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "stats.h"
#include "sync_interrupt.h"
#include "timeout.h"

namespace iomux {

namespace {

class Poll : public Napi::ObjectWrap<Poll> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Poll(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poll>(info) {}

 private:
  Napi::Value Register(const Napi::CallbackInfo& info);
  Napi::Value Modify(const Napi::CallbackInfo& info);
  Napi::Value Unregister(const Napi::CallbackInfo& info);
  Napi::Value DoPoll(const Napi::CallbackInfo& info);
  Napi::Value PollInto(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value GetStats(const Napi::CallbackInfo& info) { return stats_.ToObject(info.Env()); }
  Napi::Value ResetStats(const Napi::CallbackInfo& info);
  Napi::Value SetStatsTiming(const Napi::CallbackInfo& info);

  int Wait(Napi::Env env, double timeout_ms, WakeReason* why, int* signum);

  std::vector<struct pollfd> fds_;
  std::unordered_map<int, size_t> index_;
  // Where pollInto() starts its scan. When more fds are ready than `out` holds, the next call
  // starts after the last one reported, so that no fd starves behind lower indices.
  size_t start_ = 0;
  Stats stats_;
};

Napi::Function Poll::Define(Napi::Env env) {
  return DefineClass(env, "Poll",
                     {
                         InstanceMethod<&Poll::Register>("register"),
                         InstanceMethod<&Poll::Modify>("modify"),
                         InstanceMethod<&Poll::Unregister>("unregister"),
                         InstanceMethod<&Poll::DoPoll>("poll"),
                         InstanceMethod<&Poll::PollInto>("pollInto"),
                         InstanceAccessor<&Poll::Size>("size"),
                         InstanceMethod<&Poll::GetStats>("stats"),
                         InstanceMethod<&Poll::ResetStats>("resetStats"),
                         InstanceMethod<&Poll::SetStatsTiming>("setStatsTiming"),
                     });
}

// Reads (fd, events). pollfd.events is a short: a mask outside 0..0xffff would be truncated
// silently, so it is refused here even though TS checks the known bits first.
bool ReadFdEvents(const Napi::CallbackInfo& info, int* fd, short* events) {
  if (!ReadFd(info, 0, fd)) return false;
  int32_t ev;
  if (!ReadInt32(info, 1, "events", &ev)) return false;
  if (ev < 0 || ev > 0xffff) {
    ThrowRangeError(info.Env(), "The value of \"events\" is out of range. It must be >= 0 and "
                                "<= 65535. Received " + std::to_string(ev));
    return false;
  }
  *events = static_cast<short>(static_cast<unsigned short>(ev));
  return true;
}

Napi::Value Poll::Register(const Napi::CallbackInfo& info) {
  int fd;
  short events;
  if (!ReadFdEvents(info, &fd, &events)) return info.Env().Undefined();
  auto it = index_.find(fd);
  if (it != index_.end()) {
    fds_[it->second].events = events;
    return info.Env().Undefined();
  }
  index_.emplace(fd, fds_.size());
  fds_.push_back(pollfd{fd, events, 0});
  // A spare slot for the interrupt fd that a blocking wait appends (Wait()).
  if (fds_.capacity() == fds_.size()) fds_.reserve(2 * fds_.size());
  return info.Env().Undefined();
}

Napi::Value Poll::Modify(const Napi::CallbackInfo& info) {
  int fd;
  short events;
  if (!ReadFdEvents(info, &fd, &events)) return info.Env().Undefined();
  auto it = index_.find(fd);
  if (it == index_.end()) return Napi::Boolean::New(info.Env(), false);
  fds_[it->second].events = events;
  return Napi::Boolean::New(info.Env(), true);
}

Napi::Value Poll::Unregister(const Napi::CallbackInfo& info) {
  int fd;
  if (!ReadFd(info, 0, &fd)) return info.Env().Undefined();
  auto it = index_.find(fd);
  if (it == index_.end()) return Napi::Boolean::New(info.Env(), false);
  // Swap with the last entry and pop: O(1), and the moved entry's index is fixed up.
  size_t i = it->second;
  index_.erase(it);
  if (i != fds_.size() - 1) {
    fds_[i] = fds_.back();
    index_[fds_[i].fd] = i;
  }
  fds_.pop_back();
  return Napi::Boolean::New(info.Env(), true);
}

// One poll with EINTR retried for the time that is left (PEP 475). Returns 0 or an errno.
// A wait that may block also watches the env's interrupt fd (sync_interrupt.h) in an extra
// pollfd past the registered ones; *why says when that must end the wait.
int Poll::Wait(Napi::Env env, double timeout_ms, WakeReason* why, int* signum) {
  Deadline deadline = MakeDeadline(timeout_ms);
  SyncInterrupt* intr = timeout_ms != 0 ? GetSyncInterrupt(env) : nullptr;
  int intfd = intr != nullptr ? intr->Fd(env) : -1;
  if (intfd >= 0 && (*signum = intr->Unhandled()) != 0) {
    *why = WakeReason::kSignal;
    return 0;
  }
  size_t count = fds_.size();
  // Register() keeps a spare slot, so this never reallocates.
  if (intfd >= 0) fds_.push_back(pollfd{intfd, POLLIN, 0});
  int result = 0;
  for (;;) {
#if defined(__linux__)
    // ppoll() takes a timespec, so a fractional timeout is honoured to the nanosecond.
    struct timespec buf;
    struct timespec* left = TimeLeft(deadline, &buf);
    long long t0 = stats_.Start();
    int rc = ppoll(fds_.data(), fds_.size(), left, nullptr);
#else
    // poll() takes whole ms: TimeLeftMs rounds up so that 0.3 ms never becomes a busy 0.
    int left = TimeLeftMs(deadline);
    long long t0 = stats_.Start();
    int rc = poll(fds_.data(), static_cast<nfds_t>(fds_.size()), left);
#endif
    int err = errno;
    stats_.Stop(kStatSyscallNs, t0);
    stats_.Add(kStatSyscalls, 1);
    stats_.Add(kStatFds, static_cast<double>(count));
    stats_.Add(kStatBytesIn, static_cast<double>(count * sizeof(struct pollfd)));
    if (rc < 0 && err != EINTR) {
      result = err;
      break;
    }
    bool woken = intfd >= 0 && rc > 0 && fds_[count].revents != 0;
    if (intr != nullptr && (rc < 0 || woken)) {
      *why = intr->Check(env, rc < 0, signum);
      if (*why != WakeReason::kNone) break;
    }
    // Done unless only the interrupt fd (or a signal) woke the wait.
    if (rc > (woken ? 1 : 0) || (rc == 0 && !woken)) break;
  }
  if (intfd >= 0) fds_.pop_back();
  return result;
}

Napi::Value Poll::DoPoll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double timeout_ms;
  if (!ReadTimeout(info, 0, &timeout_ms)) return env.Undefined();
  long long t0 = stats_.Start();
  stats_.Add(kStatCalls, 1);
  WakeReason why = WakeReason::kNone;
  int signum = 0;
  int err = Wait(env, timeout_ms, &why, &signum);
  if (err != 0) return ThrowErrno(env, err, "poll");
  if (why == WakeReason::kSignal) return ThrowInterrupted(env, "poll", signum);
  if (why == WakeReason::kStopping) return env.Undefined();  // V8 is unwinding this thread.
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (const struct pollfd& p : fds_) {
    if (p.revents == 0) continue;
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::Number::New(env, p.fd));
    pair.Set(1u, Napi::Number::New(env, static_cast<unsigned short>(p.revents)));
    out.Set(n++, pair);
  }
  stats_.Add(kStatEvents, n);
  stats_.Stop(kStatCallNs, t0);
  return out;
}

Napi::Value Poll::PollInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Int32Array out;
  double timeout_ms;
  if (!ReadInt32Array(info, 0, "out", &out) || !ReadTimeout(info, 1, &timeout_ms)) {
    return env.Undefined();
  }
  size_t cap = out.ElementLength() / 2;
  if (cap == 0) return ThrowRangeError(env, "The value of \"out.length\" is out of range");
  long long t0 = stats_.Start();
  stats_.Add(kStatCalls, 1);
  WakeReason why = WakeReason::kNone;
  int signum = 0;
  int err = Wait(env, timeout_ms, &why, &signum);
  if (err != 0) return ThrowErrno(env, err, "poll");
  if (why == WakeReason::kSignal) return ThrowInterrupted(env, "poll", signum);
  if (why == WakeReason::kStopping) return env.Undefined();  // V8 is unwinding this thread.
  int32_t* data = out.Data();
  size_t count = fds_.size();
  // Rotation only matters when out may be too small; with room for all, keep array order.
  size_t start = start_ < count && cap < count ? start_ : 0;
  size_t written = 0;
  for (size_t step = 0; step < count && written < cap; step++) {
    size_t i = start + step < count ? start + step : start + step - count;
    const struct pollfd& p = fds_[i];
    if (p.revents == 0) continue;
    data[2 * written] = p.fd;
    data[2 * written + 1] = static_cast<unsigned short>(p.revents);
    if (++written == cap) start_ = i + 1;  // Full: the next call begins after this fd.
  }
  stats_.Add(kStatEvents, static_cast<double>(written));
  stats_.Stop(kStatCallNs, t0);
  return Napi::Number::New(env, static_cast<double>(written));
}

Napi::Value Poll::Size(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(fds_.size()));
}

Napi::Value Poll::ResetStats(const Napi::CallbackInfo& info) {
  stats_.Reset();
  return info.Env().Undefined();
}

Napi::Value Poll::SetStatsTiming(const Napi::CallbackInfo& info) {
  stats_.SetTiming(info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

}  // namespace

void InitPoll(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Poll::Define(env);
  GetAddonData(env)->poll_ctor = Napi::Persistent(ctor);
  exports.Set("Poll", ctor);
}

}  // namespace iomux
