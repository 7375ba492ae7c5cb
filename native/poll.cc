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
#include "wait_once.h"

namespace iomux {

namespace {

class Poll : public Napi::ObjectWrap<Poll>, public CountsWaits {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Poll(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poll>(info) {}

 private:
  Napi::Value Register(const Napi::CallbackInfo& info);
  Napi::Value Modify(const Napi::CallbackInfo& info);
  Napi::Value Unregister(const Napi::CallbackInfo& info);
  Napi::Value PollInto(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);

  int Wait(double timeout_ms, SyncWake* wake);

  std::vector<struct pollfd> fds_;
  std::unordered_map<int, size_t> index_;
  // Where pollInto() starts its scan. When more fds are ready than `out` holds, the next call
  // starts after the last one reported, so that no fd starves behind lower indices.
  size_t start_ = 0;
};

Napi::Function Poll::Define(Napi::Env env) {
  return DefineClass(env, "Poll",
                     {
                         InstanceMethod<&Poll::Register>("register"),
                         InstanceMethod<&Poll::Modify>("modify"),
                         InstanceMethod<&Poll::Unregister>("unregister"),
                         InstanceMethod<&Poll::PollInto>("pollInto"),
                         InstanceAccessor<&Poll::Size>("size"),
                         InstanceMethod("stats", &Poll::GetStats),
                         InstanceMethod("resetStats", &Poll::ResetStats),
                         InstanceMethod("setStatsTiming", &Poll::SetStatsTiming),
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

// One poll (PollOnce) over the registered fds, plus the env's interrupt fd when the wait may
// block (in the spare slot Register() keeps). Returns 0 or an errno.
int Poll::Wait(double timeout_ms, SyncWake* wake) {
  size_t count = fds_.size();
  if (wake->extra().fd >= 0) fds_.emplace_back();  // Register() keeps a spare slot: no realloc
  WaitCounts counts;
  WaitCounting counting{static_cast<double>(count), static_cast<double>(count * sizeof(struct pollfd)),
                        stats_.timing(), &counts};
  int err = 0;
  int rc = PollOnce(fds_.data(), count, MakeDeadline(timeout_ms), wake->extra(), counting, &err);
  fds_.resize(count);
  stats_.AddCounts(counts);
  return rc == -1 ? err : 0;
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
  SyncWake wake(env, timeout_ms);
  if (wake.Unhandled() != 0 && wake.Ended("poll")) return env.Undefined();
  int err = Wait(timeout_ms, &wake);
  if (err != 0) return ThrowErrno(env, err, "poll");
  if (wake.Ended("poll")) return env.Undefined();
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

}  // namespace

void InitPoll(Napi::Env env, Napi::Object exports) {
  exports.Set("Poll", Poll::Define(env));
}

}  // namespace iomux
