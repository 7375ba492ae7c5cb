// Datagram sockets on raw fds: UDP over IPv4/IPv6 and Unix datagram sockets. Every fd made here
// is non-blocking and close-on-exec. Addresses are parsed and formatted by sockaddr.cc, so a
// recvFrom() address has the shape of accept()'s and localAddress()'s and goes back to sendTo().
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "io_result.h"
#include "sockaddr.h"

namespace iomux {

namespace {

// udpSocket(kind): 0 = IPv4, 1 = IPv6, 2 = Unix; unbound (the kernel binds an IP socket to an
// ephemeral port at its first sendto; an unbound Unix socket can send but gets no replies).
Napi::Value UdpSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t kind;
  if (!ReadInt(info, 0, "family", 0, 2, &kind)) return env.Undefined();
  static const int kFamily[] = {AF_INET, AF_INET6, AF_UNIX};
  int fd = OpenSocket(kFamily[kind], SOCK_DGRAM);
  if (fd == -1) {
    int err = errno;
    return ThrowErrno(env, err, "socket");
  }
  return Napi::Number::New(env, fd);
}

// socket + bind on a parsed address; the fd, or throws (closing it).
Napi::Value OpenAndBind(Napi::Env env, Address* addr) {
  int family = addr->storage.ss_family;
  int fd = OpenSocket(family, SOCK_DGRAM);
  if (fd == -1) {
    int err = errno;
    return ThrowErrno(env, err, "socket");
  }
#ifdef IPV6_V6ONLY
  if (family == AF_INET6) {
    // Dual stack, as listen() and Node's dgram: '::' also takes IPv4 datagrams. Best effort.
    int off = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
#endif
  if (bind(fd, addr->sa(), addr->len) == -1) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "bind");
  }
  return Napi::Number::New(env, fd);
}

// bindUdp(host, port)
Napi::Value BindUdp(const Napi::CallbackInfo& info) {
  Address addr;
  if (!ReadTcpAddress(info, 0, &addr)) return info.Env().Undefined();
  return OpenAndBind(info.Env(), &addr);
}

// bindUdpUnix(path)
Napi::Value BindUdpUnix(const Napi::CallbackInfo& info) {
  Address addr;
  if (!ReadUnixAddress(info, 0, "bind", &addr)) return info.Env().Undefined();
  return OpenAndBind(info.Env(), &addr);
}

// One sendto(2) of (buf, offset, length) at info[1..3], EINTR retried: bytes sent or null on
// EAGAIN.
Napi::Value SendParsed(const Napi::CallbackInfo& info, Address* to) {
  FdSpan a;
  if (!ReadFdSpan(info, &a)) return info.Env().Undefined();
  ssize_t n =
      RetryEintr([&] { return sendto(a.fd, a.data, a.len, kNoSigpipeFlag, to->sa(), to->len); });
  return BytesOrNull(info.Env(), n, "sendto");
}

// sendTo(fd, buf, offset, length, host, port)
Napi::Value SendTo(const Napi::CallbackInfo& info) {
  Address to;
  if (!ReadTcpAddress(info, 4, &to)) return info.Env().Undefined();
  return SendParsed(info, &to);
}

// sendToUnix(fd, buf, offset, length, path)
Napi::Value SendToUnix(const Napi::CallbackInfo& info) {
  Address to;
  if (!ReadUnixAddress(info, 4, "sendto", &to)) return info.Env().Undefined();
  return SendParsed(info, &to);
}

// recvFrom(fd, buf, offset, length): { bytes, address: { address, port } } or null on EAGAIN.
// A datagram longer than length is cut to it (the rest is dropped by the kernel).
Napi::Value RecvFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  FdSpan a;
  if (!ReadFdSpan(info, &a)) return env.Undefined();
  Address from;
  ssize_t n = RetryEintr([&] {
    std::memset(&from.storage, 0, sizeof(from.storage));
    from.len = sizeof(from.storage);
    return recvfrom(a.fd, a.data, a.len, 0, from.sa(), &from.len);
  });
  if (n < 0) return BytesOrNull(env, n, "recvfrom");
  Napi::Object out = Napi::Object::New(env);
  out.Set("bytes", Napi::Number::New(env, static_cast<double>(n)));
  out.Set("address", AddressToObject(env, from.storage, from.len, true));
  return out;
}

}  // namespace

void InitUdp(Napi::Env env, Napi::Object exports) {
  exports.Set("udpSocket", Napi::Function::New(env, UdpSocket, "udpSocket"));
  exports.Set("bindUdp", Napi::Function::New(env, BindUdp, "bindUdp"));
  exports.Set("bindUdpUnix", Napi::Function::New(env, BindUdpUnix, "bindUdpUnix"));
  exports.Set("sendTo", Napi::Function::New(env, SendTo, "sendTo"));
  exports.Set("sendToUnix", Napi::Function::New(env, SendToUnix, "sendToUnix"));
  exports.Set("recvFrom", Napi::Function::New(env, RecvFrom, "recvFrom"));
}

}  // namespace iomux
