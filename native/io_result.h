// The shape every non-blocking byte transfer shares: retry on EINTR, then return the byte count,
// null on EAGAIN (nothing to read, no room to write), or throw the errno.
#pragma once

#include <errno.h>
#include <napi.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "errors.h"

namespace iomux {

#if defined(MSG_NOSIGNAL)
constexpr int kNoSigpipeFlag = MSG_NOSIGNAL;
#else
constexpr int kNoSigpipeFlag = 0;  // macOS/BSD: sockets made here have SO_NOSIGPIPE (PrepareFd)
#endif

// Calls io() until it does not fail with EINTR; its result, with errno as it left it.
template <typename Io>
inline ssize_t RetryEintr(Io io) {
  ssize_t n;
  do n = io();
  while (n < 0 && errno == EINTR);
  return n;
}

// A socket write that cannot raise SIGPIPE: send_nosignal() (send/sendmsg with kNoSigpipeFlag)
// turns it into EPIPE; ENOTSOCK means a pipe or file, written with plain_write(), where Node
// already ignores SIGPIPE for the whole process. Without MSG_NOSIGNAL only plain_write() runs.
template <typename Send, typename Write>
inline ssize_t WriteNoSigpipe([[maybe_unused]] Send send_nosignal, Write plain_write) {
#if defined(MSG_NOSIGNAL)
  ssize_t n = RetryEintr(send_nosignal);
  if (n >= 0 || errno != ENOTSOCK) return n;
#endif
  return RetryEintr(plain_write);
}

// n bytes as a JS number, null on EAGAIN, or throws errno for syscall.
inline Napi::Value BytesOrNull(Napi::Env env, ssize_t n, const char* syscall) {
  if (n >= 0) return Napi::Number::New(env, static_cast<double>(n));
  int err = errno;
  if (err == EAGAIN || err == EWOULDBLOCK) return env.Null();
  return ThrowErrno(env, err, syscall);
}

}  // namespace iomux
