// TCP and Unix stream sockets on raw fds: just enough to write a server with no `net` module.
// Every fd made here is non-blocking and close-on-exec. TS (lib/socket.ts) validates arguments
// with Node's wording; the checks here only stop a wrong direct call from reading garbage.
// Every error path closes the socket it made before throwing, saving errno first.
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cstring>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "sockaddr.h"

namespace iomux {

namespace {

// The options listen() takes beyond the backlog.
struct ListenOptions {
  bool reuse_port = false;
  bool ipv6_only = false;
};

// SO_REUSEADDR (and SO_REUSEPORT when asked) for TCP, IPV6_V6ONLY for IPv6; errno on failure.
bool SetListenOptions(int fd, int family, const ListenOptions& opts) {
  int on = 1;
  if (family == AF_UNIX) return true;
  // SO_REUSEADDR lets a restarted server bind while old connections sit in TIME_WAIT, as Node
  // and libuv do; SO_REUSEPORT stays off unless asked, so a second listener gets EADDRINUSE.
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1) return false;
#ifdef SO_REUSEPORT
  if (opts.reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1) {
    return false;
  }
#endif
#ifdef IPV6_V6ONLY
  if (family == AF_INET6) {
    // Dual stack unless asked, as Node's default (ipv6Only: false) and libuv set it explicitly,
    // so '::' also takes IPv4 peers whatever the OS default. Clearing it is best effort
    // (OpenBSD refuses); setting it when asked must work.
    int v6only = opts.ipv6_only ? 1 : 0;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) == -1 && v6only) {
      return false;
    }
  }
#endif
  return true;
}

// socket + options + bind + listen on a parsed address; the fd, or throws (closing it).
Napi::Value BindAndListen(Napi::Env env, Address* addr, int backlog, const ListenOptions& opts) {
  int family = addr->storage.ss_family;
  int fd = OpenSocket(family, SOCK_STREAM);
  if (fd == -1) {
    int err = errno;
    return ThrowErrno(env, err, "socket");
  }
  if (!SetListenOptions(fd, family, opts)) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "setsockopt");
  }
  if (bind(fd, addr->sa(), addr->len) == -1) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "bind");
  }
  if (listen(fd, backlog) == -1) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "listen");
  }
  return Napi::Number::New(env, fd);
}

// socket + a non-blocking connect. EINPROGRESS (and EINTR, after which the connect goes on in
// the background) is not an error: the caller waits for writability, then reads socketError().
Napi::Value StartConnect(Napi::Env env, Address* addr) {
  int fd = OpenSocket(addr->storage.ss_family, SOCK_STREAM);
  if (fd == -1) {
    int err = errno;
    return ThrowErrno(env, err, "socket");
  }
  if (connect(fd, addr->sa(), addr->len) == -1 && errno != EINPROGRESS && errno != EINTR) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "connect");
  }
  return Napi::Number::New(env, fd);
}

Napi::Value ListenTcp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t backlog;
  ListenOptions opts;
  Address addr;
  if (!ReadTcpAddress(info, 0, &addr)) return env.Undefined();
  if (!ReadInt32(info, 2, "backlog", &backlog)) return env.Undefined();
  ReadBool(info, 3, false, &opts.reuse_port);
  ReadBool(info, 4, false, &opts.ipv6_only);
#ifndef SO_REUSEPORT
  if (opts.reuse_port) {
    return ThrowCodeError(env, "ERR_NOT_SUPPORTED", "SO_REUSEPORT is not available on this OS");
  }
#endif
  return BindAndListen(env, &addr, backlog, opts);
}

Napi::Value ListenUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t backlog;
  Address addr;
  if (!ReadUnixAddress(info, 0, "bind", &addr)) return env.Undefined();
  if (!ReadInt32(info, 1, "backlog", &backlog)) return env.Undefined();
  return BindAndListen(env, &addr, backlog, ListenOptions());
}

Napi::Value ConnectTcp(const Napi::CallbackInfo& info) {
  Address addr;
  if (!ReadTcpAddress(info, 0, &addr)) return info.Env().Undefined();
  return StartConnect(info.Env(), &addr);
}

Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  Address addr;
  if (!ReadUnixAddress(info, 0, "connect", &addr)) return info.Env().Undefined();
  return StartConnect(info.Env(), &addr);
}

// One accept; null when nothing is pending. EINTR is retried, and so is ECONNABORTED (a peer
// that reset before we took it): there may be another connection behind it (libuv skips it too).
Napi::Value Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ReadFd(info, 0, &fd)) return env.Undefined();
  Address peer;
  int conn;
  for (;;) {
    std::memset(&peer.storage, 0, sizeof(peer.storage));
    peer.len = sizeof(peer.storage);
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    conn = accept4(fd, peer.sa(), &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    const char* syscall = "accept4";
    bool atomic = true;
#else
    conn = accept(fd, peer.sa(), &peer.len);
    const char* syscall = "accept";
    bool atomic = false;
#endif
    if (conn == -1) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
      int err = errno;
      return ThrowErrno(env, err, syscall);
    }
    if (!PrepareFd(conn, atomic)) {
      int err = errno;
      close(conn);
      return ThrowErrno(env, err, "fcntl");
    }
    break;
  }
  Napi::Object obj = AddressToObject(env, peer.storage, peer.len, false).As<Napi::Object>();
  obj.Set("fd", Napi::Number::New(env, conn));
  return obj;
}

Napi::Value SocketError(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ReadFd(info, 0, &fd)) return env.Undefined();
  int soerr = 0;
  socklen_t len = sizeof(soerr);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1) {
    int err = errno;
    return ThrowErrno(env, err, "getsockopt");
  }
  if (soerr == 0) return env.Null();
  return Napi::String::New(env, uv_err_name(-soerr));
}

// getsockname or getpeername into { address, port } (port 0 for Unix sockets).
template <int (*Get)(int, sockaddr*, socklen_t*)>
Napi::Value SocketName(const Napi::CallbackInfo& info, const char* syscall) {
  Napi::Env env = info.Env();
  int fd;
  if (!ReadFd(info, 0, &fd)) return env.Undefined();
  Address addr;
  std::memset(&addr.storage, 0, sizeof(addr.storage));
  addr.len = sizeof(addr.storage);
  if (Get(fd, addr.sa(), &addr.len) == -1) {
    int err = errno;
    return ThrowErrno(env, err, syscall);
  }
  return AddressToObject(env, addr.storage, addr.len, true);
}

Napi::Value LocalAddress(const Napi::CallbackInfo& info) {
  return SocketName<getsockname>(info, "getsockname");
}

Napi::Value RemoteAddress(const Napi::CallbackInfo& info) {
  return SocketName<getpeername>(info, "getpeername");
}

Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  int64_t how;
  if (!ReadFd(info, 0, &fd)) return env.Undefined();
  if (!ReadInt(info, 1, "how", 0, 2, &how)) return env.Undefined();
  static const int kHow[] = {SHUT_RD, SHUT_WR, SHUT_RDWR};
  if (shutdown(fd, kHow[how]) == -1) {
    int err = errno;
    return ThrowErrno(env, err, "shutdown");
  }
  return env.Undefined();
}

}  // namespace

void InitSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("listenTcp", Napi::Function::New(env, ListenTcp, "listenTcp"));
  exports.Set("listenUnix", Napi::Function::New(env, ListenUnix, "listenUnix"));
  exports.Set("accept", Napi::Function::New(env, Accept, "accept"));
  exports.Set("connectTcp", Napi::Function::New(env, ConnectTcp, "connectTcp"));
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix, "connectUnix"));
  exports.Set("socketError", Napi::Function::New(env, SocketError, "socketError"));
  exports.Set("localAddress", Napi::Function::New(env, LocalAddress, "localAddress"));
  exports.Set("remoteAddress", Napi::Function::New(env, RemoteAddress, "remoteAddress"));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown, "shutdown"));
}

}  // namespace iomux
