// readv/writev on raw fds: one syscall over many buffers. At most IOV_MAX buffers per call:
// more are refused (RangeError) rather than split over several syscalls, because a split
// writev is no longer one atomic write and a split readv could block midway; lib/iovec.ts
// says so and the caller slices. The iovec array lives on the stack, so a call allocates nothing.
#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <string>

#include "addon.h"
#include "args.h"
#include "io_result.h"

namespace iomux {

namespace {

#ifdef IOV_MAX
constexpr size_t kMaxIov = IOV_MAX;
#else
constexpr size_t kMaxIov = 1024;  // POSIX leaves it undefined where it is only known at run time
#endif

// Fills iov from a JS array of Uint8Arrays; returns the count, or -1 after throwing. All the
// elements are fetched before any data pointer is taken: fetching can run JS (a getter on the
// array), which could detach a buffer whose pointer was already stored.
ssize_t ReadIovecs(const Napi::CallbackInfo& info, size_t i, iovec* iov) {
  Napi::Env env = info.Env();
  if (!info[i].IsArray()) {
    ThrowTypeError(env, "The \"buffers\" argument must be an instance of Array");
    return -1;
  }
  Napi::Array list = info[i].As<Napi::Array>();
  uint32_t n = list.Length();
  if (n > kMaxIov) {
    ThrowRangeError(env, "The value of \"buffers.length\" is out of range. It must be <= " +
                             std::to_string(kMaxIov) + " (IOV_MAX)");
    return -1;
  }
  napi_value values[kMaxIov];
  for (uint32_t k = 0; k < n; k++) {
    if (napi_get_element(env, list, k, &values[k]) != napi_ok) return -1;
  }
  for (uint32_t k = 0; k < n; k++) {
    Napi::Value v(env, values[k]);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      ThrowTypeError(env, "The \"buffers[" + std::to_string(k) +
                              "]\" argument must be an instance of Uint8Array");
      return -1;
    }
    Napi::Uint8Array buf = v.As<Napi::Uint8Array>();
    iov[k].iov_base = buf.Data();
    iov[k].iov_len = buf.Data() == nullptr ? 0 : buf.ElementLength();
  }
  return n;
}

// Reads (fd, buffers); the buffer count, or -1 after throwing.
ssize_t ReadArgs(const Napi::CallbackInfo& info, int* fd, iovec* iov) {
  return ReadFd(info, 0, fd) ? ReadIovecs(info, 1, iov) : -1;
}

// readv(fd, buffers): bytes read (0 at EOF) or null on EAGAIN.
Napi::Value Readv(const Napi::CallbackInfo& info) {
  int fd;
  iovec iov[kMaxIov];
  ssize_t count = ReadArgs(info, &fd, iov);
  if (count < 0) return info.Env().Undefined();
  ssize_t n = RetryEintr([&] { return readv(fd, iov, static_cast<int>(count)); });
  return BytesOrNull(info.Env(), n, "readv");
}

// writev(fd, buffers): bytes written (maybe fewer than given) or null on EAGAIN. As write() in
// fd.cc: sendmsg with kNoSigpipeFlag on sockets, writev on pipes and files.
Napi::Value Writev(const Napi::CallbackInfo& info) {
  int fd;
  iovec iov[kMaxIov];
  ssize_t count = ReadArgs(info, &fd, iov);
  if (count < 0) return info.Env().Undefined();
  msghdr msg = {};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<size_t>(count);
  ssize_t n = WriteNoSigpipe([&] { return sendmsg(fd, &msg, kNoSigpipeFlag); },
                             [&] { return writev(fd, iov, static_cast<int>(count)); });
  return BytesOrNull(info.Env(), n, "writev");
}

}  // namespace

void InitIovec(Napi::Env env, Napi::Object exports) {
  exports.Set("readv", Napi::Function::New(env, Readv, "readv"));
  exports.Set("writev", Napi::Function::New(env, Writev, "writev"));
}

}  // namespace iomux
