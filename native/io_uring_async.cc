// IoUring#waitAsync: an asynchronous wait with no thread. The ring fd is pollable (readable
// while the CQ holds completions, or the kernel holds overflowed ones), so a LoopWatch
// (loop_watch.h) watches it in Node's own loop. The queued changes are submitted when the
// wait starts; when the fd turns readable, the completions are reaped with no syscall (one
// io_uring_enter only when there are changes to submit or overflowed completions to move).
#include <errno.h>
#include <limits.h>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "io_uring.h"
#include "loop_watch.h"

namespace iomux {

class IoUringWatch final : public OwnedWatch<IoUring> {
 public:
  static IoUringWatch* Create(Napi::Env env, IoUring* owner, int* uverr) {
    return Opened(new IoUringWatch(env, owner), owner->fd_, uverr);
  }
  // Starts a wait that calls cb(err, pairs), or cb(err, count) after writing records of stride
  // int32s into out when stride is not 0. Returns 0 or a libuv error.
  int Start(Napi::Function cb, double ms, int maxevents, Napi::Int32Array out, int stride) {
    int rc = BeginFor(cb, "iomux:IoUring.waitAsync", stride != 0 ? out : Napi::Int32Array(), ms,
                      maxevents);
    if (rc != 0) return rc;
    stride_ = stride;
    owner_->stats_.Add(kStatCalls, 1);
    return 0;
  }

 private:
  IoUringWatch(Napi::Env env, IoUring* owner) : OwnedWatch(env, owner) {}

  int Drain() override {
    IoUring* o = owner_;
    if (o->ring_.Pending() != 0 || o->ring_.Overflowed()) {
      if (o->Enter(0, IORING_ENTER_GETEVENTS, nullptr) < 0 && errno != EINTR && errno != EBUSY) {
        return -1;
      }
    }
    // The interrupt fd's poll belongs to the synchronous waits; here Node's loop handles
    // signals and termination itself.
    bool interrupted = false;
    // waitIntoAsync: the records go straight into the caller's buffer (no copy), as many as it
    // holds. A buffer detached since the wait started holds none: reaped into the scratch,
    // they are dropped.
    in_out_ = false;
    if (stride_ != 0) {
      Napi::Int32Array out = pending_.out.Value();
      size_t room = out.ElementLength() / static_cast<size_t>(stride_);
      int max = room < static_cast<size_t>(maxevents_) ? static_cast<int>(room) : maxevents_;
      if (max > 0) {
        in_out_ = true;
        return o->ReapAll(out.Data(), max, stride_, &interrupted);
      }
    }
    int32_t* recs = o->Scratch(maxevents_);
    if (recs == nullptr) return -1;
    return o->ReapAll(recs, maxevents_, 3, &interrupted);
  }

  void Complete(int n) override {
    if (n < 0) {
      int err = errno;
      Finish(ErrnoError(env_, err, "io_uring_enter").Value(), env_.Undefined());
      return;
    }
    const int32_t* recs = owner_->scratch_.get();
    if (stride_ != 0) {
      if (!in_out_) n = 0;  // The buffer was detached: nothing could be written.
      owner_->stats_.Add(kStatEvents, n);
      Finish(env_.Null(), Napi::Number::New(env_, n));
    } else {
      owner_->stats_.Add(kStatEvents, n);
      Napi::Array pairs = owner_->RecordsToArray(env_, recs, n);
      Finish(env_.Null(), pairs);
    }
  }

  int stride_ = 0;
  bool in_out_ = false;  // Drain() reaped straight into the waitIntoAsync buffer
};

Napi::Value IoUring::WaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double ms;
  int max;
  if (!ReadWaitArgs(info, &ms, &max)) return env.Undefined();
  return StartAsync(env, info[2], ms, max, Napi::Int32Array(), 0);
}

// waitIntoAsync(out, timeoutMs, stride, callback): as pollInto, asynchronously; the records are
// written into out just before callback(null, count) runs.
Napi::Value IoUring::WaitIntoAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Int32Array out;
  double ms;
  int64_t stride = 2;
  if (!CheckCanWait(env) || !ReadInt32Array(info, 0, "out", &out) || !ReadTimeout(info, 1, &ms)) {
    return env.Undefined();
  }
  if (!info[2].IsUndefined() && !ReadInt(info, 2, "stride", 2, 3, &stride)) return env.Undefined();
  size_t records = out.ElementLength() / static_cast<size_t>(stride);
  if (records == 0) return ThrowRangeError(env, "The value of \"out.length\" is out of range");
  int max = records > 65536 ? 65536 : static_cast<int>(records);
  return StartAsync(env, info[3], ms, max, out, static_cast<int>(stride));
}

Napi::Value IoUring::StartAsync(Napi::Env env, Napi::Value cb, double ms, int maxevents,
                                Napi::Int32Array out, int stride) {
  if (!cb.IsFunction()) {
    return ThrowTypeError(env, "The \"callback\" argument must be of type function");
  }
  if (Scratch(maxevents) == nullptr) return ThrowErrno(env, ENOMEM, "io_uring_enter");
  // The registrations queued so far must be in the kernel for the ring fd to turn readable.
  int err = Flush();
  if (err != 0) return ThrowErrno(env, err, "io_uring_enter");
  IoUringWatch* w = static_cast<IoUringWatch*>(watch_);  // Only this file makes the watch.
  if (w == nullptr) {
    int uverr;
    w = IoUringWatch::Create(env, this, &uverr);
    if (w == nullptr) return ThrowErrno(env, -uverr, "uv_poll_init");
    watch_ = w;
  }
  int rc = w->Start(cb.As<Napi::Function>(), ms, maxevents, out, stride);
  if (rc != 0) return ThrowErrno(env, -rc, "uv_poll_start");
  return env.Undefined();
}

}  // namespace iomux
