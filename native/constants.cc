// The C constants this OS has. Each is exported under its C name, only where defined, so
// that lib/constants.ts can tell a user which flags the platform really supports.
#include <poll.h>
#include <sys/select.h>
#if defined(__linux__)
#include <sys/epoll.h>
#endif

#include "addon.h"

namespace iomux {

#define IOMUX_SET(obj, name) obj.Set(#name, Napi::Number::New(env, static_cast<double>(name)))

void InitConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object c = Napi::Object::New(env);
  IOMUX_SET(c, FD_SETSIZE);
  IOMUX_SET(c, POLLIN);
  IOMUX_SET(c, POLLPRI);
  IOMUX_SET(c, POLLOUT);
  IOMUX_SET(c, POLLERR);
  IOMUX_SET(c, POLLHUP);
  IOMUX_SET(c, POLLNVAL);
#ifdef POLLRDNORM
  IOMUX_SET(c, POLLRDNORM);
#endif
#ifdef POLLRDBAND
  IOMUX_SET(c, POLLRDBAND);
#endif
#ifdef POLLWRNORM
  IOMUX_SET(c, POLLWRNORM);
#endif
#ifdef POLLWRBAND
  IOMUX_SET(c, POLLWRBAND);
#endif
#ifdef POLLMSG
  IOMUX_SET(c, POLLMSG);
#endif
#ifdef POLLRDHUP
  IOMUX_SET(c, POLLRDHUP);
#endif
#if defined(__linux__)
  IOMUX_SET(c, EPOLLIN);
  IOMUX_SET(c, EPOLLPRI);
  IOMUX_SET(c, EPOLLOUT);
  IOMUX_SET(c, EPOLLERR);
  IOMUX_SET(c, EPOLLHUP);
  IOMUX_SET(c, EPOLLRDNORM);
  IOMUX_SET(c, EPOLLRDBAND);
  IOMUX_SET(c, EPOLLWRNORM);
  IOMUX_SET(c, EPOLLWRBAND);
  IOMUX_SET(c, EPOLLMSG);
  IOMUX_SET(c, EPOLLRDHUP);
  IOMUX_SET(c, EPOLLEXCLUSIVE);
  IOMUX_SET(c, EPOLLWAKEUP);
  IOMUX_SET(c, EPOLLONESHOT);
  // EPOLLET is 1u << 31: exported as the signed 32-bit value JS bit operations produce.
  c.Set("EPOLLET", Napi::Number::New(env, static_cast<double>(static_cast<int32_t>(EPOLLET))));
  IOMUX_SET(c, EPOLL_CLOEXEC);
#endif
  AddSocketConstants(env, c);
  exports.Set("constants", c);
}

}  // namespace iomux
