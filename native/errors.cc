#include "errors.h"

#include <signal.h>
#include <uv.h>

#include <string>

namespace iomux {

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  // libuv's error numbers are the negated errno values on Unix, as in Node's fs errors.
  int uverr = -err;
  std::string msg = std::string(uv_err_name(uverr)) + ": " + uv_strerror(uverr) + ", " + syscall;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, uverr));
  e.Set("code", Napi::String::New(env, uv_err_name(uverr)));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

Napi::Error CodeError(Napi::Env env, const char* code, const std::string& msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall) {
  ErrnoError(env, err, syscall).ThrowAsJavaScriptException();
  return env.Undefined();
}

// The name Node gives the signal (os.constants.signals), for err.signal.
static std::string SignalName(int signum) {
  switch (signum) {
#define IOMUX_SIG(name) \
  case name:            \
    return #name;
    IOMUX_SIG(SIGHUP) IOMUX_SIG(SIGINT) IOMUX_SIG(SIGQUIT) IOMUX_SIG(SIGTRAP) IOMUX_SIG(SIGABRT)
    IOMUX_SIG(SIGBUS) IOMUX_SIG(SIGFPE) IOMUX_SIG(SIGUSR1) IOMUX_SIG(SIGUSR2) IOMUX_SIG(SIGPIPE)
    IOMUX_SIG(SIGALRM) IOMUX_SIG(SIGTERM) IOMUX_SIG(SIGCHLD) IOMUX_SIG(SIGCONT) IOMUX_SIG(SIGTSTP)
    IOMUX_SIG(SIGTTIN) IOMUX_SIG(SIGTTOU) IOMUX_SIG(SIGURG) IOMUX_SIG(SIGXCPU) IOMUX_SIG(SIGXFSZ)
    IOMUX_SIG(SIGVTALRM) IOMUX_SIG(SIGPROF) IOMUX_SIG(SIGWINCH) IOMUX_SIG(SIGIO) IOMUX_SIG(SIGSYS)
#undef IOMUX_SIG
    default:
      return "SIG" + std::to_string(signum);
  }
}

Napi::Value ThrowInterrupted(Napi::Env env, const char* syscall, int signum) {
  Napi::Error e = ErrnoError(env, EINTR, syscall);
  e.Set("signal", Napi::String::New(env, SignalName(signum)));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowTypeError(Napi::Env env, const std::string& msg) {
  Napi::TypeError e = Napi::TypeError::New(env, msg);
  e.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowRangeError(Napi::Env env, const std::string& msg) {
  Napi::RangeError e = Napi::RangeError::New(env, msg);
  e.Set("code", Napi::String::New(env, "ERR_OUT_OF_RANGE"));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowCodeError(Napi::Env env, const char* code, const std::string& msg) {
  CodeError(env, code, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Error ClosedError(Napi::Env env, const char* what) {
  return CodeError(env, "ERR_CLOSED", std::string("I/O operation on a closed ") + what);
}

Napi::Value ThrowClosed(Napi::Env env, const char* what) {
  ClosedError(env, what).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowBusy(Napi::Env env, const char* what) {
  return ThrowCodeError(env, "ERR_BUSY", std::string("a wait is already in progress on this ") + what);
}

}  // namespace iomux
