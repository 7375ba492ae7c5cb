// epoll(7): class Epoll, the synchronous calls. The wait itself lives in epoll_wait.cc, the
// asynchronous one in epoll_async.cc.
#include "epoll.h"

#include <errno.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "sync_interrupt.h"

namespace iomux {

static const char kWhat[] = "epoll object";

Napi::Function Epoll::Define(Napi::Env env) {
  return DefineClass(env, "Epoll",
                     {
                         StaticMethod<&Epoll::FromFd>("fromFd"),
                         InstanceMethod("fileno", &Epoll::Fileno),
                         InstanceAccessor("closed", &Epoll::Closed, nullptr),
                         InstanceMethod<&Epoll::Close>("close"),
                         InstanceMethod<&Epoll::Register>("register"),
                         InstanceMethod<&Epoll::Modify>("modify"),
                         InstanceMethod<&Epoll::Unregister>("unregister"),
                         InstanceMethod<&Epoll::Poll>("poll"),
                         InstanceMethod<&Epoll::PollInto>("pollInto"),
                         InstanceMethod<&Epoll::BoundPollInto>("boundPollInto"),
                         InstanceMethod<&Epoll::BoundCtl>("boundCtl"),
                         InstanceMethod<&Epoll::WaitAsync>("waitAsync"),
                         InstanceMethod<&Epoll::WaitIntoAsync>("waitIntoAsync"),
                         InstanceMethod<&Epoll::CancelWait>("cancelWait"),
                         InstanceMethod("stats", &Epoll::GetStats),
                         InstanceMethod("resetStats", &Epoll::ResetStats),
                         InstanceMethod("setStatsTiming", &Epoll::SetStatsTiming),
                     });
}

// new Epoll(sizehint, cloexec). fromFd() calls the constructor with an External holding the fd
// to adopt; JS code cannot make an External, so that path is private.
Epoll::Epoll(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Epoll>(info), LoopWatchOwner(kWhat) {
  Napi::Env env = info.Env();
  if (AdoptedFd(info, &fd_)) return;
  // The size hint only mattered to epoll_create(2) before Linux 2.6.8; TS validates it.
  int32_t sizehint = -1;
  if (!info[0].IsUndefined() && !ReadInt32(info, 0, "sizehint", &sizehint)) return;
  bool cloexec;
  ReadBool(info, 1, true, &cloexec);
  int fd = epoll_create1(cloexec ? EPOLL_CLOEXEC : 0);
  if (fd < 0) {
    int err = errno;
    ThrowErrno(env, err, "epoll_create1");
    return;
  }
  fd_ = fd;
}

Epoll::~Epoll() {
  // A collected object that was never closed: release the uv handles, then the fd. An fd that
  // close() already closed is -1 here and is never touched again.
  ReleaseWatch(nullptr);
  if (fd_ >= 0) close(fd_);
  if (ref_ != nullptr) {
    ref_->self = nullptr;
    ReleaseRef(ref_);
  }
}

void Epoll::ReleaseRef(EpollRef* ref) {
  if (--ref->owners == 0) delete ref;
}

// boundPollInto(stride) gives pollInto(out, timeoutMs) as a plain function bound to this object
// and stride: the same call as the method without napi_unwrap (about 800 instructions, more
// than the syscall's user side) and without reading a stride argument every time.
// boundPollInto(stride, out) binds out too: the function takes (timeoutMs) only.
Napi::Value Epoll::BoundPollInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t stride;
  if (!ReadCount(info, 0, "stride", 2, &stride)) return env.Undefined();
  if (stride != 2 && stride != 3) return ThrowRangeError(env, "The value of \"stride\" is out of range");
  if (ref_ == nullptr) ref_ = new EpollRef{this, 1};
  if (!info[1].IsUndefined()) return BindOut(info, stride);
  return ShareRef(env, stride == 2 ? Napi::Function::New<CallPollInto<2>>(env, "pollInto", ref_)
                                    : Napi::Function::New<CallPollInto<3>>(env, "pollInto", ref_));
}

Napi::Value Epoll::ShareRef(Napi::Env env, Napi::Function fn) {
  ref_->owners++;
  napi_status st = napi_add_finalizer(
      env, fn, ref_, [](napi_env, void* data, void*) { ReleaseRef(static_cast<EpollRef*>(data)); },
      nullptr, nullptr);
  if (st != napi_ok) {
    ref_->owners--;
    return env.Undefined();  // napi_add_finalizer left an exception pending.
  }
  return fn;
}

// boundCtl('register' | 'modify' | 'unregister') gives that method as a plain function bound to
// this object, with the method's arguments: epoll_ctl without napi_unwrap, which costs about a
// third of what a register + unregister pair spends in user space.
Napi::Value Epoll::BoundCtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (ref_ == nullptr) ref_ = new EpollRef{this, 1};
  if (name == "register") {
    return ShareRef(env, Napi::Function::New<CallCtl<EPOLL_CTL_ADD>>(env, "register", ref_));
  }
  if (name == "modify") {
    return ShareRef(env, Napi::Function::New<CallCtl<EPOLL_CTL_MOD>>(env, "modify", ref_));
  }
  if (name == "unregister") {
    return ShareRef(env, Napi::Function::New<CallCtl<EPOLL_CTL_DEL>>(env, "unregister", ref_));
  }
  return ThrowTypeError(env, "The \"name\" argument must be 'register', 'modify' or 'unregister'");
}

template <int kOp>
Napi::Value Epoll::CallCtl(const Napi::CallbackInfo& info) {
  EpollRef* ref = static_cast<EpollRef*>(info.Data());
  if (ref->self == nullptr) return ThrowClosed(info.Env(), kWhat);
  return ref->self->Ctl(info, kOp);
}

Napi::Value Epoll::BindOut(const Napi::CallbackInfo& info, int32_t stride) {
  Napi::Env env = info.Env();
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, info[1], &type, &length, &data, &buffer, &offset) != napi_ok ||
      type != napi_int32_array) {
    return ThrowTypeError(env, "The \"out\" argument must be an Int32Array");
  }
  if (data == nullptr || length / stride == 0) {
    return ThrowRangeError(env, "The value of \"out.length\" is out of range");
  }
  // A resizable ArrayBuffer may shrink under a bound length: such an out is not bound.
  Napi::Value resizable = Napi::Object(env, buffer).Get("resizable");
  if (env.IsExceptionPending() || resizable.ToBoolean().Value()) return env.Undefined();
  BoundOut* b = new BoundOut{ref_, nullptr, static_cast<int32_t*>(data), length};
  napi_create_reference(env, buffer, 1, &b->buffer);
  Napi::Function fn = stride == 2 ? Napi::Function::New<CallPollIntoBound<2>>(env, "pollInto", b)
                                  : Napi::Function::New<CallPollIntoBound<3>>(env, "pollInto", b);
  ref_->owners++;
  napi_status st = napi_add_finalizer(
      env, fn, b,
      [](napi_env e, void* data, void*) {
        BoundOut* bound = static_cast<BoundOut*>(data);
        napi_delete_reference(e, bound->buffer);
        ReleaseRef(bound->ref);
        delete bound;
      },
      nullptr, nullptr);
  if (st != napi_ok) {
    napi_delete_reference(env, b->buffer);
    ref_->owners--;
    delete b;
    return env.Undefined();
  }
  return fn;
}

template <int kStride>
Napi::Value Epoll::CallPollIntoBound(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BoundOut* b = static_cast<BoundOut*>(info.Data());
  if (b->ref->self == nullptr) return ThrowClosed(env, kWhat);
  napi_value buffer;
  bool detached = true;
  napi_get_reference_value(env, b->buffer, &buffer);
  napi_is_detached_arraybuffer(env, buffer, &detached);
  // A detached buffer reads as empty (its memory belongs to its new owner now).
  if (detached) return ThrowRangeError(env, "The value of \"out.length\" is out of range");
  double ms;
  if (!ReadTimeout(info, 0, &ms)) return env.Undefined();
  return b->ref->self->PollIntoSpan(env, b->data, b->length, ms, kStride);
}

template <int kStride>
Napi::Value Epoll::CallPollInto(const Napi::CallbackInfo& info) {
  EpollRef* ref = static_cast<EpollRef*>(info.Data());
  if (ref->self == nullptr) {
    return ThrowClosed(info.Env(), kWhat);
  }
  return ref->self->PollIntoWith(info, kStride);
}

Napi::Value Epoll::FromFd(const Napi::CallbackInfo& info) {
  return AdoptFd(info, GetAddonData(info.Env())->epoll_ctor);
}

Napi::Value Epoll::Close(const Napi::CallbackInfo& info) {
  int err = CloseOwnedFd(info.Env());
  return err != 0 ? ThrowErrno(info.Env(), err, "close") : info.Env().Undefined();
}

// Reads an event mask given either as uint32 or as the signed value JS bit operations make of
// EPOLLET (1 << 31).
static bool ReadEvents(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t* out) {
  int64_t v;
  if (!ReadInt(info, i, name, -2147483648.0, 4294967295.0, &v)) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

Napi::Value Epoll::Ctl(const Napi::CallbackInfo& info, int op) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  int fd;
  if (!ReadFd(info, 0, &fd)) return env.Undefined();
  // DEL ignores the event, but kernels before 2.6.9 wanted a non-null pointer (epoll_ctl(2)).
  epoll_event ev{};
  if (op != EPOLL_CTL_DEL) {
    uint32_t events, tag = 0;
    if (!ReadEvents(info, 1, "events", &events)) return env.Undefined();
    if (!info[2].IsUndefined() && !ReadEvents(info, 2, "tag", &tag)) return env.Undefined();
    ev.events = events;
    // The tag rides in the upper half so that selectors can tell a stale event (from an fd
    // closed and reused since) from a fresh one.
    ev.data.u64 = static_cast<uint64_t>(tag) << 32 | static_cast<uint32_t>(fd);
  }
  if (epoll_ctl(fd_, op, fd, &ev) != 0) {
    int err = errno;
    return ThrowErrno(env, err, "epoll_ctl");
  }
  return env.Undefined();
}

Napi::Value Epoll::Register(const Napi::CallbackInfo& info) { return Ctl(info, EPOLL_CTL_ADD); }
Napi::Value Epoll::Modify(const Napi::CallbackInfo& info) { return Ctl(info, EPOLL_CTL_MOD); }
Napi::Value Epoll::Unregister(const Napi::CallbackInfo& info) { return Ctl(info, EPOLL_CTL_DEL); }

bool Epoll::CheckCanWait(Napi::Env env) {
  if (!CheckOpen(env)) return false;
  if (WaitPending()) {
    ThrowBusy(env, kWhat);
    return false;
  }
  return true;
}

bool ReadCount(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t dflt,
               int32_t* out) {
  *out = dflt;
  if (info[i].IsUndefined()) return true;
  int64_t v;
  if (!ReadInt(info, i, name, 1, 2147483647.0, &v)) return false;
  *out = static_cast<int32_t>(v);
  return true;
}

bool Epoll::ReadWaitArgs(const Napi::CallbackInfo& info, double* ms, int32_t* maxevents) {
  return CheckCanWait(info.Env()) && ReadTimeout(info, 0, ms) &&
         ReadCount(info, 1, "maxevents", 1024, maxevents);
}

Napi::Value Epoll::Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double ms;
  int32_t maxevents;
  if (!ReadWaitArgs(info, &ms, &maxevents)) return env.Undefined();
  long long t0 = stats_.Start();
  int n = CountedWait(env, maxevents, ms);
  if (n < 0) return env.Undefined();
  Napi::Array out = EventsToArray(env, n);
  stats_.Add(kStatEvents, n);
  stats_.Stop(kStatCallNs, t0);
  return out;
}

Napi::Array Epoll::EventsToArray(Napi::Env env, int n) {
  Napi::Array out = Napi::Array::New(env, static_cast<size_t>(n));
  for (int i = 0; i < n; i++) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::Number::New(env, static_cast<int32_t>(cur_[i].data.u64 & 0xffffffffu)));
    pair.Set(1u, Napi::Number::New(env, cur_[i].events));
    out.Set(static_cast<uint32_t>(i), pair);
  }
  return out;
}

void Epoll::EventsToRecords(int32_t* dst, int n, int stride) const {
  for (int i = 0; i < n; i++, dst += stride) {
    uint64_t data = cur_[i].data.u64;
    dst[0] = static_cast<int32_t>(data & 0xffffffffu);
    dst[1] = static_cast<int32_t>(cur_[i].events);
    if (stride == 3) dst[2] = static_cast<int32_t>(data >> 32);
  }
}

Napi::Value Epoll::PollInto(const Napi::CallbackInfo& info) {
  int32_t stride;
  if (!ReadCount(info, 2, "stride", 2, &stride)) return info.Env().Undefined();
  return PollIntoWith(info, stride);
}

// pollInto(out, timeoutMs) with the stride already known (2 or 3; anything else is refused).
Napi::Value Epoll::PollIntoWith(const Napi::CallbackInfo& info, int32_t stride) {
  Int32Span out;
  double ms;
  if (!ReadInt32Span(info, 0, "out", &out) || !ReadTimeout(info, 1, &ms)) {
    return info.Env().Undefined();
  }
  return PollIntoSpan(info.Env(), out.data, out.length, ms, stride);
}

Napi::Value Epoll::PollIntoSpan(Napi::Env env, int32_t* out, size_t length, double ms,
                                int32_t stride) {
  if (!CheckCanWait(env)) return env.Undefined();
  size_t records = length / (stride == 2 || stride == 3 ? stride : 1);
  if ((stride != 2 && stride != 3) || records == 0) {
    return ThrowRangeError(env, "The value of \"out.length\" is out of range");
  }
  int maxevents = records > INT_MAX ? INT_MAX : static_cast<int>(records);
  long long t0 = stats_.Start();
  int n = CountedWait(env, maxevents, ms);
  if (n < 0) return env.Undefined();
  // No JS ran during the wait, so the array's memory is still where it was.
  EventsToRecords(out, n, stride);
  stats_.Add(kStatEvents, n);
  stats_.Stop(kStatCallNs, t0);
  return Napi::Number::New(env, n);
}

static Napi::Value Pwait2Supported(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), EpollPwait2Supported(info.Env()));
}

void InitEpoll(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Epoll::Define(env);
  GetAddonData(env)->epoll_ctor = Napi::Persistent(ctor);
  exports.Set("Epoll", ctor);
  exports.Set("epollPwait2Supported",
              Napi::Function::New<Pwait2Supported>(env, "epollPwait2Supported"));
}

}  // namespace iomux
