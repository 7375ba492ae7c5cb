// setsockopt/getsockopt on raw fds, and the option constants this OS defines. Only two value
// shapes reach the kernel: an int (booleans, sizes, seconds, counts) and struct linger. Which
// options exist and which shape each takes is policy, and lives in lib/sockopt.ts; an unknown
// (level, name) pair given here directly still gets an int-sized buffer, which is always safe.
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "addon.h"
#include "args.h"

namespace iomux {

namespace {

bool ReadLevelName(const Napi::CallbackInfo& info, int* fd, int32_t* level, int32_t* name) {
  return ReadFd(info, 0, fd) && ReadInt32(info, 1, "level", level) &&
         ReadInt32(info, 2, "name", name);
}

// setsockopt(2) with a value of any shape: undefined, or throws its errno.
Napi::Value SetOption(Napi::Env env, int fd, int level, int name, const void* v, socklen_t len) {
  if (setsockopt(fd, level, name, v, len) == -1) {
    int err = errno;
    return ThrowErrno(env, err, "setsockopt");
  }
  return env.Undefined();
}

// getsockopt(2) into *v; false after throwing its errno.
bool GetOption(Napi::Env env, int fd, int level, int name, void* v, socklen_t len) {
  if (getsockopt(fd, level, name, v, &len) == -1) {
    int err = errno;
    ThrowErrno(env, err, "getsockopt");
    return false;
  }
  return true;
}

// setsockoptInt(fd, level, name, value)
Napi::Value SetInt(const Napi::CallbackInfo& info) {
  int fd;
  int32_t level, name, value;
  if (!ReadLevelName(info, &fd, &level, &name) || !ReadInt32(info, 3, "value", &value)) {
    return info.Env().Undefined();
  }
  int v = value;
  return SetOption(info.Env(), fd, level, name, &v, sizeof(v));
}

// getsockoptInt(fd, level, name): the int the kernel gives back, as it gives it (Linux reports
// SO_RCVBUF/SO_SNDBUF doubled for its bookkeeping; that is what the caller sees).
Napi::Value GetInt(const Napi::CallbackInfo& info) {
  int fd;
  int32_t level, name;
  int v = 0;
  if (!ReadLevelName(info, &fd, &level, &name) ||
      !GetOption(info.Env(), fd, level, name, &v, sizeof(v))) {
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), v);
}

// setsockoptLinger(fd, onoff, seconds): SO_LINGER, the one option that takes a struct.
Napi::Value SetLinger(const Napi::CallbackInfo& info) {
  int fd;
  bool onoff;
  int32_t seconds;
  if (!ReadFd(info, 0, &fd)) return info.Env().Undefined();
  ReadBool(info, 1, false, &onoff);
  if (!ReadInt32(info, 2, "linger", &seconds)) return info.Env().Undefined();
  struct linger l;
  l.l_onoff = onoff ? 1 : 0;
  l.l_linger = seconds;
  return SetOption(info.Env(), fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

// getsockoptLinger(fd): { onoff, linger }.
Napi::Value GetLinger(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  struct linger l = {0, 0};
  if (!ReadFd(info, 0, &fd) || !GetOption(env, fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l))) {
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("onoff", Napi::Boolean::New(env, l.l_onoff != 0));
  out.Set("linger", Napi::Number::New(env, l.l_linger));
  return out;
}

}  // namespace

#define IOMUX_SET(obj, name) obj.Set(#name, Napi::Number::New(env, static_cast<double>(name)))

// Levels, option names and IOV_MAX, each only where this OS defines it.
void AddSocketConstants(Napi::Env env, Napi::Object c) {
  IOMUX_SET(c, SOL_SOCKET);
  IOMUX_SET(c, IPPROTO_TCP);
  IOMUX_SET(c, IPPROTO_IPV6);
  IOMUX_SET(c, SO_REUSEADDR);
  IOMUX_SET(c, SO_KEEPALIVE);
  IOMUX_SET(c, SO_RCVBUF);
  IOMUX_SET(c, SO_SNDBUF);
  IOMUX_SET(c, SO_LINGER);
  IOMUX_SET(c, SO_ERROR);
  IOMUX_SET(c, SO_BROADCAST);
  IOMUX_SET(c, TCP_NODELAY);
#ifdef SO_REUSEPORT
  IOMUX_SET(c, SO_REUSEPORT);
#endif
#ifdef TCP_KEEPIDLE
  IOMUX_SET(c, TCP_KEEPIDLE);
#endif
#ifdef TCP_KEEPALIVE
  IOMUX_SET(c, TCP_KEEPALIVE);  // macOS's name for the idle time before the first probe
#endif
#ifdef TCP_KEEPINTVL
  IOMUX_SET(c, TCP_KEEPINTVL);
#endif
#ifdef TCP_KEEPCNT
  IOMUX_SET(c, TCP_KEEPCNT);
#endif
#ifdef TCP_QUICKACK
  IOMUX_SET(c, TCP_QUICKACK);
#endif
#ifdef TCP_DEFER_ACCEPT
  IOMUX_SET(c, TCP_DEFER_ACCEPT);
#endif
#ifdef IPV6_V6ONLY
  IOMUX_SET(c, IPV6_V6ONLY);
#endif
#ifdef IOV_MAX
  IOMUX_SET(c, IOV_MAX);
#endif
}

#undef IOMUX_SET

void InitSockopt(Napi::Env env, Napi::Object exports) {
  exports.Set("setsockoptInt", Napi::Function::New(env, SetInt, "setsockoptInt"));
  exports.Set("getsockoptInt", Napi::Function::New(env, GetInt, "getsockoptInt"));
  exports.Set("setsockoptLinger", Napi::Function::New(env, SetLinger, "setsockoptLinger"));
  exports.Set("getsockoptLinger", Napi::Function::New(env, GetLinger, "getsockoptLinger"));
}

}  // namespace iomux
