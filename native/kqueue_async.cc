// Kqueue#waitAsync: an asynchronous wait with no thread. A kernel kqueue fd is itself pollable
// (it turns readable while events are pending), so a LoopWatch (loop_watch.h: a uv_poll_t and a
// uv_timer_t in Node's own loop) watches it; when it fires, one zero-timeout kevent() drains as
// many events as were asked for, and the timer ends the wait at its deadline. libkqueue's fd is
// not pollable (it is one end of a close-detection pipe): there the epoll fd libkqueue waits on
// internally is watched instead (FindLibkqueueEpoll), which turns readable in the same cases.
// The handles are made on the first wait and kept between waits; they are closed by close(), the
// destructor, or the env's async cleanup hook (see loop_watch.h for their lifetime). Same model
// as epoll_async.cc.
#include <errno.h>
#if defined(HAVE_LIBKQUEUE)
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>
#endif

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "kqueue.h"
#include "kqueue_record.h"
#include "loop_watch.h"
#include "timeout.h"

namespace iomux {

#if defined(HAVE_LIBKQUEUE)
// The target of /proc/self/fd/<fd> ("pipe:[123]", "anon_inode:[eventpoll]"), or "".
static std::string FdLink(const char* fd) {
  std::string path = std::string("/proc/self/fd/") + fd;
  char buf[128];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Whether the epoll fd `fd` watches one of `fds` without EPOLLONESHOT (/proc/self/fdinfo).
static bool WatchesPlainly(const char* fd, const std::set<int>& fds) {
  std::string path = std::string("/proc/self/fdinfo/") + fd;
  char line[256];
  FILE* f = fopen(path.c_str(), "re");
  if (f == nullptr) return false;
  bool found = false;
  while (!found && fgets(line, sizeof line, f) != nullptr) {
    int tfd;
    unsigned events;
    if (sscanf(line, "tfd: %d events: %x", &tfd, &events) == 2) {
      found = fds.count(tfd) > 0 && (events & 0x40000000u) == 0;  // EPOLLONESHOT
    }
  }
  fclose(f);
  return found;
}

// libkqueue's kqueue fd is not pollable: it is the write end of a pipe whose read end libkqueue
// adds to the kqueue's own epoll set (to notice the close), and with EPOLLONESHOT to one
// process-wide monitoring epoll. The kqueue's own epoll set holds every fd the emulated filters
// wait on, so it turns readable exactly when kevent() has something to return: that is the fd
// to watch. It is found through /proc and depends on libkqueue's layout (src/linux/platform.c,
// linux_kqueue_init); -1 when it is not as expected.
static int FindLibkqueueEpoll(int kq) {
  char self[16];
  snprintf(self, sizeof self, "%d", kq);
  std::string pipe = FdLink(self);
  if (pipe.compare(0, 5, "pipe:") != 0) return -1;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  std::set<int> read_ends;
  std::set<std::string> epolls;
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.' || strcmp(e->d_name, self) == 0) continue;
    std::string link = FdLink(e->d_name);
    if (link == pipe) read_ends.insert(atoi(e->d_name));
    if (link == "anon_inode:[eventpoll]") epolls.insert(e->d_name);
  }
  closedir(dir);
  for (const std::string& fd : epolls) {
    if (WatchesPlainly(fd.c_str(), read_ends)) return atoi(fd.c_str());
  }
  return -1;
}
#endif

int Kqueue::WatchFd() {
  if (watch_fd_ == -2) {
#if defined(HAVE_LIBKQUEUE)
    watch_fd_ = FindLibkqueueEpoll(fd_);
#else
    watch_fd_ = fd_;
#endif
  }
  return watch_fd_;
}

// The LoopWatch of one Kqueue: watches watch_fd and drains with a zero-timeout kevent() into
// the owner's buffer.
class KqueueWatch final : public OwnedWatch<Kqueue> {
 public:
  // Makes the handles watching watch_fd. Returns nullptr with *uverr set when libuv refuses.
  static KqueueWatch* Create(Napi::Env env, Kqueue* owner, int watch_fd, int* uverr);
  // Starts a wait that will call cb(err, count) after writing count records into out.
  int Start(Napi::Function cb, Napi::Int32Array out, double ms, int maxevents);

 private:
  KqueueWatch(Napi::Env env, Kqueue* owner) : OwnedWatch(env, owner) {}
  int Drain() override;
  void Complete(int n) override;
};

KqueueWatch* KqueueWatch::Create(Napi::Env env, Kqueue* owner, int watch_fd, int* uverr) {
  return Opened(new KqueueWatch(env, owner), watch_fd, uverr);
}

int KqueueWatch::Start(Napi::Function cb, Napi::Int32Array out, double ms, int maxevents) {
  int rc = BeginFor(cb, "iomux:Kqueue.controlAsync", out, ms, maxevents);
  if (rc != 0) return rc;
  owner_->stats_.Add(kStatCalls, 1);
  return 0;
}

int KqueueWatch::Drain() {
  Kqueue* k = owner_;
  if (k->events_.size() < static_cast<size_t>(maxevents_)) k->events_.resize(maxevents_);
  struct timespec zero = {0, 0};
  int n;
  do {
    long long t0 = k->stats_.Start();
    errno = 0;
    n = kevent(k->fd_, nullptr, 0, k->events_.data(), maxevents_, &zero);
    int err = errno;
    k->stats_.Stop(kStatSyscallNs, t0);
    k->stats_.Add(kStatSyscalls, 1);
    errno = (n < 0 && err == 0) ? EINVAL : err;  // libkqueue may fail without an errno.
  } while (n < 0 && errno == EINTR);
  return n;
}

void KqueueWatch::Complete(int n) {
  if (n < 0) {
    int err = errno;
    Finish(ErrnoError(env_, err, "kevent").Value(), env_.Undefined());
    return;
  }
  Napi::Int32Array out = pending_.out.Value();
  for (int i = 0; i < n; i++) PackKevent(owner_->events_[i], out.Data() + i * kKevWords);
  owner_->stats_.Add(kStatEvents, n);
  Finish(env_.Null(), Napi::Number::New(env_, n));
}

// waitAsync(out: Int32Array, maxevents, timeoutMs, callback(err, count)).
Napi::Value Kqueue::WaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  if (WaitPending()) {
    return ThrowBusy(env, "Kqueue");
  }
  Napi::Int32Array out;
  uint32_t maxevents;
  double ms;
  if (!ReadInt32Array(info, 0, "out", &out) || !ReadUint32(info, 1, "maxevents", &maxevents) ||
      !ReadTimeout(info, 2, &ms)) {
    return env.Undefined();
  }
  if (maxevents == 0 || maxevents > kMaxEvents || out.ElementLength() / kKevWords < maxevents) {
    return ThrowRangeError(env, "The value of \"maxevents\" is out of range");
  }
  if (!info[3].IsFunction()) {
    return ThrowTypeError(env, "The \"callback\" argument must be of type function");
  }
  KqueueWatch* w = static_cast<KqueueWatch*>(watch_);  // Only this file makes the watch.
  if (w == nullptr) {
    int watch_fd = WatchFd();
    if (watch_fd < 0) {
      return ThrowCodeError(env, "ERR_NOT_SUPPORTED",
                            "libkqueue's internal epoll fd was not found: no async waits");
    }
    int uverr;
    w = KqueueWatch::Create(env, this, watch_fd, &uverr);
    if (w == nullptr) return ThrowErrno(env, -uverr, "uv_poll_init");
    watch_ = w;
  }
  int rc = w->Start(info[3].As<Napi::Function>(), out, ms, static_cast<int>(maxevents));
  if (rc != 0) return ThrowErrno(env, -rc, "uv_poll_start");
  return env.Undefined();
}

Napi::Value Kqueue::CancelWait(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), CancelPendingWait());
}

}  // namespace iomux
