// Waiter: poll(2) or select(2) run on a thread of the addon's own, for async waits on
// mechanisms that have no fd of their own for Node's loop to watch. It does not use libuv's
// shared threadpool, which fs and dns need: a wait may last forever. A wake-up fd in every
// set ends a wait at once on cancel(), close() or env teardown (see waiter_core.h).
#include <errno.h>
#include <sys/select.h>

#include <string>

#include "addon.h"
#include "args.h"
#include "fd_limit.h"
#include "loop_watch.h"
#include "stats.h"
#include "waiter_core.h"

namespace iomux {

class Waiter : public Napi::ObjectWrap<Waiter>, public CountsWaits {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Waiter(const Napi::CallbackInfo& info);
  ~Waiter() override;

 private:
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);
  Napi::Value GetPending(const Napi::CallbackInfo& info);
  // Adds a finished wait to the counters, on the JS thread.
  void Count(const WaitCounts& counts, size_t events);
  bool ReadRecords(const Napi::CallbackInfo& info, WaitKind kind, bool large,
                   Napi::Int32Array* fds, uint32_t* count);
  static void OnDone(void* self);
  void Complete();
  // Ends the pending state and hands over the wait to settle.
  PendingWait TakePending();

  WaiterCore* core_ = nullptr;
  WaitKind kind_ = WaitKind::kPoll;
  // The JS side of the pending wait (callback, async context, out), settled as LoopWatch's are.
  PendingWait wait_;
  // stats_ (CountsWaits) is updated on the JS thread only, from the counts the thread hands
  // back with each result.
};

Napi::Function Waiter::Define(Napi::Env env) {
  return DefineClass(env, "Waiter",
                     {InstanceMethod<&Waiter::Wait>("wait"),
                      InstanceMethod<&Waiter::Cancel>("cancel"),
                      InstanceMethod<&Waiter::Close>("close"),
                      InstanceAccessor<&Waiter::GetClosed>("closed"),
                      InstanceMethod("stats", &Waiter::GetStats),
                      InstanceMethod("resetStats", &Waiter::ResetStats),
                      InstanceMethod("setStatsTiming", &Waiter::SetStatsTiming),
                      InstanceAccessor<&Waiter::GetPending>("pending")});
}

Waiter::Waiter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Waiter>(info) {
  Napi::Env env = info.Env();
  int err = 0;
  const char* syscall = "";
  core_ = WaiterCore::Create(env, OnDone, this, &err, &syscall);
  if (core_ == nullptr) {
    ErrnoError(env, err, syscall).ThrowAsJavaScriptException();
    return;
  }
}

Waiter::~Waiter() {
  if (core_ != nullptr) {
    core_->Shutdown();
    core_->Release();
  }
}

// Reads (fd, events) pairs: count of them in fds; select without `large` refuses an fd that
// an fd_set cannot hold (TS reports it first as ERR_FD_SETSIZE; this only guards direct calls).
bool Waiter::ReadRecords(const Napi::CallbackInfo& info, WaitKind kind, bool large,
                         Napi::Int32Array* fds, uint32_t* count) {
  if (!ReadInt32Array(info, 1, "fds", fds) || !ReadUint32(info, 2, "count", count)) return false;
  if (static_cast<size_t>(*count) * 2 > fds->ElementLength()) {
    ThrowRangeError(info.Env(), "The value of \"count\" is out of range");
    return false;
  }
  const int32_t* recs = fds->Data();
  int limit = -1;  // RLIMIT_NOFILE, read once and only when an fd past FD_SETSIZE needs it
  for (uint32_t i = 0; i < *count; i++) {
    int32_t fd = recs[2 * i];
    if (fd < 0 || (kind == WaitKind::kSelect && !large && fd >= FD_SETSIZE)) {
      ThrowRangeError(info.Env(), "fd " + std::to_string(fd) + " is out of range for this wait");
      return false;
    }
    // select's bitmaps are sized to the highest fd: one that cannot be open is EBADF before
    // the thread sizes anything to it (and fd + 1 cannot overflow).
    if (kind == WaitKind::kSelect && fd >= FD_SETSIZE) {
      if (limit < 0) limit = FdLimit();
      if (ClosedPastLimit(fd, limit)) {
        ThrowErrno(info.Env(), EBADF, "select");
        return false;
      }
    }
  }
  return true;
}

// wait(kind, fds, count, timeoutMs, large, out, callback)
Napi::Value Waiter::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (core_ == nullptr || core_->IsShutDown()) {
    return ThrowClosed(env, "waiter");
  }
  if (wait_.Active()) return ThrowBusy(env, "waiter");
  int32_t kind_num;
  if (!ReadInt32(info, 0, "kind", &kind_num)) return env.Undefined();
  if (kind_num != 0 && kind_num != 1) {
    return ThrowRangeError(env, "The value of \"kind\" is out of range");
  }
  WaitKind kind = static_cast<WaitKind>(kind_num);
  bool large;
  ReadBool(info, 4, false, &large);
  Napi::Int32Array fds, out;
  uint32_t count;
  double timeout_ms;
  if (!ReadRecords(info, kind, large, &fds, &count) || !ReadTimeout(info, 3, &timeout_ms) ||
      !ReadInt32Array(info, 5, "out", &out)) {
    return env.Undefined();
  }
  if (out.ElementLength() < 2) {
    return ThrowRangeError(env, "The value of \"out.length\" is out of range");
  }
  if (!info[6].IsFunction()) {
    return ThrowTypeError(env, "The \"callback\" argument must be of type function");
  }
  const char* syscall = "";
  int err = core_->Start(kind, large, stats_.timing(), timeout_ms, fds.Data(), count, &syscall);
  if (err != 0) return ThrowErrno(env, err, syscall);
  // The records were copied; from here on only the JS thread touches out, after the wait.
  kind_ = kind;
  wait_.Begin(env, info[6].As<Napi::Function>(), "iomux.Waiter", out);
  Ref();  // A pending Waiter is not collected, whatever the caller keeps.
  core_->SetActive(true);
  return env.Undefined();
}

Napi::Value Waiter::Cancel(const Napi::CallbackInfo& info) {
  if (!wait_.Active() || core_ == nullptr) return Napi::Boolean::New(info.Env(), false);
  core_->Cancel();
  return Napi::Boolean::New(info.Env(), true);
}

PendingWait Waiter::TakePending() {
  if (core_ != nullptr) core_->SetActive(false);
  Unref();
  return std::move(wait_);
}

Napi::Value Waiter::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (core_ == nullptr) return env.Undefined();
  // Joins the thread: the wake-up fd ends a running wait at once.
  core_->Shutdown();
  core_->Release();
  core_ = nullptr;
  if (wait_.Active()) TakePending().Settle(env, env.Null(), Napi::Number::New(env, kWaitCancelled));
  return env.Undefined();
}

void Waiter::OnDone(void* self) { static_cast<Waiter*>(self)->Complete(); }

// On the JS thread, from the uv_async_t: writes the records and calls back.
void Waiter::Complete() {
  Napi::Env env = Env();
  int n, err;
  WaitCounts counts;
  if (!wait_.Active() || core_ == nullptr || !core_->TakeResult(&n, &err, &counts)) return;
  Napi::HandleScope scope(env);
  Napi::Int32Array out = wait_.out.Value();
  PendingWait done = TakePending();
  Napi::Value args[2];
  if (n == kWaitFailed) {
    Count(counts, 0);
    args[0] = ErrnoError(env, err, kind_ == WaitKind::kPoll ? "poll" : "select").Value();
    args[1] = Napi::Number::New(env, kWaitFailed);
  } else {
    size_t records = n < 0 ? 0 : core_->WriteRecords(out.Data(), out.ElementLength() / 2);
    Count(counts, records);
    args[0] = env.Null();
    args[1] = Napi::Number::New(env, n < 0 ? n : static_cast<double>(records));
  }
  // MakeCallback runs the microtasks (promise reactions) once the callback returns.
  done.SettleFromLoop(env, args[0], args[1]);
  // The callback (and the promise reactions it ran) started no new wait: end the thread now,
  // so a Waiter left idle, or dropped without close(), holds no thread and no fd.
  if (!wait_.Active() && core_ != nullptr) core_->StopThread();
}

void Waiter::Count(const WaitCounts& counts, size_t events) {
  stats_.Add(kStatCalls, 1);
  stats_.Add(kStatSyscalls, counts.syscalls);
  stats_.Add(kStatFds, counts.fds);
  stats_.Add(kStatBytesIn, counts.bytes_in);
  stats_.Add(kStatSyscallNs, counts.syscall_ns);
  stats_.Add(kStatEvents, static_cast<double>(events));
}

Napi::Value Waiter::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), core_ == nullptr || core_->IsShutDown());
}

Napi::Value Waiter::GetPending(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), wait_.Active());
}

void InitWaiter(Napi::Env env, Napi::Object exports) {
  exports.Set("Waiter", Waiter::Define(env));
}

}  // namespace iomux
