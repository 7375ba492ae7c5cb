// File-descriptor helpers: pipe, socketpair, close, read, write, O_NONBLOCK, dup2, RLIMIT_NOFILE.
// Every fd made here is CLOEXEC, so a child process never inherits one by accident.
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>

#include "addon.h"
#include "args.h"
#include "io_result.h"

namespace iomux {

static int SetFlag(int fd, int get, int set, int flag, bool on) {
  int flags = fcntl(fd, get);
  if (flags < 0) return -1;
  int next = on ? (flags | flag) : (flags & ~flag);
  return next == flags ? 0 : fcntl(fd, set, next);
}

// The fallback for systems without pipe2/SOCK_CLOEXEC: CLOEXEC (and O_NONBLOCK when asked) on
// both ends after the fact. Returns 0, or -1 with errno set.
static int SetPairFlags(const int fds[2], bool nonblocking) {
  for (int i = 0; i < 2; i++) {
    if (SetFlag(fds[i], F_GETFD, F_SETFD, FD_CLOEXEC, true) != 0 ||
        (nonblocking && SetFlag(fds[i], F_GETFL, F_SETFL, O_NONBLOCK, true) != 0)) {
      return -1;
    }
  }
  return 0;
}

// Closes both fds of a pair made by a fallback path, keeping the errno that made it fail.
static Napi::Value ClosePairAndThrow(Napi::Env env, int fds[2], const char* syscall) {
  int err = errno;
  close(fds[0]);
  close(fds[1]);
  return ThrowErrno(env, err, syscall);
}

// The result of a pipe/socketpair call rc on fds: throws errno for syscall when it failed;
// with set_flags (systems without pipe2/SOCK_CLOEXEC), sets CLOEXEC and O_NONBLOCK after the fact,
// closing both on failure. Otherwise the pair as [fds[0], fds[1]].
static Napi::Value PairResult(Napi::Env env, int rc, const char* syscall, int fds[2],
                              bool set_flags, bool nonblocking) {
  if (rc != 0) {
    int err = errno;
    return ThrowErrno(env, err, syscall);
  }
  if (set_flags && SetPairFlags(fds, nonblocking) != 0) return ClosePairAndThrow(env, fds, "fcntl");
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, fds[0]));
  out.Set(1u, Napi::Number::New(env, fds[1]));
  return out;
}

static Napi::Value Pipe(const Napi::CallbackInfo& info) {
  bool nonblocking;
  ReadBool(info, 0, false, &nonblocking);
  int fds[2];
#if defined(__linux__)
  int rc = pipe2(fds, O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0));
  return PairResult(info.Env(), rc, "pipe2", fds, false, nonblocking);
#else
  // No pipe2 on macOS: another thread may fork between pipe() and fcntl(), as in libuv.
  return PairResult(info.Env(), pipe(fds), "pipe", fds, true, nonblocking);
#endif
}

static Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  bool nonblocking;
  ReadBool(info, 0, false, &nonblocking);
  int fds[2];
#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
  int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  return PairResult(info.Env(), socketpair(AF_UNIX, type, 0, fds), "socketpair", fds, false,
                    nonblocking);
#else
  int rc = socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
  return PairResult(info.Env(), rc, "socketpair", fds, true, nonblocking);
#endif
}

static Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd;
  if (!ReadFd(info, 0, &fd)) return info.Env().Undefined();
  // POSIX leaves the fd state unspecified after EINTR; on Linux it is always closed, so
  // retrying could close an fd that another thread just opened. Report EINTR as success.
  if (close(fd) != 0 && errno != EINTR) {
    int err = errno;
    return ThrowErrno(info.Env(), err, "close");
  }
  return info.Env().Undefined();
}

// read(fd, buf, offset, length): bytes read (0 at EOF) or null on EAGAIN.
static Napi::Value Read(const Napi::CallbackInfo& info) {
  FdSpan a;
  if (!ReadFdSpan(info, &a)) return info.Env().Undefined();
  ssize_t n = RetryEintr([&] { return read(a.fd, a.data, a.len); });
  return BytesOrNull(info.Env(), n, "read");
}

// write(fd, buf, offset, length): bytes written (maybe fewer than given) or null on EAGAIN.
static Napi::Value Write(const Napi::CallbackInfo& info) {
  FdSpan a;
  if (!ReadFdSpan(info, &a)) return info.Env().Undefined();
  ssize_t n = WriteNoSigpipe([&] { return send(a.fd, a.data, a.len, kNoSigpipeFlag); },
                             [&] { return write(a.fd, a.data, a.len); });
  return BytesOrNull(info.Env(), n, "write");
}

static Napi::Value SetNonBlocking(const Napi::CallbackInfo& info) {
  int fd;
  bool on;
  if (!ReadFd(info, 0, &fd)) return info.Env().Undefined();
  ReadBool(info, 1, true, &on);
  if (SetFlag(fd, F_GETFL, F_SETFL, O_NONBLOCK, on) != 0) {
    int err = errno;
    return ThrowErrno(info.Env(), err, "fcntl");
  }
  return info.Env().Undefined();
}

static Napi::Value Dup2(const Napi::CallbackInfo& info) {
  int oldfd, newfd;
  if (!ReadFd(info, 0, &oldfd) || !ReadFd(info, 1, &newfd)) return info.Env().Undefined();
  int r;
#if defined(__linux__)
  // dup3 refuses oldfd == newfd with EINVAL; dup2 makes it a no-op, which is what callers mean.
  do r = oldfd == newfd ? (fcntl(oldfd, F_GETFD) < 0 ? -1 : newfd) : dup3(oldfd, newfd, O_CLOEXEC);
  while (r < 0 && errno == EINTR);
#else
  do r = dup2(oldfd, newfd);
  while (r < 0 && errno == EINTR);
  if (r >= 0 && SetFlag(r, F_GETFD, F_SETFD, FD_CLOEXEC, true) != 0) r = -1;
#endif
  if (r < 0) {
    int err = errno;
    return ThrowErrno(info.Env(), err, "dup2");
  }
  return Napi::Number::New(info.Env(), r);
}

static Napi::Value LimitToJs(Napi::Env env, rlim_t v) {
  if (v == RLIM_INFINITY) return Napi::Number::New(env, INFINITY);
  return Napi::Number::New(env, static_cast<double>(v));
}

static Napi::Value GetNofileLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    int err = errno;
    return ThrowErrno(env, err, "getrlimit");
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("soft", LimitToJs(env, rl.rlim_cur));
  out.Set("hard", LimitToJs(env, rl.rlim_max));
  return out;
}

// A limit from JS: a non-negative integer or Infinity (RLIM_INFINITY).
static bool ReadLimit(const Napi::CallbackInfo& info, size_t i, const char* name, rlim_t* out) {
  if (info[i].IsNumber() && std::isinf(info[i].As<Napi::Number>().DoubleValue()) &&
      info[i].As<Napi::Number>().DoubleValue() > 0) {
    *out = RLIM_INFINITY;
    return true;
  }
  int64_t v;
  if (!ReadInt(info, i, name, 0, 9007199254740991.0, &v)) return false;
  *out = static_cast<rlim_t>(v);
  return true;
}

static Napi::Value SetNofileLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct rlimit rl;
  if (!ReadLimit(info, 0, "soft", &rl.rlim_cur) || !ReadLimit(info, 1, "hard", &rl.rlim_max)) {
    return env.Undefined();
  }
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    int err = errno;
    return ThrowErrno(env, err, "setrlimit");
  }
  return env.Undefined();
}

void InitFd(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("socketpair", Napi::Function::New(env, SocketPair, "socketpair"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("read", Napi::Function::New(env, Read, "read"));
  exports.Set("write", Napi::Function::New(env, Write, "write"));
  exports.Set("setNonBlocking", Napi::Function::New(env, SetNonBlocking, "setNonBlocking"));
  exports.Set("dup2", Napi::Function::New(env, Dup2, "dup2"));
  exports.Set("getNofileLimit", Napi::Function::New(env, GetNofileLimit, "getNofileLimit"));
  exports.Set("setNofileLimit", Napi::Function::New(env, SetNofileLimit, "setNofileLimit"));
}

}  // namespace iomux
