// Epoll#waitAsync: an asynchronous wait with no thread. The epoll fd is itself pollable (it
// turns readable when its ready list is not empty), so a LoopWatch (loop_watch.h: a uv_poll_t
// and a uv_timer_t in Node's own loop) watches it; when it fires, one zero-timeout epoll_wait
// drains as many events as were asked for, and the timer ends the wait at its deadline. The
// handles are made on the first wait and kept between waits; they are closed by close(), by the
// destructor, or by the env's async cleanup hook (see loop_watch.h for their lifetime).
#include <errno.h>
#include <limits.h>

#include "addon.h"
#include "args.h"
#include "epoll.h"
#include "errors.h"
#include "loop_watch.h"

namespace iomux {

// The LoopWatch of one Epoll: drains with a zero-timeout epoll_wait into the owner's buffer.
class EpollWatch final : public OwnedWatch<Epoll> {
 public:
  // Makes the handles for owner's fd. Returns nullptr with *uverr set when libuv refuses.
  static EpollWatch* Create(Napi::Env env, Epoll* owner, int* uverr);
  // Starts a wait that will call cb(err, events), or cb(err, count) after writing records of
  // stride int32s into out when stride is not 0. Returns 0 or a libuv error.
  int Start(Napi::Function cb, double ms, int maxevents, Napi::Int32Array out, int stride);

 private:
  EpollWatch(Napi::Env env, Epoll* owner) : OwnedWatch(env, owner) {}
  int Drain() override;
  void Complete(int n) override;

  // waitIntoAsync's record size; 0 for waitAsync, which answers with a new array of pairs.
  int stride_ = 0;
};

EpollWatch* EpollWatch::Create(Napi::Env env, Epoll* owner, int* uverr) {
  return Opened(new EpollWatch(env, owner), owner->fd_, uverr);
}

int EpollWatch::Start(Napi::Function cb, double ms, int maxevents, Napi::Int32Array out,
                       int stride) {
  int rc = BeginFor(cb, "iomux:Epoll.pollAsync", stride != 0 ? out : Napi::Int32Array(), ms,
                    maxevents);
  if (rc != 0) return rc;
  stride_ = stride;
  owner_->stats_.Add(kStatCalls, 1);
  return 0;
}

int EpollWatch::Drain() {
  int maxevents = maxevents_ < kMaxEventsPerWait ? maxevents_ : kMaxEventsPerWait;
  epoll_event* buf = owner_->Buffer(maxevents);
  if (buf == nullptr) return -1;  // errno is ENOMEM; Complete() reports it
  Stats& stats = owner_->stats_;
  int n;
  do {
    long long t0 = stats.Start();
    n = epoll_wait(owner_->fd_, buf, maxevents, 0);
    stats.Stop(kStatSyscallNs, t0);
    stats.Add(kStatSyscalls, 1);
  } while (n < 0 && errno == EINTR);
  return n;
}

void EpollWatch::Complete(int n) {
  if (n < 0) {
    int err = errno;
    Finish(ErrnoError(env_, err, "epoll_wait").Value(), env_.Undefined());
  } else if (stride_ != 0) {
    // The buffer held maxevents_ records when the wait started; a buffer detached since (its
    // ArrayBuffer transferred) holds none, and the events are then reported as 0.
    Napi::Int32Array out = pending_.out.Value();
    size_t room = out.ElementLength() / static_cast<size_t>(stride_);
    if (static_cast<size_t>(n) > room) n = static_cast<int>(room);
    owner_->EventsToRecords(out.Data(), n, stride_);
    owner_->stats_.Add(kStatEvents, n);
    Finish(env_.Null(), Napi::Number::New(env_, n));
  } else {
    owner_->stats_.Add(kStatEvents, n);
    Napi::Array events = owner_->EventsToArray(env_, n);
    Finish(env_.Null(), events);
  }
}

Napi::Value Epoll::WaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double ms;
  int32_t maxevents;
  if (!ReadWaitArgs(info, &ms, &maxevents)) return env.Undefined();
  return StartAsync(env, info[2], ms, maxevents, Napi::Int32Array(), 0);
}

// waitIntoAsync(out, timeoutMs, stride, callback): as pollInto, but asynchronous. The records
// are written into out just before callback(null, count) runs.
Napi::Value Epoll::WaitIntoAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckCanWait(env)) return env.Undefined();
  Napi::Int32Array out;
  double ms;
  int32_t stride;
  if (!ReadInt32Array(info, 0, "out", &out) || !ReadTimeout(info, 1, &ms) ||
      !ReadCount(info, 2, "stride", 2, &stride)) {
    return env.Undefined();
  }
  size_t records = out.ElementLength() / (stride == 2 || stride == 3 ? stride : 1);
  if ((stride != 2 && stride != 3) || records == 0) {
    return ThrowRangeError(env, "The value of \"out.length\" is out of range");
  }
  int maxevents = records > INT_MAX ? INT_MAX : static_cast<int>(records);
  return StartAsync(env, info[3], ms, maxevents, out, stride);
}

Napi::Value Epoll::StartAsync(Napi::Env env, Napi::Value cb, double ms, int maxevents,
                              Napi::Int32Array out, int stride) {
  if (!cb.IsFunction()) {
    return ThrowTypeError(env, "The \"callback\" argument must be of type function");
  }
  EpollWatch* w = static_cast<EpollWatch*>(watch_);  // Only this file makes Epoll's watch.
  if (w == nullptr) {
    int uverr;
    w = EpollWatch::Create(env, this, &uverr);
    if (w == nullptr) return ThrowErrno(env, -uverr, "uv_poll_init");
    watch_ = w;
  }
  int rc = w->Start(cb.As<Napi::Function>(), ms, maxevents, out, stride);
  if (rc != 0) return ThrowErrno(env, -rc, "uv_poll_start");
  return env.Undefined();
}

Napi::Value Epoll::CancelWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Napi::Boolean::New(env, CancelPendingWait());
}

}  // namespace iomux
