// The only code that builds errors. Each Throw* sets a pending JS exception and returns
// undefined, so a call site reads `return ThrowErrno(env, err, "epoll_ctl");`.
#pragma once

#include <napi.h>

namespace iomux {

// A failed syscall, shaped like Node's UVException: message "EBADF: bad file descriptor,
// epoll_ctl", err.errno = -EBADF (libuv numbering), err.code = 'EBADF', err.syscall.
Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall);
// A sync wait ended by a signal that JS listens for (sync_interrupt.h): ErrnoError(EINTR) with
// err.signal = 'SIGINT' (Node's name for signum).
Napi::Value ThrowInterrupted(Napi::Env env, const char* syscall, int signum);
// TypeError with code ERR_INVALID_ARG_TYPE.
Napi::Value ThrowTypeError(Napi::Env env, const std::string& msg);
// RangeError with code ERR_OUT_OF_RANGE.
Napi::Value ThrowRangeError(Napi::Env env, const std::string& msg);
// Plain Error with a library code such as ERR_CLOSED.
Napi::Value ThrowCodeError(Napi::Env env, const char* code, const std::string& msg);
// Error ERR_CLOSED, "I/O operation on a closed <what>": an object used after close().
Napi::Value ThrowClosed(Napi::Env env, const char* what);
Napi::Error ClosedError(Napi::Env env, const char* what);
// Error ERR_BUSY, "a wait is already in progress on this <what>".
Napi::Value ThrowBusy(Napi::Env env, const char* what);
// The same objects, built but not thrown (for rejecting promises).
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall);
Napi::Error CodeError(Napi::Env env, const char* code, const std::string& msg);

}  // namespace iomux
