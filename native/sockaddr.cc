// Socket addresses and socket fds shared by socket.cc (TCP/Unix streams) and udp.cc.
#include "sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "args.h"
#include "errors.h"

namespace iomux {

bool ReadString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out) {
  Napi::Value v = info[i];
  if (!v.IsString()) {
    ThrowTypeError(info.Env(), std::string("The \"") + name + "\" argument must be of type string");
    return false;
  }
  *out = v.As<Napi::String>().Utf8Value();
  return true;
}

// Sets close-on-exec and O_NONBLOCK where the socket call could not do it atomically, and
// SO_NOSIGPIPE where the OS has it (macOS/BSD), so a write to a reset peer gives EPIPE instead
// of killing the process. Linux has no such option; Node ignores SIGPIPE there at startup.
// Returns false with errno set.
bool PrepareFd(int fd, bool atomic_flags) {
  if (!atomic_flags) {
    int fdflags = fcntl(fd, F_GETFD);
    if (fdflags == -1 || fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC) == -1) return false;
    int flflags = fcntl(fd, F_GETFL);
    if (flflags == -1 || fcntl(fd, F_SETFL, flflags | O_NONBLOCK) == -1) return false;
  }
#ifdef SO_NOSIGPIPE
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof(on)) == -1) return false;
#endif
  return true;
}

// Closes fd without losing the errno that the caller is about to report.
void CloseKeepErrno(int fd) {
  int saved = errno;
  close(fd);
  errno = saved;
}

// A new non-blocking, close-on-exec socket, or -1 with errno set.
int OpenSocket(int family, int type) {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  bool atomic = true;
#else
  // macOS has no SOCK_NONBLOCK/SOCK_CLOEXEC: set both with fcntl. Another thread's fork+exec
  // in between could inherit the fd, as with every fcntl fallback (libuv does the same).
  int fd = socket(family, type, 0);
  bool atomic = false;
#endif
  if (fd == -1) return -1;
  if (!PrepareFd(fd, atomic)) {
    CloseKeepErrno(fd);
    return -1;
  }
  return fd;
}

namespace {

// Parses an IPv6 literal with an optional %scope (an interface name or number).
bool ParseIpv6(const std::string& host, int port, sockaddr_in6* in6) {
  size_t pct = host.find('%');
  std::string addr = host.substr(0, pct);
  unsigned scope_id = 0;
  if (pct != std::string::npos) {
    std::string scope = host.substr(pct + 1);
    if (scope.empty()) return false;
    char* end = nullptr;
    unsigned long n = std::strtoul(scope.c_str(), &end, 10);
    scope_id = *end == '\0' ? static_cast<unsigned>(n) : if_nametoindex(scope.c_str());
    if (scope_id == 0) return false;
  }
  if (inet_pton(AF_INET6, addr.c_str(), &in6->sin6_addr) != 1) return false;
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(static_cast<uint16_t>(port));
  in6->sin6_scope_id = scope_id;
  return true;
}

}  // namespace

// Parses a numeric IPv4 or IPv6 literal. 'localhost' is accepted as 127.0.0.1 so the common
// case needs no resolver; any other name throws ERR_INVALID_ARG_VALUE, because resolving names
// is the job of node:dns (and a blocking getaddrinfo has no place on the event loop).
bool ParseTcpAddress(Napi::Env env, const std::string& host, int port, Address* out) {
  std::memset(out, 0, sizeof(*out));
  std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (h.find(':') != std::string::npos) {
    if (ParseIpv6(h, port, reinterpret_cast<sockaddr_in6*>(&out->storage))) {
      out->len = sizeof(sockaddr_in6);
      return true;
    }
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&out->storage);
    if (inet_pton(AF_INET, h.c_str(), &in4->sin_addr) == 1) {
      in4->sin_family = AF_INET;
      in4->sin_port = htons(static_cast<uint16_t>(port));
      out->len = sizeof(sockaddr_in);
      return true;
    }
  }
  ThrowCodeError(env, "ERR_INVALID_ARG_VALUE",
                 "The argument 'host' must be a numeric IPv4 or IPv6 address or 'localhost'. "
                 "Received '" + host + "'");
  return false;
}

// Fills a sockaddr_un. A path that does not fit sun_path (with its terminating NUL) is the
// kernel's ENAMETOOLONG, reported against the syscall that would have taken it.
bool ParseUnixAddress(Napi::Env env, const std::string& path, const char* syscall, Address* out) {
  std::memset(out, 0, sizeof(*out));
  auto* un = reinterpret_cast<sockaddr_un*>(&out->storage);
  if (path.empty() || path.find('\0') != std::string::npos) {
    ThrowCodeError(env, "ERR_INVALID_ARG_VALUE",
                   "The argument 'path' must be a non-empty string without null bytes");
    return false;
  }
  if (path.size() >= sizeof(un->sun_path)) {
    ThrowErrno(env, ENAMETOOLONG, syscall);
    return false;
  }
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  out->len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return true;
}

bool ReadTcpAddress(const Napi::CallbackInfo& info, size_t i, Address* out) {
  std::string host;
  int64_t port;
  return ReadString(info, i, "host", &host) && ReadInt(info, i + 1, "port", 0, 65535, &port) &&
         ParseTcpAddress(info.Env(), host, static_cast<int>(port), out);
}

bool ReadUnixAddress(const Napi::CallbackInfo& info, size_t i, const char* syscall, Address* out) {
  std::string path;
  return ReadString(info, i, "path", &path) && ParseUnixAddress(info.Env(), path, syscall, out);
}

// Turns a socket address into { address, port }. A Unix socket has its path ('' when unnamed)
// and, when with_unix_port is set, port 0 (localAddress); accept() leaves the port out.
Napi::Value AddressToObject(Napi::Env env, const sockaddr_storage& ss, socklen_t len,
                            bool with_unix_port) {
  Napi::Object obj = Napi::Object::New(env);
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET) {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in4->sin_addr, buf, sizeof(buf));
    obj.Set("address", Napi::String::New(env, buf));
    obj.Set("port", Napi::Number::New(env, ntohs(in4->sin_port)));
  } else if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
    obj.Set("address", Napi::String::New(env, buf));
    obj.Set("port", Napi::Number::New(env, ntohs(in6->sin6_port)));
  } else if (ss.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
    size_t off = offsetof(sockaddr_un, sun_path);
    size_t max = len > off ? static_cast<size_t>(len) - off : 0;
    if (max > sizeof(un->sun_path)) max = sizeof(un->sun_path);
    // An abstract (Linux) or unnamed socket starts with NUL; both read as ''.
    size_t n = strnlen(un->sun_path, max);
    obj.Set("address", Napi::String::New(env, un->sun_path, n));
    if (with_unix_port) obj.Set("port", Napi::Number::New(env, 0));
  } else {
    obj.Set("address", Napi::String::New(env, ""));
    if (with_unix_port) obj.Set("port", Napi::Number::New(env, 0));
  }
  return obj;
}

}  // namespace iomux
